#!/usr/bin/env python3
"""The peer comparison (issue 16 item 4): dmconv against plain PyTorch and NumPy code on one
DDIM and one DDPM problem, in one invocation. `make bench-peers` runs it; see README.md here.

1. build/bench/dmconv_peer_moments prints the problem (mixture, time grid, n) as dmconv defines
   it (bench/bench_targets.hpp) and the moments of dmconv's output. The linear schedule is
   recomputed here from its formula (src/schedules/linear_schedule.cpp) and checked against
   dmconv's grid; the peers then use dmconv's grid values.
2. build/bench/dmconv_bench --benchmark_filter=^peers/ times dmconv (particle_steps/s).
3. peer_torch.py and peer_numpy.py run the same samplers on the same problem, timed here
   (initial draw plus all T steps, as dmconv's run is timed).
4. Prints the throughput table and the moment check: per coordinate, the mean and the second
   moment E[x_i^2] of the final samples of dmconv and of each peer must agree within
   --tolerance standard errors (exit 1 otherwise); their distance to the exact target moments
   is printed for orientation only (it includes the T = 100 discretisation error).
Usage: run_peers.py [--build-dir build] [--threads 2] [--repeats 1] [--peers torch numpy]
"""
import argparse
import importlib
import json
import math
import os
import pathlib
import resource
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
SAMPLER_NAMES = ("ddim", "ddpm")


def linear_log_abar(steps, beta_start=1e-4, beta_end=0.02, base_steps=1000):
    """log abar_t, t = 0..T, of dmconv's `linear` schedule (defaults) respaced to T steps:
    base betas rise linearly over N base steps; level t sits at u = N t / T, with log abar
    interpolated linearly between integer base steps."""
    base = [0.0]
    for j in range(1, base_steps + 1):
        beta = beta_start + (beta_end - beta_start) * (j - 1) / (base_steps - 1)
        base.append(base[-1] + math.log1p(-beta))
    out = [0.0]
    for t in range(1, steps + 1):
        k, remainder = divmod(base_steps * t, steps)
        value = base[k]
        if remainder:
            value += remainder / steps * (base[k + 1] - base[k])
        out.append(value)
    return out


def moments(x):
    """Per coordinate: mean, its SE, second moment E[x^2], its SE (x is (n, d))."""
    import numpy as np

    n = x.shape[0]
    squares = x**2
    return {"mean": x.mean(axis=0), "mean_se": x.std(axis=0, ddof=1) / math.sqrt(n),
            "second": squares.mean(axis=0), "second_se": squares.std(axis=0, ddof=1) / math.sqrt(n)}


def max_z(a, b, key):
    """max over coordinates of |a - b| / sqrt(se_a^2 + se_b^2); b may carry no SE (exact)."""
    import numpy as np

    a_value, b_value = np.asarray(a[key]), np.asarray(b[key])
    se2 = np.asarray(a[key + "_se"]) ** 2 + (np.asarray(b[key + "_se"]) ** 2 if key + "_se" in b else 0.0)
    return float(np.max(np.abs(a_value - b_value) / np.sqrt(se2)))


def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime, usage.ru_stime


def sys_share(before, after):
    """The system share of the CPU time between two cpu_seconds() readings (page faults, thread
    waits: on some VMs, memory handed back to the OS and touched again costs more than the work)."""
    user, system = after[0] - before[0], after[1] - before[1]
    return system / (user + system) if user + system > 0 else float("nan")


