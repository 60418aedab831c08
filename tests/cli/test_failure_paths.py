"""Clean failure paths of `dmconv run` and `dmconv check` (issue "no impossible number reported as
exact; clean failure paths"):

* SIGINT / SIGTERM during `dmconv run` write a checkpoint (complete = 0) and exit 130 / 143;
  `--resume` continues it to /runs bit-identical to an uninterrupted run
  (scripts/compare_results.py);
* `dmconv run` removes `<out>.tmp-<pid>` files of dead processes at start-up, saying so on stderr,
  and leaves those of live processes alone;
* `dmconv check` validates the schema of the file (tables, columns, column types, attributes,
  enum values) and exits 2 listing every defect;
* scripts/run_all_experiments.sh --jobs 2 gives the results of one job at a time, bit for bit;
* a resolution that cannot resolve the target (grid_law points = 32 on the quickstart mixture;
  change_of_variables_quadrature and separable panels = 8) is refused by `dmconv validate` and
  `dmconv run` before any work, naming the key, value and rule.

Usage: test_failure_paths.py DMCONV_BINARY REPOSITORY_ROOT
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

# Sanitized builds run several times slower: ctest sets the scale there (tests/CMakeLists.txt).
TIMEOUT_SCALE = float(os.environ.get("DMCONV_TEST_TIMEOUT_SCALE", "1"))

DMCONV = None
ROOT = None

# Many short runs: a signal sent when the first checkpoint appears lands between runs.
CONFIG = """[experiment]
name = "interrupt"
seed = 3
replicates = 4

[target]
kind = "gaussian_mixture"
weights = [0.3, 0.7]
means = [[-2.0], [1.5]]
variance = [0.25, 0.5]

[schedule]
kind = "logsnr_uniform"

[sampling]
samplers = ["ddim", "ddpm"]
steps = [64, 128, 256, 512]
particles = 4000

[[estimator]]
kind = "change_of_variables"
samplers = ["ddim"]
metrics = ["tv"]

