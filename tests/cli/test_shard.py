"""Job arrays without MPI (issue 17): `dmconv run --shard i/n` parts merged by `dmconv merge` give the
results file of one process. /runs (every column but wall_seconds) and /fits (every column) are
bit-identical, and so are the root attributes but the provenance of the invocation (created_utc,
command_line, threads), between: one process; --shard in 1, 2 and 3 parts merged; --threads 1 and 2.
The sweep has oracle rows shared by several samplers' runs (kept once, by the first run in run
order), so merging must re-apply that across parts. Also: --shard validation (exit 2, option,
value and rule, nothing written), per-part --resume after a kill, `check` refusing a part, and
merge refusing a missing part, a duplicated part, parts of different configs or splits, a file
that is not a part -- exit 2, the problem named, no output file left.

Usage: test_shard.py DMCONV_BINARY
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np

DMCONV = None

# Tiny but not trivial: 3 samplers x 3 T x 2 dims x 2 particle counts = 36 runs of unequal cost;
# sliced_w2 has oracle floors, and with oracle = true ddpm's and acc_sde_a's runs at one sweep point
# give the same oracle row.
CONFIG = """[experiment]
name = "shard"
seed = 5

[target]
kind = "random_mixture"
dim = 2
components = 3
radius = 2.0
variance = 0.3
seed = 7

[schedule]
kind = "logsnr_uniform"

[sampling]
samplers = ["ddim", "ddpm", "acc_sde_a"]
steps = [16, 32, 64]
particles = 300
oracle = true

[sweep]
"target.dim" = [1, 2]
"sampling.particles" = [300, 600]

[[estimator]]
kind = "change_of_variables"
samplers = ["ddim"]
metrics = ["tv"]

[[estimator]]
kind = "sliced_w2"
samplers = ["ddpm", "acc_sde_a"]
directions = 8

