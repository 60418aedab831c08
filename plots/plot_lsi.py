#!/usr/bin/python3
"""Plots of the log-Sobolev behaviour of p_T1 (docs/theory.md §5.6, claims 13-14) from the HDF5 file
of `dmconv lsi CONFIG`.

  plot_lsi.py FILE_lsi.h5 [--out DIR]

HDF5 (results/README.md, "LSI profile files"): one figure with a panel per target: the
Bakry-Emery bound and, in 1-D, the Poincare and log-Sobolev constants (error bars: their
budgets; hollow: LSI search not converged) against T1, the level 1 - delta, T1* (solid vertical)
and the DERIVED sufficient time where the support radius is known (dashed vertical).
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402  (plots/style.py: the look shared by every figure)


def save(fig, out, name):
    """Lay out, write OUT/NAME at 110 dpi and print its path (one line per figure)."""
    fig.tight_layout()
    path = os.path.join(out, name)
    fig.savefig(path, dpi=style.DPI)
    print(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("h5", help="the HDF5 file written by `dmconv lsi CONFIG`")
    parser.add_argument("--out", default=None, help="output directory (default: next to the file)")
    args = parser.parse_args()
    plot_h5(args.h5, args.out or os.path.dirname(os.path.abspath(args.h5)))


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
    style.apply()
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
                            mfc=style.HOLLOW["mfc"] if conv == 0 else None, ls="none", label=label)
        if any(math.isfinite(prof["analytic_bound"][j]) for j in rows):
            ax.plot(t1, [prof["analytic_bound"][j] for j in rows], ":", color=style.FLOOR_COLOUR, label="DERIVED support bound")
        delta = float(star["delta"][i])
        ax.axhline(1 - delta, color=style.FLOOR_COLOUR, ls="--", lw=0.8)
        ax.axhline(1.0, color=style.FLOOR_COLOUR, lw=0.8)
        if math.isfinite(star["t1_star"][i]):
            ax.axvline(star["t1_star"][i], color="C3", lw=1.0,
                       label="T1* = %.3f (bound reaches %.2g)" % (star["t1_star"][i], 1 - delta))
        if math.isfinite(star["derived_t1"][i]):
            ax.axvline(star["derived_t1"][i], color="C3", ls="--", lw=1.0,
                       label="DERIVED %.3f (R = %.3g)" % (star["derived_t1"][i], star["support_radius"][i]))
        values = [prof["kappa"][j] for j in rows]
        ax.set_ylim(max(-1.0, min(values) - 0.1), max(1.1, max(values) + 0.05))
        ax.set_xlabel("T1")
        ax.set_title(name, fontsize=style.TITLE_SIZE)
        ax.legend(fontsize=style.LEGEND_SIZE)
    axes[0][0].set_ylabel("constant of p_T1")
    save(fig, out, os.path.splitext(os.path.basename(path))[0] + ".png")


if __name__ == "__main__":
    main()