[[estimator]]
kind = "grid_law"
samplers = ["ddpm"]
metrics = ["tv"]
points = 1024
"""


def run(*args, timeout=300):
    return subprocess.run([DMCONV, *args], capture_output=True, text=True, timeout=timeout * TIMEOUT_SCALE)


def dead_pid():
    """A pid that names no live process (a child that has exited and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


class FailurePaths(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.config = os.path.join(cls.dir.name, "interrupt.toml")
        with open(cls.config, "w") as f:
            f.write(CONFIG)
        cls.reference = os.path.join(cls.dir.name, "reference.h5")
        result = run("run", cls.config, "--out", cls.reference)
        assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def interrupt(self, sig, name):
        out = os.path.join(self.dir.name, name)
        proc = subprocess.Popen([DMCONV, "run", self.config, "--out", out, "--checkpoint-seconds", "0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120 * TIMEOUT_SCALE
        while not os.path.exists(out) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        self.assertIsNone(proc.poll(), "the sweep ended before it could be interrupted")
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=120 * TIMEOUT_SCALE)
        return out, proc.returncode, stderr

    def test_sigint_and_sigterm_checkpoint_and_resume_bit_identical(self):
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(signal=sig.name):
                out, returncode, stderr = self.interrupt(sig, f"{sig.name}.h5")
                self.assertEqual(returncode, code, stderr)
                self.assertIn("checkpoint written", stderr)
                with h5py.File(out, "r") as f:
                    self.assertEqual(int(f.attrs["complete"]), 0)
                    partial = f["runs"]["value"].shape[0]
                with h5py.File(self.reference, "r") as f:
                    total = f["runs"]["value"].shape[0]
                self.assertGreater(partial, 0)
                self.assertLess(partial, total)
                self.assertEqual([n for n in os.listdir(self.dir.name) if ".tmp-" in n], [])
                resumed = run("run", self.config, "--out", out, "--resume")
                self.assertEqual(resumed.returncode, 0, resumed.stderr)
                compare = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compare_results.py"),
                                          self.reference, out], capture_output=True, text=True)
                self.assertEqual(compare.returncode, 0, compare.stdout + compare.stderr)

    def test_stale_temporary_files_are_removed(self):
        out = os.path.join(self.dir.name, "stale.h5")
        pid = dead_pid()
        stale = f"{out}.tmp-{pid}"
        live = f"{out}.tmp-{os.getpid()}"  # this test's own process: alive, not touched
        other = f"{out}.tmp-notapid"
        for path in (stale, live, other):
            with open(path, "w") as f:
                f.write("partial")
        result = run("run", self.config, "--out", out, "--set", "sampling.steps=[64]",
                     "--set", "experiment.replicates=1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"removed stale temporary file {stale} from a killed run (pid {pid})", result.stderr)
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(live))
        self.assertTrue(os.path.exists(other))
        for path in (live, other):
            os.remove(path)

    def broken_copy(self, name, edit):
        path = os.path.join(self.dir.name, name)
        shutil.copy(self.reference, path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def test_check_lists_every_schema_defect(self):
        ok = run("check", self.reference)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)

        def drop_column(table, column):
            def edit(f):
                del f[table][column]
                order = [c.decode() if isinstance(c, bytes) else c for c in f[table].attrs["column_order"]]
                order.remove(column)
                f[table].attrs["column_order"] = np.array(order, dtype=h5py.string_dtype())
            return edit

        def retype_value(f):
            n = f["runs"]["value"].shape[0]
            del f["runs"]["value"]
            f["runs"].create_dataset("value", data=np.array(["x"] * n, dtype=object), dtype=h5py.string_dtype())

        def no_runs(f):
            del f["runs"]

        def several(f):
            drop_column("runs", "floor")(f)
            drop_column("fits", "verdict")(f)
            del f.attrs["config_hash"]
            f["runs"]["status"][0] = "fine"

        cases = [
            ("no_runs.h5", no_runs, ["table /runs is missing"]),
            ("no_floor.h5", drop_column("runs", "floor"), ["/runs: column 'floor' is missing"]),
            ("string_value.h5", retype_value, ["/runs: column 'value' is string, expected float64"]),
            ("several.h5", several, ["4 defects", "/runs: column 'floor' is missing",
                                     "/fits: column 'verdict' is missing", "root attribute 'config_hash' is missing",
                                     "column 'status' row 0 = 'fine'"]),
        ]
        for name, edit, needles in cases:
            with self.subTest(name=name):
                result = run("check", self.broken_copy(name, edit))
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                for needle in needles:
                    self.assertIn(needle, result.stderr)

    def test_unresolving_grid_is_refused_before_any_work(self):
        quickstart = os.path.join(ROOT, "experiments", "quickstart.toml")
        ok = run("validate", quickstart)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        with open(quickstart) as f:
            text = f.read()
        self.assertIn("points = 96", text)
        coarse = os.path.join(self.dir.name, "quickstart32.toml")
        with open(coarse, "w") as f:
            f.write(text.replace("points = 96", "points = 32"))
        out = os.path.join(self.dir.name, "quickstart32.h5")
        for command in (["validate", coarse], ["run", coarse, "--out", out]):
            result = run(*command)
            self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
            for needle in ("quickstart32.toml:", "points = 32", "grid points per standard deviation", "points >= "):
                self.assertIn(needle, result.stderr)
        self.assertFalse(os.path.exists(out), "nothing may be written when the resolution is refused")
    def test_quadrature_and_separable_resolutions_are_refused(self):
        cases = [
            ("claim03_probability_flow_ode.toml", ("panels = 256", "panels = 8"),
             ["panels = 8", "panels per standard deviation", "panels >= "]),
            ("claim19_product_dimension.toml", ('kind = "separable"', 'kind = "separable"\npanels = 8'),
             ["panels = 8", "1-D factor problem", "panels per standard deviation"]),
        ]
        for name, (old, new), needles in cases:
            with self.subTest(config=name):
                with open(os.path.join(ROOT, "experiments", name)) as f:
                    text = f.read()
                self.assertIn(old, text)
                path = os.path.join(self.dir.name, "coarse_" + name)
                with open(path, "w") as f:
                    f.write(text.replace(old, new, 1))
                result = run("validate", path)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                for needle in needles:
                    self.assertIn(needle, result.stderr)


class CompareWithoutRunsTable(unittest.TestCase):
    """compare_results.py on files without /runs (dmconv lsi profiles): dataset by dataset, bitwise."""

    def write(self, path, value, seconds):
        with h5py.File(path, "w") as f:
            f["profile/lambda"] = np.array([1.0, value])
            f["profile/wall_seconds"] = np.array([seconds])

    def compare(self, a, b):
        return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compare_results.py"), a, b],
                              capture_output=True, text=True)

    def test_same_bits_pass_and_one_ulp_fails(self):
        with tempfile.TemporaryDirectory() as directory:
            old, same, moved = (os.path.join(directory, n) for n in ("old.h5", "same.h5", "moved.h5"))
            self.write(old, 0.5, 1.0)
            self.write(same, 0.5, 2.0)  # wall-clock columns are not mathematics
            self.write(moved, np.nextafter(0.5, 1.0), 1.0)
            result = self.compare(old, same)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertIn("identical", result.stdout)
            result = self.compare(old, moved)
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            self.assertIn("profile/lambda: differs", result.stdout)


class RunAllExperimentsJobs(unittest.TestCase):
    """scripts/run_all_experiments.sh: two experiments one at a time, then two at a time (--jobs 2,
    one thread each) compared bit for bit with the first; a bad --jobs exits 2."""

    NAMES = ["claim11_initialisation_floor", "claim13_langevin_rate_gaussian"]

    def script(self, *args):
        return subprocess.run(["bash", os.path.join(ROOT, "scripts", "run_all_experiments.sh"), "--dmconv", DMCONV,
                               *args], capture_output=True, text=True, timeout=300 * TIMEOUT_SCALE)

    def test_two_jobs_give_the_same_results(self):
        with tempfile.TemporaryDirectory() as directory:
            serial, parallel = os.path.join(directory, "serial"), os.path.join(directory, "parallel")
            first = self.script("--out", serial, *self.NAMES)
            self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
            second = self.script("--out", parallel, "--jobs", "2", "--compare", serial, *self.NAMES)
            self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
            for name in self.NAMES:
                line = [l for l in second.stdout.splitlines() if l.startswith(name)]
                self.assertEqual(len(line), 1, second.stdout)
                self.assertIn("HOLDS", line[0])
                self.assertIn("| identical", line[0])
            self.assertIn("total", second.stdout.splitlines()[-1])
            bad = self.script("--jobs", "0", *self.NAMES)
            self.assertEqual(bad.returncode, 2, bad.stdout + bad.stderr)
            self.assertIn("--jobs 0 must be a positive integer", bad.stderr)


if __name__ == "__main__":
    DMCONV = os.path.abspath(sys.argv.pop(1))
    ROOT = os.path.abspath(sys.argv.pop(1))
    unittest.main()
