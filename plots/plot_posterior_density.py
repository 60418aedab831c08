#!/usr/bin/python3
"""Exact posterior densities next to the posterior samplers' histograms (issue 15 item 6).

    plot_posterior_density.py SAMPLES.h5 [--out-dir DIR] [--format png|pdf]

Reads a file written by `dmconv samples` (tables points, sampler_runs, samples, grid; layout in
results/README.md) and draws one figure per sweep point and number of steps T:

  * d = 1: the exact densities of pi and of every pi_eta in the file (cell mass / cell width,
    drawn as steps on the grid's cells) as lines, and each sampler's histogram on the same
    cells, normalised by its whole sample (draws outside the grid box count in the
    denominator, so the histogram estimates the sampler's law, not its restriction to the box);
  * d = 2: one row of panels -- exact pi_eta (every eta in the file), exact pi, then each
    sampler's 2-D histogram on the grid's cells -- sharing one colour scale (density per unit
    area), so a sampler's panel is read against the exact panels directly.

Titles name the target, the likelihood, the sampler(s), T (and what it counts for each
sampler) and eta. Points of d > 2 have no grid and are skipped (stderr says so). One line is
printed per file written (its path).

Exit codes: 0 success; 2 unusable input (missing file, not a `dmconv samples` file, missing
table or column); 1 missing Python packages.
"""

import argparse
import os
import re
import sys

try:
    import numpy as np
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import style   # plots/style.py: the look shared by every figure
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    sys.stderr.write(
        "plot_posterior_density.py: missing Python package (%s); install python3-numpy, "
        "python3-matplotlib and python3-h5py and run with /usr/bin/python3\n" % exc)
    sys.exit(1)

CONTENT = "posterior_samples"
REQUIRED = {
    "points": ["point_key", "target", "likelihood", "dim"],
    "sampler_runs": ["point_key", "sampler", "steps", "steps_meaning", "stationary_eta",
                     "particles_written"],
    "samples": ["point_key", "sampler", "steps", "x0"],
    "grid": ["point_key", "reference", "eta", "x0", "width0", "mass"],
}


class InputError(Exception):
    """The file cannot be plotted (exit 2)."""


def as_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_table(h5, name):
    if name not in h5:
        raise InputError("table '/%s' missing (is this a `dmconv samples` file?)" % name)
    group = h5[name]
    table = {}
    for column in group:
        data = group[column][()]
        if data.dtype.kind in ("O", "S"):
            data = np.array([as_text(v) for v in data], dtype=object)
        table[column] = data
    missing = [c for c in REQUIRED[name] if c not in table]
    if missing:
        raise InputError("table '/%s' lacks column(s) %s" % (name, ", ".join(missing)))
    return table