[[claim]]
name = "ddim first order"
sampler = "ddim"
metric = "tv"
axis = "T"
slope = -1.0
tolerance = 0.5
log_power = "none"
"""

RUNS = 36
# Provenance of the invocation, not of the numbers.
PROVENANCE = {"created_utc", "command_line", "threads"}


def run(*args, timeout=600):
    return subprocess.run([DMCONV, *args], capture_output=True, text=True, timeout=timeout)


def read_table(group, skip=()):
    out = {}
    for name in group.attrs["column_order"]:
        name = name.decode() if isinstance(name, bytes) else name
        if name in skip:
            continue
        ds = group[name]
        out[name] = list(ds.asstr()[...]) if ds.dtype.kind == "O" else ds[...]
    return out


def contents(path, provenance=PROVENANCE):
    """/runs but wall_seconds, /fits, root attributes but provenance: what must be bit-identical."""
    with h5py.File(path, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items() if k not in provenance}
        return read_table(f["runs"], skip=("wall_seconds",)), read_table(f["fits"]), attrs


def assert_identical(test, a, b, provenance=PROVENANCE):
    """Fails `test` unless results files a and b hold the same bits (contents())."""
    runs_a, fits_a, attrs_a = contents(a, provenance)
    runs_b, fits_b, attrs_b = contents(b, provenance)
    test.assertEqual(list(runs_a), list(runs_b), "the /runs columns")
    test.assertEqual(list(fits_a), list(fits_b), "the /fits columns")
    for table, x, y in (("runs", runs_a, runs_b), ("fits", fits_a, fits_b)):
        for name in x:
            if isinstance(x[name], list):
                test.assertEqual(x[name], y[name], f"/{table}/{name}")
            else:
                test.assertEqual(x[name].dtype, y[name].dtype, f"/{table}/{name}")
                # Bytes, not values: NaN payloads, -0.0 and every bit count.
                test.assertEqual(x[name].tobytes(), y[name].tobytes(), f"/{table}/{name}")
    test.assertEqual(attrs_a, attrs_b, "root attributes (provenance of the invocation excluded)")


class Shard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.config = os.path.join(cls.dir, "shard.toml")
        with open(cls.config, "w") as f:
            f.write(CONFIG)
        cls.single = cls.path("single.h5")
        result = run("run", cls.config, "--out", cls.single)
        assert result.returncode in (0, 1), result.stderr
        cls.single_stdout = result.stdout
        cls.parts = {}  # n -> [part paths]
        for n in (1, 2, 3):
            cls.parts[n] = []
            for i in range(1, n + 1):
                part = cls.path(f"part_{i}_of_{n}.h5")
                result = run("run", cls.config, "--shard", f"{i}/{n}", "--out", part)
                assert result.returncode == 0, (i, n, result.stdout, result.stderr)
                assert "claims are not judged on a part" in result.stdout, result.stdout
                cls.parts[n].append(part)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def assert_identical(self, a, b):
        assert_identical(self, a, b)

    def test_single_process_file_is_what_it_should_be(self):
        with h5py.File(self.single, "r") as f:
            self.assertEqual(f.attrs["ranks"], 1)
            self.assertNotIn("shard_index", f.attrs)
            self.assertEqual(sorted(set(f["runs"]["run_index"][...])), list(range(RUNS)))
            self.assertGreater(f["fits"]["slope"].shape[0], 0)
            kinds = list(f["runs"]["kind"].asstr()[...])
            self.assertIn("oracle", kinds, "the sweep must exercise oracle rows")

    def test_parts_carry_shard_attributes_and_partition_the_runs(self):
        for n, parts in self.parts.items():
            seen = []
            for i, part in enumerate(parts, start=1):
                with h5py.File(part, "r") as f:
                    self.assertEqual((f.attrs["shard_index"], f.attrs["shard_count"]), (i, n))
                    self.assertEqual(f.attrs["ranks"], 1)
                    self.assertEqual(f.attrs["complete"], 1)
                    self.assertEqual(f["fits"]["slope"].shape[0], 0, "claims are not judged on a part")
                    held = sorted(set(f["runs"]["run_index"][...]))
                    self.assertGreater(len(held), 0)
                    seen += held
            self.assertEqual(sorted(seen), list(range(RUNS)), f"{n} parts cover every run exactly once")

    def test_merged_parts_are_bit_identical_to_one_process(self):
        for n, parts in self.parts.items():
            with self.subTest(parts=n):
                merged = self.path(f"merged_{n}.h5")
                # Parts in any order on the command line.
                result = run("merge", *reversed(parts), "--out", merged)
                self.assertIn(result.returncode, (0, 1), result.stderr)
                self.assertIn("HOLDS", result.stdout)
                self.assertEqual(result.stdout.split("\n\n")[1:-1], self.single_stdout.split("\n\n")[1:-1],
                                 "the same error table and verdicts as run")
                self.assert_identical(self.single, merged)
                checked = run("check", merged)
                self.assertEqual(checked.returncode, run("check", self.single).returncode)

    def test_thread_counts_are_bit_identical(self):
        one, two = self.path("threads_1.h5"), self.path("threads_2.h5")
        for threads, out in (("1", one), ("2", two)):
            result = run("run", self.config, "--threads", threads, "--out", out)
            self.assertIn(result.returncode, (0, 1), result.stderr)
        self.assert_identical(one, two)
        self.assert_identical(self.single, one)
        # A part at 2 threads merged with parts at 1 thread: the same file again.
        mixed = self.path("part_2_of_3_threads_2.h5")
        result = run("run", self.config, "--shard", "2/3", "--threads", "2", "--out", mixed)
        self.assertEqual(result.returncode, 0, result.stderr)
        merged = self.path("merged_mixed_threads.h5")
        result = run("merge", self.parts[3][0], mixed, self.parts[3][2], "--out", merged)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        self.assert_identical(self.single, merged)

    def test_bad_shard_values_exit_2_before_any_work(self):
        out = self.path("never.h5")
        cases = [("abc", "must be i/n"), ("3", "must be i/n"), ("1/3/4", "must be i/n"), ("-1/3", "must be i/n"),
                 ("1/0", "the shard count n = 0 must lie in [1, "), ("0/3", "must lie in [1, n] = [1, 3]"),
                 ("4/3", "the shard index i = 4 must lie in [1, n] = [1, 3]")]
        for value, rule in cases:
            with self.subTest(value=value):
                # A config that does not exist: the option is refused first.
                for config in (self.config, self.path("missing.toml")):
                    result = run("run", config, "--shard", value, "--out", out)
                    self.assertEqual(result.returncode, 2, result.stderr)
                    self.assertIn(f"--shard = '{value}'", result.stderr)
                    self.assertIn(rule, result.stderr)
                    self.assertEqual(result.stdout, "")
                    self.assertFalse(os.path.exists(out))

    def test_resume_works_per_part(self):
        part = self.path("killed_part.h5")
        proc = subprocess.Popen([DMCONV, "run", self.config, "--shard", "1/2", "--out", part,
                                 "--checkpoint-seconds", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not os.path.exists(part) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertTrue(os.path.exists(part), "no checkpoint was written before the kill")
        with h5py.File(part, "r") as f:
            killed_complete = f.attrs["complete"]
            self.assertEqual((f.attrs["shard_index"], f.attrs["shard_count"]), (1, 2))
        if killed_complete == 0:
            # A checkpoint is not merged.
            refused = run("merge", part, self.parts[2][1], "--out", self.path("never.h5"))
            self.assertEqual(refused.returncode, 2, refused.stderr)
            self.assertIn("is a checkpoint (complete = 0)", refused.stderr)
            self.assertFalse(os.path.exists(self.path("never.h5")))
        # Another slice may not continue this file.
        wrong = run("run", self.config, "--shard", "2/2", "--out", part, "--resume")
        self.assertEqual(wrong.returncode, 2, wrong.stderr)
        self.assertIn("part 1/2 of a sharded sweep, this run is part 2/2", wrong.stderr)
        whole = run("run", self.config, "--out", part, "--resume")
        self.assertEqual(whole.returncode, 2, whole.stderr)
        self.assertIn("this run is the whole sweep (no --shard)", whole.stderr)
        resumed = run("run", self.config, "--shard", "1/2", "--out", part, "--resume")
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        merged = self.path("merged_resumed.h5")
        result = run("merge", part, self.parts[2][1], "--out", merged)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        self.assert_identical(self.single, merged)
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp" in n], [])

    def test_check_refuses_a_part(self):
        result = run("check", self.parts[2][0])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("part 1/2 of a sharded sweep", result.stderr)
        self.assertIn("dmconv merge", result.stderr)

    def assert_merge_refused(self, parts, *needles, out_name="refused.h5"):
        out = self.path(out_name)
        result = run("merge", *parts, "--out", out)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        for needle in needles:
            self.assertIn(needle, result.stderr)
        self.assertFalse(os.path.exists(out), "a refused merge leaves no output file")
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp" in n or ".probe" in n], [])

    def test_merge_refuses_a_missing_part(self):
        p = self.parts[3]
        with h5py.File(p[2], "r") as f:
            runs_of_part_3 = sorted(set(int(r) for r in f["runs"]["run_index"][...]))
        self.assert_merge_refused([p[0], p[1]], "missing part of 3", "part 3/3 (runs " +
                                  ", ".join(map(str, runs_of_part_3)) + ")")
        self.assert_merge_refused([p[1]], "missing parts of 3", "part 1/3", "part 3/3")

    def test_merge_refuses_a_duplicated_part(self):
        p = self.parts[3]
        copy = self.path("copy_of_part_2.h5")
        shutil.copy(p[1], copy)
        self.assert_merge_refused([p[0], p[1], copy, p[2]], "duplicated part", p[1], copy, "are both part 2/3")
        self.assert_merge_refused([p[0], p[1], p[1], p[2]], "duplicated part", "are both part 2/3")

    def test_merge_refuses_parts_of_different_configs(self):
        other = self.path("other_seed_part_3.h5")
        result = run("run", self.config, "--set", "experiment.seed=6", "--shard", "3/3", "--out", other)
        self.assertEqual(result.returncode, 0, result.stderr)
        p = self.parts[3]
        self.assert_merge_refused([p[0], p[1], other], "config_hash differs between parts", other,
                                  "all parts must come from one config")

    def test_merge_refuses_mixed_splits_non_parts_and_itself(self):
        self.assert_merge_refused([self.parts[2][0], self.parts[3][1], self.parts[3][2]],
                                  "shard_count differs between parts", "part 1/2", "part 2/3")
        self.assert_merge_refused([self.single], "not a part file", self.single)
        target = self.path("part_1_of_1_copy.h5")
        shutil.copy(self.parts[1][0], target)
        result = run("merge", target, "--out", target)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("is one of the parts", result.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_shard.py DMCONV_BINARY")
    DMCONV = os.path.abspath(sys.argv.pop(1))
    unittest.main()
