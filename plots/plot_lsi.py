#!/usr/bin/python3
"""Plots of the log-Sobolev behaviour of p_T1 (issue 7, docs/theory.md §5.6, claims 13-14) from the CSV
of build/bench/dmconv_lsi_profile --csv FILE, or from the HDF5 file of `dmconv lsi CONFIG`.

  plot_lsi.py FILE.csv [--out DIR]
  plot_lsi.py FILE_lsi.h5 [--out DIR]

HDF5 (results/README.md, "LSI profile files"): one figure with a panel per target: the
Bakry-Emery bound and, in 1-D, the Poincare and log-Sobolev constants (error bars: their
budgets; hollow: LSI search not converged) against T1, the level 1 - delta, T1* (solid vertical)
and the DERIVED sufficient time where the support radius is known (dashed vertical).

Figures: (1) per separation m, the Bakry-Emery bound, the log-Sobolev and Poincare constants and
half the measured KL decay rate against T1 (all tend to 1, the N(0, 1) value); (2) T1*(0.9), the
T1 at which the Bakry-Emery bound reaches 0.9, against the effective radius R, next to the
DERIVED sufficient (1/2) ln((1 + R^2)/0.1); (3) with --psi2 rows, that T1 against the psi2 norm K
of subgaussian_mixture, next to ln K + const; (4) with --dim rows, T1*(0.9) against the dimension d
(log axis) for the sphere, the random mixture and the product control, with the closed-form checks
(crosses) and the DERIVED sufficient (1/2) ln((1 + R^2)/0.1) (dashed; sphere and mixture share
R = sqrt d).
"""
import argparse
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save(fig, out, name):
    """Lay out, write OUT/NAME at 110 dpi and print its path (one line per figure)."""
    fig.tight_layout()
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110)
    print(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--out", default=None, help="output directory (default: next to the CSV)")
    args = parser.parse_args()
    if args.csv.endswith(".h5"):
        plot_h5(args.csv, args.out or os.path.dirname(os.path.abspath(args.csv)))
        return
    try:
        with open(args.csv, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit("plot_lsi: cannot read %s: %s" % (args.csv, e))
    profile = [r for r in rows if r["kind"] == "profile"]
    stars = [r for r in rows if r["kind"] == "t1_star"]
    norm_stars = [r for r in rows if r["kind"] == "t1_star_norm"]
    dim_stars = [r for r in rows if r["kind"] == "t1_star_dim"]
    if not profile:
        sys.exit("plot_lsi: %s has no 'profile' rows (is it dmconv_lsi_profile --csv output?)" % args.csv)
    out = args.out or os.path.dirname(os.path.abspath(args.csv))
    os.makedirs(out, exist_ok=True)
    if dim_stars:
        plot_dimension(dim_stars, out)

    separations = sorted({float(r["m"]) for r in profile})
    fig, axes = plt.subplots(1, len(separations), figsize=(4.2 * len(separations), 4), sharey=True, squeeze=False)
    for ax, m in zip(axes[0], separations):
        sel = sorted((r for r in profile if float(r["m"]) == m), key=lambda r: float(r["t1"]))
        t1 = [float(r["t1"]) for r in sel]
        ax.plot(t1, [float(r["kappa"]) for r in sel], "o-", label="Bakry-Emery bound")
        ax.plot(t1, [float(r["lsi"]) for r in sel], "s-", label="log-Sobolev (grid)")
        ax.plot(t1, [float(r["poincare"]) for r in sel], "^--", label="Poincare (grid)")
        ax.plot(t1, [0.5 * float(r["kl_rate"]) for r in sel], "x:", label="KL rate / 2 (Fokker-Planck)")
        ax.axhline(1.0, color="0.6", lw=0.8)
        ax.axhline(0.9, color="0.8", lw=0.8, ls="--")
        ax.set_ylim(-0.2, 1.1)
        ax.set_title("0.5 N(-%g, v) + 0.5 N(%g, v)" % (m, m), fontsize=9)
        ax.set_xlabel("T1")
    axes[0][0].set_ylabel("constant of p_T1")
    axes[0][0].legend(fontsize=7)
    save(fig, out, "lsi_constants_vs_t1.png")

    if stars:
        fig, ax = plt.subplots(figsize=(5, 4))
        radius = [float(r["radius"]) for r in stars]
        ax.plot(radius, [float(r["t1"]) for r in stars], "o-", label="T1 where Bakry-Emery reaches 0.9")
        grid = [min(radius) * (max(radius) / min(radius)) ** (k / 50) for k in range(51)]
        ax.plot(grid, [0.5 * math.log((1 + r * r) / 0.1) for r in grid], "-", color="0.5",
                label="(1/2) ln((1+R^2)/0.1) (DERIVED, sufficient)")
        ax.set_xscale("log")
        ax.set_xlabel("effective radius R = m + 3 sd")
        ax.set_ylabel("T1")
        ax.legend(fontsize=8)
        save(fig, out, "lsi_t1_needed_vs_radius.png")

    if norm_stars:
        fig, ax = plt.subplots(figsize=(5, 4))
        norm = [float(r["m"]) for r in norm_stars]
        ax.plot(norm, [float(r["t1"]) for r in norm_stars], "o-", label="T1 where Bakry-Emery reaches 0.9")
        top = float(norm_stars[-1]["t1"])
        ax.plot(norm, [top + math.log(k / norm[-1]) for k in norm], "--", color="0.5", label="ln K + const")
        ax.set_xscale("log")
        ax.set_xlabel("psi2 norm K (per direction) of subgaussian_mixture")
        ax.set_ylabel("T1")
        ax.legend(fontsize=8)
        save(fig, out, "lsi_t1_needed_vs_psi2_norm.png")


def plot_h5(path, out):
    try:
        import h5py
    except ImportError:
        sys.exit("plot_lsi: reading HDF5 needs python3-h5py")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        sys.exit("plot_lsi: cannot read %s: %s" % (path, e))
    with f:
        schema = f.attrs.get("schema", b"")
        schema = schema.decode() if isinstance(schema, bytes) else str(schema)
        if schema != "dmconv-lsi" or "profile" not in f or "t1_star" not in f:
            sys.exit("plot_lsi: %s is not a dmconv lsi file (schema %r)" % (path, schema))
        prof = {k: f["profile"][k][...] for k in f["profile"].keys()}
        star = {k: f["t1_star"][k][...] for k in f["t1_star"].keys()}
    def text(v):
        return v.decode() if isinstance(v, bytes) else str(v)
    targets = [text(t) for t in star["target"]]
    os.makedirs(out, exist_ok=True)
    fig, axes = plt.subplots(1, len(targets), figsize=(4.6 * len(targets), 4.2), squeeze=False)
    for ax, (i, name) in zip(axes[0], enumerate(targets)):
        rows = [j for j in range(len(prof["t1"])) if text(prof["target"][j]) == name]
        rows.sort(key=lambda j: prof["t1"][j])
        t1 = [prof["t1"][j] for j in rows]
        ax.plot(t1, [prof["kappa"][j] for j in rows], "o-", label="Bakry-Emery bound")
        if all(math.isfinite(prof["poincare"][j]) for j in rows):
            ax.errorbar(t1, [prof["poincare"][j] for j in rows], yerr=[prof["poincare_budget"][j] for j in rows],
                        fmt="^--", capsize=2, label="Poincare (grid)")
            for conv, marker, label in ((1, "s", "log-Sobolev (grid)"), (0, "s", "log-Sobolev (not converged)")):
                sel = [j for j in rows if int(prof["log_sobolev_converged"][j]) == conv]
                if sel:
                    ax.plot([prof["t1"][j] for j in sel], [prof["log_sobolev"][j] for j in sel], marker,
                            mfc="none" if conv == 0 else None, ls="none", label=label)
        if any(math.isfinite(prof["analytic_bound"][j]) for j in rows):
            ax.plot(t1, [prof["analytic_bound"][j] for j in rows], ":", color="0.4", label="DERIVED support bound")
        delta = float(star["delta"][i])
        ax.axhline(1 - delta, color="0.75", ls="--", lw=0.8)
        ax.axhline(1.0, color="0.6", lw=0.8)
        if math.isfinite(star["t1_star"][i]):
            ax.axvline(star["t1_star"][i], color="C3", lw=1.0,
                       label="T1* = %.3f (bound reaches %.2g)" % (star["t1_star"][i], 1 - delta))
        if math.isfinite(star["derived_t1"][i]):
            ax.axvline(star["derived_t1"][i], color="C3", ls="--", lw=1.0,
                       label="DERIVED %.3f (R = %.3g)" % (star["derived_t1"][i], star["support_radius"][i]))
        values = [prof["kappa"][j] for j in rows]
        ax.set_ylim(max(-1.0, min(values) - 0.1), max(1.1, max(values) + 0.05))
        ax.set_xlabel("T1")
        ax.set_title(name, fontsize=8)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("constant of p_T1")
    save(fig, out, os.path.splitext(os.path.basename(path))[0] + ".png")


def plot_dimension(rows, out):
    """T1*(0.9) against d (log axis) per target (the 'claim13' column names it), with the DERIVED value."""
    labels = {"sphere": "sphere S^{d-1}(sqrt d)", "mixture": "random mixture, |mu_k| = sqrt d",
              "product": "product of 1-D mixtures"}
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    derived = {}  # one dashed curve per distinct DERIVED curve (sphere and mixture share R = sqrt d)
    for i, name in enumerate(dict.fromkeys(r["claim13"] for r in rows)):
        sel = sorted((r for r in rows if r["claim13"] == name), key=lambda r: float(r["m"]))
        d = [float(r["m"]) for r in sel]
        colour = "C%d" % i
        ax.plot(d, [float(r["t1"]) for r in sel], "o-", color=colour, label=labels.get(name, name))
        check = [(x, float(r["t1_check"])) for x, r in zip(d, sel) if r.get("t1_check")]
        if check:
            ax.plot([c[0] for c in check], [c[1] for c in check], "x", color=colour, ms=8,
                    label="closed-form check (%s)" % name)
        key = tuple(round(float(r["derived_t1"]), 9) for r in sel)
        derived.setdefault(key, (d, colour, []))[2].append(name)
    for key, (d, colour, names) in derived.items():
        ax.plot(d, list(key), "--", color=colour if len(names) == 1 else "0.4", lw=1,
                label="DERIVED (1/2) ln((1+R^2)/0.1): %s" % ", ".join(names))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dimension d")
    ax.set_ylabel("T1")
    ax.set_title("T1*(0.9) vs d (log axis)", fontsize=10)
    ax.legend(fontsize=7)
    save(fig, out, "lsi_t1_needed_vs_dim.png")


if __name__ == "__main__":
    main()
