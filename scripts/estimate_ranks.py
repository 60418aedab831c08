#!/usr/bin/env python3
"""Wall time of a sweep on R MPI ranks, estimated from the measured cost of each of its runs.

Reads a results file of the sweep (any rank count, /runs column wall_seconds: each estimator's
time, repeated on every row -- metric, oracle -- of that estimator; a run's cost is the sum over its
estimators) and replays dmconv's scheduler (docs/cluster.md "MPI"): runs in decreasing order of the cost
estimate T x particles (ties in run order), each handed to the rank that becomes free first. Prints,
for each R, the estimated wall time, the lower bound max(total / R, longest run) and the efficiency
total / (R x wall). Messages and the checkpoints are not modelled (measured: docs/cluster.md).

--extend AXIS=V1,V2,... adds runs at new values of a numeric swept axis (e.g. target.dim=128,256):
for each sampler, log(cost) is fitted by least squares as a + b log(axis) + c log(T) over that
sampler's runs at the --fit-points largest values of the axis (default 3: the regime nearest to
the extrapolation; small d is dominated by fixed costs), and every run at the largest measured value of the axis is copied to each new
value with the fitted cost. A paper estimate: it assumes the fitted power law continues.

Usage: estimate_ranks.py RESULTS.h5 [--ranks 1 2 64] [--extend target.dim=128,256,512,1024 [--fit-points 3]]
"""
import argparse
import heapq
import sys

import h5py
import numpy as np


def strings(dataset):
    return [v.decode() if isinstance(v, bytes) else v for v in dataset[...]]


def read_runs(path):
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        index = runs["run_index"][...]
        kind = strings(runs["kind"])
        wall = runs["wall_seconds"][...]
        steps, particles = runs["steps"][...], runs["particles"][...]
        sampler = strings(runs["sampler"])
        estimator = strings(runs["estimator"])
        columns = [c.decode() if isinstance(c, bytes) else c for c in runs.attrs["column_order"]]
        swept = {c: runs[c][...] for c in columns if c.startswith(("target.", "sampling.", "schedule.", "score_error."))
                 and runs[c].dtype.kind in "fi"}
    out = {}
    counted = set()
    for row in range(len(index)):
        if kind[row] == "oracle" or (int(index[row]), estimator[row]) in counted:
            continue
        counted.add((int(index[row]), estimator[row]))
        run = out.setdefault(int(index[row]), {"cost": 0.0, "steps": int(steps[row]), "particles": int(particles[row]),
                                               "sampler": sampler[row],
                                               "axes": {c: float(v[row]) for c, v in swept.items()}})
        run["cost"] += float(wall[row])
    return [dict(run, index=i) for i, run in sorted(out.items())]


def extend(runs, axis, values, fit_points):
    """Runs at new values of `axis`, their costs from a per-sampler power law in the axis and T."""
    if any(axis not in run["axes"] for run in runs):
        sys.exit(f"estimate_ranks: the results have no numeric swept column '{axis}'")
    largest = max(run["axes"][axis] for run in runs)
    added = []
    for sampler in sorted({run["sampler"] for run in runs}):
        levels = sorted({run["axes"][axis] for run in runs if run["sampler"] == sampler})[-fit_points:]
        mine = [run for run in runs if run["sampler"] == sampler and run["cost"] > 0 and run["axes"][axis] in levels]
        with_steps = len({run["steps"] for run in mine}) > 1  # one T: no T exponent to fit
        x = np.array([[1.0, np.log(run["axes"][axis])] + ([np.log(run["steps"])] if with_steps else []) for run in mine])
        y = np.log([run["cost"] for run in mine])
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        steps_term = f" x T^{coef[2]:.2f}" if with_steps else ""
        print(f"  {sampler}: cost ~ {axis}^{coef[1]:.2f}{steps_term} (fitted on {len(mine)} runs)")
        for run in mine:
            if run["axes"][axis] != largest:
                continue
            for value in values:
                copy = dict(run, axes=dict(run["axes"], **{axis: value}), index=len(runs) + len(added))
                copy["cost"] = run["cost"] * (value / largest) ** coef[1]
                added.append(copy)
    return runs + added


def schedule(runs, ranks):
    """dmconv's order (T x particles, decreasing; ties by run index) to the first free rank."""
    order = sorted(runs, key=lambda run: (-run["steps"] * max(run["particles"], 1), run["index"]))
    free = [(0.0, r) for r in range(ranks)]
    end = 0.0
    for run in order:
        start, rank = heapq.heappop(free)
        heapq.heappush(free, (start + run["cost"], rank))
        end = max(end, start + run["cost"])
    return end


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--extend", help="AXIS=V1,V2,...: add runs at new values of a numeric swept axis")
    parser.add_argument("--replicates", type=int, default=1,
                        help="count every run this many times (a sweep with more [sampling] replicates, same costs)")
    parser.add_argument("--fit-points", type=int, default=3, help="largest axis values the cost law is fitted on")
    args = parser.parse_args()
    runs = read_runs(args.results)
    if args.extend:
        axis, _, values = args.extend.partition("=")
        print(f"extending {axis} to {values}:")
        runs = extend(runs, axis, [float(v) for v in values.split(",")], args.fit_points)
    runs = [dict(run, index=k * len(runs) + run["index"]) for k in range(args.replicates) for run in runs]
    total = sum(run["cost"] for run in runs)
    longest = max(run["cost"] for run in runs)
    print(f"{len(runs)} runs, {total:.1f} s of run time in all, longest run {longest:.1f} s")
    print(f"{'ranks':>6} {'wall s':>10} {'bound s':>10} {'efficiency':>10}")
    for r in args.ranks:
        wall = schedule(runs, r)
        print(f"{r:>6} {wall:>10.1f} {max(total / r, longest):>10.1f} {total / (r * wall):>10.2f}")


if __name__ == "__main__":
    main()
