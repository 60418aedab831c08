#!/usr/bin/python3
"""How the mixture score's cost grows with d and K (issue 16, item 6).

    build/bench/dmconv_bench --benchmark_filter='^score/' --benchmark_format=json > score.json
    plots/plot_bench_scaling.py score.json --out-dir results/bench_scaling

Reads the `score/mixture/K8/d*` and `score/mixture/d16/K*` cases, draws time per particle
against d (K = 8) and against K (d = 16) on log-log axes with the ideal linear line, and prints
the least-squares slope of log time on log d (d >= 16, where per-particle overheads no longer
dominate) and of log time on log K (K >= 4). Linear cost in d K is slope 1 in both.
Needs python3-matplotlib and python3-numpy.
"""
import argparse
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402  (plots/style.py: the look shared by every figure)


def read_cases(path):
    with open(path) as f:
        report = json.load(f)
    by_d, by_k = {}, {}
    for bench in report["benchmarks"]:
        if bench.get("run_type") == "aggregate":
            continue
        seconds_per_particle = 1.0 / bench["particles/s"]
        match = re.fullmatch(r"score/mixture/K8/d(\d+)(/.*)?", bench["name"])
        if match:
            by_d[int(match.group(1))] = seconds_per_particle
        match = re.fullmatch(r"score/mixture/d16/K(\d+)(/.*)?", bench["name"])
        if match:
            by_k[int(match.group(1))] = seconds_per_particle
    if not by_d or not by_k:
        raise SystemExit(f"{path}: no score/mixture cases (run dmconv_bench --benchmark_filter='^score/')")
    return by_d, by_k


def slope(points, minimum):
    xs = np.array([x for x in sorted(points) if x >= minimum], dtype=float)
    ys = np.array([points[int(x)] for x in xs])
    return np.polyfit(np.log(xs), np.log(ys), 1)[0]


def draw(points, label, minimum, path):
    xs = np.array(sorted(points), dtype=float)
    ns = np.array([points[int(x)] for x in xs]) * 1e9
    fitted = slope(points, minimum)
    style.apply()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(xs, ns, "-", color=style.colour(0), marker=style.marker(0), label="measured")
    anchor = xs[-1]
    ax.loglog(xs, ns[-1] * xs / anchor, color=style.FLOOR_COLOUR, **dict(style.CLAIM_LINE, alpha=1.0),
              label="linear")
    ax.set_xlabel(label)
    ax.set_ylabel("ns per particle (one thread)")
    ax.set_title(f"mixture score: slope {fitted:.2f} ({label} >= {minimum})", fontsize=style.TITLE_SIZE)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=style.DPI)
    plt.close(fig)
    return fitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json")
    parser.add_argument("--out-dir", default="results/bench_scaling")
    args = parser.parse_args()
    by_d, by_k = read_cases(args.json)
    os.makedirs(args.out_dir, exist_ok=True)
    slope_d = draw(by_d, "d (K = 8)", 16, os.path.join(args.out_dir, "score_cost_vs_d.png"))
    slope_k = draw(by_k, "K (d = 16)", 4, os.path.join(args.out_dir, "score_cost_vs_K.png"))
    print(f"slope in d (K = 8, d >= 16): {slope_d:.3f}")
    print(f"slope in K (d = 16, K >= 4): {slope_k:.3f}")


if __name__ == "__main__":
    main()