def load_samples_file(path):
    if not os.path.isfile(path):
        raise InputError("%s: no such file" % path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError("%s: not an HDF5 file (%s)" % (path, exc))
    with h5:
        content = as_text(h5.attrs.get("content", ""))
        if content != CONTENT:
            raise InputError("%s: root attribute content is '%s', not '%s' (write the file with "
                             "`dmconv samples`)" % (path, content, CONTENT))
        return {name: read_table(h5, name) for name in REQUIRED}


def select(table, **conditions):
    mask = np.ones(len(table["point_key"]), dtype=bool)
    for column, value in conditions.items():
        mask &= table[column] == value
    return mask


def sanitise(text):
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", text)


def format_eta(eta):
    return "%g" % eta


def cell_edges(centres, width):
    """Edges of uniform cells given their sorted centres and common width."""
    return np.concatenate([centres - 0.5 * width, [centres[-1] + 0.5 * width]])


def exact_laws(grid, point_key):
    """[(label, eta, centres per axis, widths per axis, mass)] for pi_eta (ascending eta) then pi."""
    rows = select(grid, point_key=point_key)
    etas = sorted(set(grid["eta"][rows].tolist()), reverse=True)
    laws = []
    for eta in etas:
        law = rows & (grid["eta"] == eta)
        reference = grid["reference"][law][0]
        label = "exact pi" if reference == "pi" else "exact pi_eta (eta = %s)" % format_eta(eta)
        laws.append((label, eta, law))
    return laws


def sampler_label(run, separator=", "):
    eta = run["stationary_eta"]
    parts = [run["sampler"], "T = %d [%s]" % (run["steps"], run["steps_meaning"])]
    parts.append("no stationary law" if np.isnan(eta) else "stationary eta = %s" % format_eta(eta))
    return separator.join(parts)


def shown_range(edges, exact_masses, draws):
    """(lo, hi) of the axis to show: the grid box is sized for the prior (means -+ 10 sd) and is
    mostly empty, so show the cells where some exact law has mass above 1e-5 of its peak and the
    central 99.8% of every sampler's draws, with two cells to spare on each side."""
    keep = np.zeros(len(edges) - 1, dtype=bool)
    for mass in exact_masses:
        keep |= mass >= 1e-5 * mass.max()
    lo, hi = edges[:-1][keep].min(), edges[1:][keep].max()
    for values in draws:
        finite = values[np.isfinite(values)]
        if len(finite):
            lo = min(lo, np.quantile(finite, 0.001))
            hi = max(hi, np.quantile(finite, 0.999))
    spare = 2.0 * (edges[1] - edges[0])
    return max(lo - spare, edges[0]), min(hi + spare, edges[-1])


def runs_at(tables, point_key, steps):
    runs = tables["sampler_runs"]
    rows = np.nonzero(select(runs, point_key=point_key, steps=steps))[0]
    return [{column: runs[column][i] for column in runs} for i in rows]


def draws_of(tables, point_key, sampler, steps, dim):
    samples = tables["samples"]
    rows = select(samples, point_key=point_key, sampler=sampler, steps=steps)
    return np.stack([samples["x%d" % k][rows] for k in range(dim)], axis=1)


def figure_title(point, steps):
    key = point["point_key"]
    return "posterior of %s\nwith %s%s; T = %d" % (
        point["target"], point["likelihood"], ("; " + key.rstrip(";")) if key else "", steps)


def plot_1d(tables, point, steps, out_path):
    grid = tables["grid"]
    style.apply()
    runs = runs_at(tables, point["point_key"], steps)
    look = style.SamplerStyle({str(run["sampler"]) for run in runs})
    fig, ax = plt.subplots(figsize=(11.0, 5.0), layout="constrained")
    notes = []
    edges = None
    masses, all_draws = [], []
    for label, _, law in exact_laws(grid, point["point_key"]):
        order = np.argsort(grid["x0"][law])
        centres = grid["x0"][law][order]
        width = grid["width0"][law][order][0]
        density = grid["mass"][law][order] / width
        edges = cell_edges(centres, width)
        masses.append(grid["mass"][law][order])
        # The exact laws in black (pi) and grey (pi_eta, the reference level of DPnP).
        ax.stairs(density, edges, linewidth=2.0, label=label,
                  color="k" if label == "exact pi" else style.FLOOR_COLOUR,
                  linestyle="-" if label == "exact pi" else "--")
    for run in runs:
        draws = draws_of(tables, point["point_key"], run["sampler"], steps, 1)[:, 0]
        all_draws.append(draws)
        finite = draws[np.isfinite(draws)]
        counts, _ = np.histogram(finite, bins=edges)
        density = counts / (len(draws) * np.diff(edges))
        ax.stairs(density, edges, fill=True, alpha=0.35, color=look.color[str(run["sampler"])],
                  label="%s, n = %d" % (sampler_label(run), len(draws)))
        outside = len(draws) - counts.sum()
        if outside:
            notes.append("%s: %d of %d draws outside the grid box (or not finite)"
                         % (run["sampler"], outside, len(draws)))
    ax.set_xlim(*shown_range(edges, masses, all_draws))
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title(figure_title(point, steps), fontsize=style.TITLE_SIZE)
    # Beside the axes: inside, it would hide the peaks it describes.
    ax.legend(fontsize=style.LEGEND_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if notes:
        ax.annotate("\n".join(notes), xy=(0.0, 0.0), xycoords="axes fraction", xytext=(0, -36),
                    textcoords="offset points", fontsize=style.LEGEND_SIZE, va="top")
    fig.savefig(out_path, dpi=style.DPI)
    plt.close(fig)


def grid_2d(grid, law):
    """(edges0, edges1, density[i1, i0]) of a 2-D grid law."""
    x0, x1 = grid["x0"][law], grid["x1"][law]
    w0, w1 = grid["width0"][law][0], grid["width1"][law][0]
    centres0, centres1 = np.unique(x0), np.unique(x1)
    density = np.zeros((len(centres1), len(centres0)))
    density[np.searchsorted(centres1, x1), np.searchsorted(centres0, x0)] = grid["mass"][law] / (w0 * w1)
    return cell_edges(centres0, w0), cell_edges(centres1, w1), density


def plot_2d(tables, point, steps, out_path):
    grid = tables["grid"]
    style.apply()
    panels = []
    edges0 = edges1 = None
    for label, _, law in exact_laws(grid, point["point_key"]):
        edges0, edges1, density = grid_2d(grid, law)
        panels.append((label, density))
    exact_densities = [density for _, density in panels]
    all_draws = []
    for run in runs_at(tables, point["point_key"], steps):
        draws = draws_of(tables, point["point_key"], run["sampler"], steps, 2)
        all_draws.append(draws)
        finite = draws[np.all(np.isfinite(draws), axis=1)]
        counts, _, _ = np.histogram2d(finite[:, 0], finite[:, 1], bins=[edges0, edges1])
        area = np.outer(np.diff(edges0), np.diff(edges1))
        panels.append(("%s\nn = %d" % (sampler_label(run, "\n"), len(draws)), (counts / (len(draws) * area)).T))
    vmax = max(float(np.max(density)) for _, density in panels)
    # Marginal masses of the exact laws (density[i1, i0]) size each axis's shown range.
    range0 = shown_range(edges0, [d.sum(axis=0) for d in exact_densities], [x[:, 0] for x in all_draws])
    range1 = shown_range(edges1, [d.sum(axis=1) for d in exact_densities], [x[:, 1] for x in all_draws])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 1.0, 4.4), squeeze=False,
                             sharex=True, sharey=True, layout="constrained")
    mesh = None
    for ax, (label, density) in zip(axes[0], panels):
        mesh = ax.pcolormesh(edges0, edges1, density, vmin=0.0, vmax=vmax, cmap="viridis",
                             shading="flat")
        ax.set_title(label, fontsize=style.TITLE_SIZE - 1)
        ax.grid(False)
        ax.set_xlabel("x0")
        ax.set_xlim(*range0)
        ax.set_ylim(*range1)
    axes[0][0].set_ylabel("x1")
    fig.colorbar(mesh, ax=axes[0].tolist(), label="density per unit area", shrink=0.9)
    fig.suptitle(figure_title(point, steps), fontsize=style.TITLE_SIZE)
    fig.savefig(out_path, dpi=style.DPI)
    plt.close(fig)


