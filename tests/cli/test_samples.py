#!/usr/bin/python3
"""`dmconv samples` end to end, and plots/plot_posterior_density.py on its output.

    test_samples.py DMCONV

On small Gaussian-linear posterior problems (claim 16's in d = 1, and a d = 2 one) written by the
test: the samples are identical bit for bit for --threads 1 and 2; the grid masses of every law
sum to 1; exact_stationary draws from pi_eta exactly, so its histogram on the grid's cells agrees
with the pi_eta masses within sampling error (a chi-square test, which the pi masses fail: the
test can tell the two laws apart); bad input (--steps not in the sweep, a diffusion config, an
unwritable --out) exits 2 naming the option and leaves no file; the plot script writes one
figure per steps value in 1-D and 2-D. (That the draws equal the estimators' posterior_output
bit for bit is tested in tests/experiment/posterior_samples_test.cpp.)

Plain unittest; ctest: cli.samples. Missing numpy/h5py/matplotlib is a failure, not a skip.
"""

import os
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    import h5py
    import matplotlib  # noqa: F401  (the plot script needs it)
except ImportError as exc:
    sys.stderr.write("test_samples.py: FAILED: required Python package missing (%s); "
                     "install python3-numpy python3-h5py python3-matplotlib\n" % exc)
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
PLOT_SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "plots", "plot_posterior_density.py"))
PYTHON = "/usr/bin/python3"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DMCONV = None  # from argv

ETA = 0.5
PARTICLES = 6000

CONFIG_1D = """[experiment]
name = "samples_test_1d"
seed = 16

[target]
kind = "gaussian"
mean = [1.0]
variances = [1.0]

[likelihood]
kind = "linear_gaussian"
dim = 1
observations = 1
matrix = "identity"
sigma_y = 0.5
y = [2.0]

[schedule]
kind = "theory"

[sampling]
samplers = ["exact_stationary", "dpnp_gibbs"]
steps = [2, 4]
particles = %d

[sampling.params.exact_stationary]
eta = %g

[sampling.params.dpnp_gibbs]
eta_max = 0.25

[[estimator]]
kind = "posterior_grid_tv"
points = 48
""" % (PARTICLES, ETA)

CONFIG_2D = """[experiment]
name = "samples_test_2d"
seed = 3

[target]
kind = "gaussian"
mean = [1.0, -1.0]
variances = [1.0, 0.5]

[likelihood]
kind = "linear_gaussian"
dim = 2
observations = 2
matrix = "identity"
sigma_y = 0.5
y = [2.0, 0.0]

[schedule]
kind = "theory"

[sampling]
samplers = ["exact_stationary", "dpnp_gibbs"]
steps = 2
particles = 3000

[[estimator]]
kind = "posterior_grid_tv"
points = 24
"""

CONFIG_DIFFUSION = """[experiment]
name = "samples_test_diffusion"

[target]
kind = "gaussian"
mean = [0.0]
variances = [1.0]

[schedule]
kind = "linear"

[sampling]
samplers = ["ddpm"]
steps = [8]
particles = 100

[[estimator]]
kind = "gaussian_law"
"""


def run(*args, **kwargs):
    env = dict(os.environ, OMP_WAIT_POLICY="passive", MPLBACKEND="Agg")
    return subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=300, **kwargs)


def read_table(path, name):
    with h5py.File(path, "r") as h5:
        return {column: h5[name][column][()] for column in h5[name]}


def texts(values):
    return np.array([v.decode() if isinstance(v, bytes) else v for v in values])


def law_masses(grid, reference):
    rows = texts(grid["reference"]) == reference
    order = np.argsort(grid["x0"][rows])
    return grid["x0"][rows][order], grid["width0"][rows][order], grid["mass"][rows][order]


def chi_square(draws, centres, widths, masses):
    """Pearson's statistic of the draws' cell counts against the masses (cells with expected count
    >= 5; the rest, and the outside of the box, pooled into one cell) and its degrees of freedom."""
    edges = np.concatenate([centres - widths / 2, [centres[-1] + widths[-1] / 2]])
    counts, _ = np.histogram(draws, bins=edges)
    n = len(draws)
    expected = n * masses
    big = expected >= 5
    observed = np.append(counts[big], n - counts[big].sum())
    wanted = np.append(expected[big], n - expected[big].sum())
    return float(np.sum((observed - wanted) ** 2 / np.maximum(wanted, 1e-300))), len(observed) - 1


class SamplesCommandTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="dmconv_samples_")
        cls.config_1d = os.path.join(cls.tmp.name, "posterior_1d.toml")
        with open(cls.config_1d, "w") as f:
            f.write(CONFIG_1D)
        cls.out_1 = os.path.join(cls.tmp.name, "threads1.h5")
        cls.out_2 = os.path.join(cls.tmp.name, "threads2.h5")
        cls.proc_1 = run(DMCONV, "samples", cls.config_1d, "--out", cls.out_1, "--threads", "1")
        cls.proc_2 = run(DMCONV, "samples", cls.config_1d, "--out", cls.out_2, "--threads", "2")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_zero(self):
        self.assertEqual(self.proc_1.returncode, 0, self.proc_1.stderr)
        self.assertEqual(self.proc_2.returncode, 0, self.proc_2.stderr)

    def test_samples_identical_for_one_and_two_threads(self):
        one, two = read_table(self.out_1, "samples"), read_table(self.out_2, "samples")
        self.assertEqual(sorted(one), sorted(two))
        self.assertEqual(len(one["x0"]), 2 * 2 * PARTICLES)  # 2 samplers x 2 steps
        self.assertTrue(np.array_equal(one["x0"].view(np.uint64), two["x0"].view(np.uint64)))
        for column in ("sampler", "steps", "particle"):
            self.assertTrue(np.array_equal(one[column], two[column]), column)

    def test_grid_masses_sum_to_one(self):
        grid = read_table(self.out_1, "grid")
        references = texts(grid["reference"])
        self.assertEqual(set(references), {"pi", "pi_eta"})
        self.assertEqual(set(grid["eta"].tolist()), {0.0, 0.25, ETA})
        for eta in (0.0, 0.25, ETA):
            rows = grid["eta"] == eta
            self.assertEqual(int(rows.sum()), 48)
            self.assertAlmostEqual(float(grid["mass"][rows].sum()), 1.0, places=12)
            self.assertTrue(np.all(grid["mass"][rows] >= 0.0))

    def test_exact_stationary_histogram_matches_pi_eta(self):
        samples = read_table(self.out_1, "samples")
        grid = read_table(self.out_1, "grid")
        rows = (texts(samples["sampler"]) == "exact_stationary") & (samples["steps"] == 2)
        draws = samples["x0"][rows]
        self.assertEqual(len(draws), PARTICLES)
        eta_rows = grid["eta"] == ETA
        order = np.argsort(grid["x0"][eta_rows])
        pi_eta = (grid["x0"][eta_rows][order], grid["width0"][eta_rows][order], grid["mass"][eta_rows][order])
        statistic, dof = chi_square(draws, *pi_eta)
        # 5 standard deviations of a chi-square law above its mean: a failure is not bad luck.
        limit = dof + 5.0 * np.sqrt(2.0 * dof)
        self.assertLess(statistic, limit, "chi-square %.1f on %d dof against pi_eta" % (statistic, dof))
        pi_rows = grid["eta"] == 0.0
        order = np.argsort(grid["x0"][pi_rows])
        pi = (grid["x0"][pi_rows][order], grid["width0"][pi_rows][order], grid["mass"][pi_rows][order])
        statistic_pi, dof_pi = chi_square(draws, *pi)
        self.assertGreater(statistic_pi, dof_pi + 5.0 * np.sqrt(2.0 * dof_pi),
                           "the draws of pi_eta (eta = %g) pass as draws of pi: the test has no power" % ETA)

    def test_sampler_runs_table(self):
        runs = read_table(self.out_1, "sampler_runs")
        self.assertEqual(sorted(texts(runs["sampler"]).tolist()),
                         ["dpnp_gibbs", "dpnp_gibbs", "exact_stationary", "exact_stationary"])
        self.assertTrue(np.all(runs["particles_written"] == PARTICLES))
        self.assertTrue(np.all(runs["finite"] == 1))

    def test_particles_and_steps_options(self):
        out = os.path.join(self.tmp.name, "few.h5")
        proc = run(DMCONV, "samples", self.config_1d, "--out", out, "--steps", "4", "--particles", "100",
                   "--set", "experiment.seed=16")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        samples = read_table(out, "samples")
        self.assertEqual(len(samples["x0"]), 2 * 100)
        self.assertTrue(np.all(samples["steps"] == 4))
        # The first 100 particles of the full sample, not another sample.
        full = read_table(self.out_1, "samples")
        for sampler in ("exact_stationary", "dpnp_gibbs"):
            few = samples["x0"][texts(samples["sampler"]) == sampler]
            rows = (texts(full["sampler"]) == sampler) & (full["steps"] == 4)
            self.assertTrue(np.array_equal(few.view(np.uint64), full["x0"][rows][:100].view(np.uint64)))

    def assert_refused(self, args, out, *phrases):
        proc = run(DMCONV, "samples", *args, "--out", out)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        for phrase in phrases:
            self.assertIn(phrase, proc.stderr)
        self.assertFalse(os.path.exists(out), out)
        self.assertEqual(proc.stdout, "")  # refused before any work

    def test_steps_not_in_sweep_refused(self):
        self.assert_refused([self.config_1d, "--steps", "3"], os.path.join(self.tmp.name, "bad_steps.h5"),
                            "--steps 3", "not a value of [sampling] steps", "(2, 4)")

    def test_diffusion_config_refused(self):
        config = os.path.join(self.tmp.name, "diffusion.toml")
        with open(config, "w") as f:
            f.write(CONFIG_DIFFUSION)
        self.assert_refused([config], os.path.join(self.tmp.name, "diffusion.h5"),
                            "needs a posterior experiment", "[likelihood]")

    def test_unwritable_out_refused(self):
        blocker = os.path.join(self.tmp.name, "a_file")
        with open(blocker, "w") as f:
            f.write("not a directory\n")
        self.assert_refused([self.config_1d], os.path.join(blocker, "out.h5"), "--out")

    def test_bad_particles_refused(self):
        self.assert_refused([self.config_1d, "--particles", "0"], os.path.join(self.tmp.name, "zero.h5"),
                            "--particles")

    def test_plot_1d(self):
        out_dir = os.path.join(self.tmp.name, "plots_1d")
        proc = run(PYTHON, PLOT_SCRIPT, self.out_1, "--out-dir", out_dir)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expected = ["posterior_density__T=2.png", "posterior_density__T=4.png"]
        self.assertEqual(sorted(os.listdir(out_dir)), expected)
        self.assertEqual(sorted(os.path.basename(line) for line in proc.stdout.split()), expected)
        for name in expected:
            with open(os.path.join(out_dir, name), "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC)
            self.assertGreater(os.path.getsize(os.path.join(out_dir, name)), 10000)

    def test_plot_2d(self):
        config = os.path.join(self.tmp.name, "posterior_2d.toml")
        with open(config, "w") as f:
            f.write(CONFIG_2D)
        out = os.path.join(self.tmp.name, "two_d.h5")
        proc = run(DMCONV, "samples", config, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        grid = read_table(out, "grid")
        self.assertIn("x1", grid)
        for eta in set(grid["eta"].tolist()):
            rows = grid["eta"] == eta
            self.assertEqual(int(rows.sum()), 24 * 24)
            self.assertAlmostEqual(float(grid["mass"][rows].sum()), 1.0, places=12)
        out_dir = os.path.join(self.tmp.name, "plots_2d")
        for fmt, magic in (("png", PNG_MAGIC), ("pdf", b"%PDF")):
            proc = run(PYTHON, PLOT_SCRIPT, out, "--out-dir", out_dir, "--format", fmt)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            path = os.path.join(out_dir, "posterior_density__T=2." + fmt)
            with open(path, "rb") as f:
                self.assertEqual(f.read(len(magic)), magic)

    def test_plot_refuses_other_files(self):
        other = os.path.join(self.tmp.name, "not_samples.h5")
        with h5py.File(other, "w") as h5:
            h5.attrs["schema_version"] = np.int64(1)
        proc = run(PYTHON, PLOT_SCRIPT, other, "--out-dir", os.path.join(self.tmp.name, "none"))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("dmconv samples", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "none")))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write("usage: test_samples.py DMCONV\n")
        sys.exit(2)
    DMCONV = os.path.abspath(sys.argv.pop(1))
    sys.dont_write_bytecode = True
    unittest.main()