def run_dmconv_bench(build, env):
    rates = {}
    for sampler in SAMPLER_NAMES:
        command = [str(build / "bench" / "dmconv_bench"), "--benchmark_filter=^peers/%s/" % sampler,
                   "--benchmark_format=json"]
        print("$ OMP_NUM_THREADS=%s %s" % (env["OMP_NUM_THREADS"], " ".join(command)), flush=True)
        before = cpu_seconds(resource.RUSAGE_CHILDREN)
        report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout)
        share = sys_share(before, cpu_seconds(resource.RUSAGE_CHILDREN))
        (entry,) = report["benchmarks"]
        rates[sampler] = {"rate": entry["particle_steps/s"], "threads": int(entry["threads"]),
                          "iterations": entry["iterations"], "sys_share": share}
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default="build", help="dmconv build directory (default: build)")
    parser.add_argument("--threads", type=int, default=2, help="threads for dmconv and the peers (default: 2)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per peer and sampler; the mean rate is reported")
    parser.add_argument("--peers", nargs="+", default=["torch", "numpy"], choices=["torch", "numpy"])
    parser.add_argument("--tolerance", type=float, default=6.0, help="moment check: max |z| allowed (default: 6)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the peers' generators and of dmconv's moment run")
    args = parser.parse_args()
    build = pathlib.Path(args.build_dir)

    # Thread settings before numpy / torch are imported.
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = env[variable] = str(args.threads)
    sys.path.insert(0, str(HERE))
    import numpy as np

    # 1. The problem and dmconv's output moments.
    command = [str(build / "bench" / "dmconv_peer_moments"), "--seed", str(args.seed)]
    print("$ OMP_NUM_THREADS=%d %s" % (args.threads, " ".join(command)), flush=True)
    reference = json.loads(subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout)
    problem = reference["problem"]
    steps, n = problem["steps"], problem["particles"]
    assert problem["stop_index"] == 0 and problem["initialisation"] == "exact_marginal", problem
    ours = linear_log_abar(steps)
    grid_error = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(ours, problem["log_abar"]))
    print("time grid: %s, T = %d; log abar recomputed here from the linear formula: max relative "
          "difference %.1e" % (problem["schedule"], steps, grid_error))
    if len(ours) != len(problem["log_abar"]) or grid_error > 1e-12:
        print("FAIL: the recomputed linear grid differs from dmconv's", file=sys.stderr)
        return 1
    abar = [math.exp(value) for value in problem["log_abar"]]  # abar[0] = 1, the data level
    weights, means, variances = problem["weights"], problem["means"], problem["variances"]

    # 2. dmconv's throughput.
    dmconv = run_dmconv_bench(build, env)

    # 3. The peers: throughput and moments.
    peers, versions = {}, {}
    for peer_name in args.peers:
        module = importlib.import_module("peer_" + peer_name)
        versions[peer_name] = module.setup(args.threads)
        mixture = module.Mixture(weights, means, variances)
        peers[peer_name] = {}
        for sampler in SAMPLER_NAMES:
            seconds = []
            before = cpu_seconds(resource.RUSAGE_SELF)
            for repeat in range(args.repeats):
                start = time.perf_counter()
                x = module.SAMPLERS[sampler](mixture, abar, n, args.seed + repeat)
                seconds.append(time.perf_counter() - start)
            x = module.to_numpy(x)
            share = sys_share(before, cpu_seconds(resource.RUSAGE_SELF))
            rates = [n * steps / s for s in seconds]
            peers[peer_name][sampler] = {"rate": sum(rates) / len(rates), "seconds": seconds, "sys_share": share,
                                         "moments": moments(x), "finite": bool(np.isfinite(x).all())}
            print("%s %s: %s s" % (peer_name, sampler, ", ".join("%.2f" % s for s in seconds)), flush=True)

    # 4. The table.
    print()
    print("Peer comparison: d = %d, K = %d isotropic Gaussian mixture, exact score, n = %d, T = %d "
          "(linear schedule), Y_T exact, %d threads" % (problem["dim"], len(weights), n, steps, args.threads))
    print("versions: %s" % ", ".join("%s %s" % item for item in versions.items()))
    print("particle-steps/s (n T / wall seconds, initial draw included); ratio = dmconv / peer")
    header = ["sampler", "dmconv"] + args.peers + ["dmconv/" + p for p in args.peers]
    rows = []
    for sampler in SAMPLER_NAMES:
        rows.append([sampler, "%.3g" % dmconv[sampler]["rate"]] +
                    ["%.3g" % peers[p][sampler]["rate"] for p in args.peers] +
                    ["%.1f" % (dmconv[sampler]["rate"] / peers[p][sampler]["rate"]) for p in args.peers])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    print("system share of the CPU time (page faults, waits): " + "; ".join(
        "%s dmconv %.0f%%, %s" % (sampler, 100 * dmconv[sampler]["sys_share"], ", ".join(
            "%s %.0f%%" % (p, 100 * peers[p][sampler]["sys_share"]) for p in args.peers)) for sampler in SAMPLER_NAMES))
    if any(dmconv[s]["threads"] != args.threads for s in SAMPLER_NAMES):
        print("note: dmconv_bench ran with %s threads" % {s: dmconv[s]["threads"] for s in SAMPLER_NAMES})

    # 5. The moment check.
    means_array, variances_array, weights_array = np.asarray(means), np.asarray(variances), np.asarray(weights)
    exact = {"mean": weights_array @ means_array,
             "second": weights_array @ (means_array**2 + variances_array[:, None])}
    print()
    print("Moment check of Y_0 (per coordinate mean and E[x_i^2], max |z| over the %d coordinates; "
          "fail above %g):" % (problem["dim"], args.tolerance))
    failed = False
    for sampler in SAMPLER_NAMES:
        ours_moments = reference["samplers"][sampler]
        if ours_moments["status"] != "ok":
            print("  %s: dmconv status %s" % (sampler, ours_moments["status"]))
            failed = True
        print("  %s dmconv vs exact target: mean %.1f, second %.1f (orientation: includes the T = %d "
              "discretisation error)" % (sampler, max_z(ours_moments, exact, "mean"),
                                          max_z(ours_moments, exact, "second"), steps))
        for peer_name in args.peers:
            result = peers[peer_name][sampler]
            z_mean, z_second = max_z(ours_moments, result["moments"], "mean"), max_z(ours_moments, result["moments"], "second")
            ok = result["finite"] and z_mean <= args.tolerance and z_second <= args.tolerance
            failed |= not ok
            print("  %s dmconv vs %-5s: mean %.1f, second %.1f -> %s   (%s vs exact: mean %.1f, second %.1f)"
                  % (sampler, peer_name, z_mean, z_second, "ok" if ok else "FAIL", peer_name,
                     max_z(result["moments"], exact, "mean"), max_z(result["moments"], exact, "second")))
    print("moment check: %s" % ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