def plot_file(tables, out_dir, fmt):
    points = tables["points"]
    written = []
    for i in range(len(points["point_key"])):
        point = {column: points[column][i] for column in points}
        key = point["point_key"]
        dim = int(point["dim"])
        if dim > 2 or not np.any(select(tables["grid"], point_key=key)):
            sys.stderr.write("plot_posterior_density.py: point '%s' (d = %d) has no grid law; skipped\n"
                             % (key, dim))
            continue
        runs = tables["sampler_runs"]
        for steps in sorted(set(runs["steps"][select(runs, point_key=key)].tolist())):
            name = "posterior_density" + ("__" + sanitise(key.rstrip(";")) if key else "") + "__T=%d.%s" % (steps, fmt)
            out_path = os.path.join(out_dir, name)
            (plot_1d if dim == 1 else plot_2d)(tables, point, steps, out_path)
            written.append(out_path)
            print(out_path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", help="HDF5 file written by `dmconv samples`")
    parser.add_argument("--out-dir", help="output directory (default: <stem>_density/ next to the file)")
    parser.add_argument("--format", choices=["png", "pdf"], default="png")
    args = parser.parse_args(argv)
    out_dir = args.out_dir or os.path.splitext(args.samples)[0] + "_density"
    try:
        tables = load_samples_file(args.samples)  # every input error before a directory is made
        os.makedirs(out_dir, exist_ok=True)
        plot_file(tables, out_dir, args.format)
    except InputError as exc:
        sys.stderr.write("plot_posterior_density.py: error: %s\n" % exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
