#!/usr/bin/python3
"""Test of plots/plot_results.py on a synthetic results file (schema version 1), and of the style
every plot script shares (plots/style.py).

The file follows the layout written by `dmconv run` (results/README.md): two samplers over
T = 16..1024 with known power laws (ddpm: 2/T, Monte Carlo SE; acc_ode_noise: 30/T^2, exact,
SE 0), a swept numeric parameter "score_error.amplitude" in {0, 0.01, 0.04} adding 0.5*amp,
two replicates of every configuration, one point under its floor, one failed row, and a
/fits table with two rows (claims about the amplitude-0 group).

Plain unittest; run directly (ctest: plots.plot_results). Missing numpy/h5py/matplotlib is
a FAILURE, not a skip: the CI machine installs python3-numpy, python3-h5py and
python3-matplotlib.
"""

import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    import h5py
    import matplotlib  # noqa: F401  (plot_results.py needs it; fail here with a clear message)
except ImportError as exc:
    sys.stderr.write("test_plot_results.py: FAILED: required Python package missing (%s); "
                     "install python3-numpy python3-h5py python3-matplotlib\n" % exc)
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "plots", "plot_results.py"))
PYTHON = sys.executable or "/usr/bin/python3"

TS = [16, 32, 64, 128, 256, 512, 1024]
AMPS = [0.0, 0.01, 0.04]
SAMPLERS = ["ddpm", "acc_ode_noise"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GROUP = "target=gaussian_mixture;estimator=grid_law;schedule=theory;d=1;score_error.amplitude=0"


def load_module():
    sys.dont_write_bytecode = True   # no __pycache__ in the source tree
    spec = importlib.util.spec_from_file_location("plot_results", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_table(h5, name, columns):
    """columns: list of (name, values, kind) with kind 'str', 'f8' or 'i8'."""
    g = h5.create_group(name)
    str_dt = h5py.string_dtype(encoding="utf-8")
    for col, values, kind in columns:
        if kind == "str":
            g.create_dataset(col, data=np.array(values, dtype=object), dtype=str_dt)
        else:
            g.create_dataset(col, data=np.array(values, dtype=kind))
    g.attrs["column_order"] = np.array([c for c, _, _ in columns], dtype=object)
    return g


def true_error(sampler, T, amp):
    return (2.0 / T if sampler == "ddpm" else 30.0 / T ** 2) + 0.5 * amp


def build_results(path, schema_version=1, with_fits=True):
    rows = []
    index = 0
    for amp in AMPS:
        for sampler in SAMPLERS:
            for T in TS:
                for rep in (0, 1):
                    err = true_error(sampler, T, amp)
                    if sampler == "ddpm":
                        value = err * (1.0 + (0.01 if rep == 0 else -0.01))
                        se = 0.02 * err
                        particles, kind = 100000, "unbiased_mc"
                    else:
                        value = err * (1.0 + (1e-3 if rep == 0 else -1e-3))
                        se = 0.0
                        particles, kind = 0, "exact"
                    floor = 1e-12
                    status, message = "ok", ""
                    if sampler == "acc_ode_noise" and T == 1024 and amp == 0.0:
                        floor = 1e-5          # 30/1024^2 = 2.9e-5 <= 10 x floor: hollow
                    if sampler == "ddpm" and T == 512 and amp == 0.0 and rep == 1:
                        status, message, value, se = "failed", "sampler diverged", math.nan, math.nan
                    rows.append(dict(
                        run_index=index // 2, run_key="run%04d" % (index // 2),
                        target="gaussian_mixture", sampler=sampler, schedule="theory",
                        estimator="grid_law", metric="tv", kind=kind, status=status,
                        message=message, dim=1, steps=T, replicate=rep, seed=1000 + rep,
                        particles=particles, comparison_level=1, initialisation="exact",
                        value=value, std_error=se, floor=floor, nfe=float(T),
                        wall_seconds=0.01, eps_score=amp, eps_jacobi=math.nan,
                        amp=amp))
                    index += 1

    def col(name, kind, key=None):
        return (name, [r[key or name] for r in rows], kind)

    runs_cols = [
        col("run_index", "i8"), col("run_key", "str"), col("target", "str"),
        col("sampler", "str"), col("schedule", "str"), col("estimator", "str"),
        col("metric", "str"), col("kind", "str"), col("status", "str"), col("message", "str"),
        col("dim", "i8"), col("steps", "i8"), col("replicate", "i8"), col("seed", "i8"),
        col("particles", "i8"), col("comparison_level", "i8"), col("initialisation", "str"),
        col("value", "f8"), col("std_error", "f8"), col("floor", "f8"), col("nfe", "f8"),
        col("wall_seconds", "f8"), col("eps_score", "f8"), col("eps_jacobi", "f8"),
        col("score_error.amplitude", "f8", "amp"),
    ]
    fits = [
        dict(claim="claim1", group=GROUP, sampler="ddpm", versus="", metric="tv", axis="T",
             log_power_mode="fixed", bound="upper", verdict="holds", message="",
             exclusions="", local_slopes="-1.00;-1.00;-1.00;-1.00;-1.00;-1.00",
             slope=-1.0, slope_low=-1.02, slope_high=-0.98, log_power=0.0,
             claimed_slope=-1.0, tolerance=0.1, points_used=7, points_excluded=0,
             intercept=math.log(2.0)),
        dict(claim="claim6", group=GROUP, sampler="acc_ode_noise", versus="", metric="tv",
             axis="T", log_power_mode="fixed", bound="upper", verdict="holds", message="",
             exclusions="x=1024: value within 10x floor", local_slopes="-2.00;-2.00",
             slope=-2.0, slope_low=-2.01, slope_high=-1.99, log_power=0.0,
             claimed_slope=-2.0, tolerance=0.2, points_used=6, points_excluded=1,
             intercept=math.log(30.0)),
    ]
    fit_kinds = [("claim", "str"), ("group", "str"), ("sampler", "str"), ("versus", "str"),
                 ("metric", "str"), ("axis", "str"), ("log_power_mode", "str"),
                 ("bound", "str"), ("verdict", "str"), ("message", "str"),
                 ("exclusions", "str"), ("local_slopes", "str"), ("slope", "f8"),
                 ("slope_low", "f8"), ("slope_high", "f8"), ("log_power", "f8"),
                 ("claimed_slope", "f8"), ("tolerance", "f8"), ("points_used", "i8"),
                 ("points_excluded", "i8"), ("intercept", "f8")]
    with h5py.File(path, "w") as h5:
        h5.attrs["schema_version"] = np.int64(schema_version)
        for k, v in [("tool_version", "0.1.0"), ("git_sha", "0123456789abcdef"),
                     ("build_type", "Release"), ("created_utc", "2024-01-01T00:00:00Z"),
                     ("command_line", "dmconv run synthetic.toml"),
                     ("config_path", "synthetic.toml"), ("config_text", "# synthetic\n"),
                     ("config_hash", "deadbeefcafe0000")]:
            h5.attrs[k] = v
        h5.attrs["threads"] = np.int64(4)
        h5.attrs["ranks"] = np.int64(1)
        write_table(h5, "runs", runs_cols)
        if with_fits:
            write_table(h5, "fits", [(n, [f[n] for f in fits], k) for n, k in fit_kinds])


def expected_names():
    names = ["tv_vs_T__gaussian_mixture__grid_law__score_error.amplitude=%s.png" % a
             for a in ("0", "0.01", "0.04")]
    names += ["tv_vs_score_error.amplitude__gaussian_mixture__grid_law__T=%d.png" % T
              for T in TS]
    # The realised eps_score (= amplitude here, 0 at amplitude 0) varies: error vs eps_score too.
    names += ["tv_vs_eps_score__gaussian_mixture__grid_law__T=%d.png" % T for T in TS]
    return names


def run_script(*args):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([PYTHON, SCRIPT] + list(args), capture_output=True, text=True,
                          env=env, timeout=120)


class PlotResultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="dmconv_plots_")
        cls.results = os.path.join(cls.tmp.name, "synthetic.h5")
        build_results(cls.results)
        cls.out_dir = os.path.join(cls.tmp.name, "out")
        cls.proc = run_script(cls.results, "--out-dir", cls.out_dir)
        cls.mod = load_module()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_code_zero(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertNotIn("warning", self.proc.stderr, self.proc.stderr)

    def test_expected_pngs_written_and_listed(self):
        printed = [line.strip() for line in self.proc.stdout.splitlines() if line.strip()]
        self.assertEqual(sorted(os.path.basename(p) for p in printed), sorted(expected_names()),
                         self.proc.stdout + self.proc.stderr)
        self.assertEqual(sorted(os.listdir(self.out_dir)), sorted(expected_names()))
        for name in expected_names():
            path = os.path.join(self.out_dir, name)
            self.assertTrue(os.path.isfile(path), path)
            self.assertGreater(os.path.getsize(path), 1000, path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC, path)

    def test_fits_attach_to_their_group_only(self):
        mod = self.mod
        _, runs, fits = mod.load_results(self.results)
        axes = mod.plot_axes(runs)
        self.assertEqual(axes, ["steps", "score_error.amplitude", "eps_score"])
        by_axis = {a: mod.build_figures(runs, a) for a in axes}
        self.assertEqual(mod.attach_fits(by_axis, runs, fits), [])
        for fig in by_axis["steps"]:
            want = [0, 1] if fig.key["score_error.amplitude"] == 0.0 else []
            self.assertEqual(sorted(fig.fits), want, dict(fig.key))
            self.assertEqual(sorted(fig.points), sorted(SAMPLERS))
        for fig in by_axis["score_error.amplitude"]:
            self.assertEqual(fig.fits, [])

    def test_points_floor_failure_replicates(self):
        mod = self.mod
        _, runs, fits = mod.load_results(self.results)
        figs = {f.key["score_error.amplitude"]: f for f in mod.build_figures(runs, "steps")}
        fig0 = figs[0.0]
        acc = {p.x: p for p in fig0.points["acc_ode_noise"]}
        ddpm = {p.x: p for p in fig0.points["ddpm"]}
        self.assertTrue(acc[1024.0].under_floor)
        self.assertEqual([x for x, p in acc.items() if p.hollow], [1024.0])
        self.assertFalse(any(p.hollow for p in ddpm.values()))
        # The failed replicate is omitted and listed; its partner stands alone.
        self.assertEqual(len(fig0.omitted), 1)
        self.assertIn("failed", fig0.omitted[0])
        self.assertIn("sampler diverged", fig0.omitted[0])
        self.assertEqual(ddpm[512.0].replicates, 1)
        self.assertAlmostEqual(ddpm[512.0].value, 2.0 / 512 * 1.01, places=15)
        # Two replicates: mean value; SE combined as sqrt(sum se^2)/R.
        p = ddpm[16.0]
        self.assertEqual(p.replicates, 2)
        self.assertAlmostEqual(p.value, 2.0 / 16, places=15)
        self.assertAlmostEqual(p.se, math.sqrt(2) * 0.02 * (2.0 / 16) / 2, places=15)
        self.assertEqual(p.se_method, "reported")
        # Exact estimator (se = 0): replicate spread sd/sqrt(R).
        q = acc[16.0]
        v = 30.0 / 256
        spread = np.std([v * 1.001, v * 0.999], ddof=1) / math.sqrt(2)
        self.assertEqual(q.se_method, "spread")
        self.assertAlmostEqual(q.se, spread, places=15)
        # Fit curve reproduces the synthetic law from the stored intercept.
        mod.attach_fits({"steps": list(figs.values())}, runs, fits)
        j = fig0.fits[1]
        used = mod.used_points(fig0.points["acc_ode_noise"],
                               mod.parse_exclusions(fits["exclusions"][j]))
        self.assertEqual([u.x for u in used], [16.0, 32.0, 64.0, 128.0, 256.0, 512.0])
        y = mod.fitted_curve(fits, j, used, np.array([64.0]))
        self.assertAlmostEqual(float(y[0]), 30.0 / 64 ** 2, places=12)

    def test_exponential_fit_with_baseline(self):
        # err(x) = 0.01 + 0.5 e^{-0.9 x}: a claim with baseline x_b = 16 fits err - err(16) in the
        # exponential model; the drawn curve is err(16) + e^{a + slope x}, the baseline point is not
        # a used point, and exclusions printed with 6 digits still match their points.
        mod = self.mod
        xs = [0.0, 1.0, 2.0, 3.0, 16.0, 0.1353352832366127]
        points = [mod.Point(x, 0.01 + 0.5 * math.exp(-0.9 * x), 0.0, 0.0, 1, "reported") for x in xs]
        fits = {"slope": [-0.9], "intercept": [math.log(0.5)], "model": ["exponential"],
                "baseline": [16.0], "log_power": [0.0], "claimed_slope": [-0.9],
                "exclusions": ["x=0.135335: outside the window"]}
        excl = mod.parse_exclusions(fits["exclusions"][0]) + [(16.0, "baseline")]
        used = mod.used_points(points, excl, linear_x=True)
        self.assertEqual([u.x for u in used], [0.0, 1.0, 2.0, 3.0])   # x = 0 is a point on a linear axis
        self.assertTrue(mod.is_exponential(fits, 0))
        y = mod.fitted_curve(fits, 0, used, np.array([2.0]))
        self.assertAlmostEqual(float(y[0]) + points[4].value, 0.01 + 0.5 * math.exp(-1.8)
                               + 0.5 * math.exp(-0.9 * 16), places=12)
        self.assertTrue(mod.same_printed_number(0.1353352832366127, 0.135335))
        self.assertFalse(mod.same_printed_number(0.135, 0.136))

    def test_steps_label_names_what_each_sampler_counts(self):
        """Posterior samplers count different things as steps (/runs column steps_meaning)."""
        class Fig:
            rows = [0, 1, 2]
        runs = {"sampler": np.array(["dpnp_ddim", "dps", "dpnp_ddim"], dtype=object),
                "steps_meaning": np.array(["outer iterations K", "diffusion steps T",
                                           "outer iterations K"], dtype=object)}
        self.assertEqual(self.mod.steps_label(runs, Fig()),
                         "steps: outer iterations K for dpnp_ddim; diffusion steps T for dps")
        runs["steps_meaning"] = np.array(["diffusion steps T"] * 3, dtype=object)
        self.assertEqual(self.mod.steps_label(runs, Fig()), "T (number of steps)")
        del runs["steps_meaning"]
        self.assertEqual(self.mod.steps_label(runs, Fig()), "T (number of steps)")

    def test_plot_file_says_which_figure_carries_each_fit(self):
        # The report links a /fits row to its figure with this mapping (plots/report.py).
        out = os.path.join(self.tmp.name, "plot_file_out")
        plots = self.mod.plot_file(self.results, out, "png", on_write=lambda _: None)
        name = "tv_vs_T__gaussian_mixture__grid_law__score_error.amplitude=0.png"
        self.assertEqual({j: [os.path.basename(p) for p in paths]
                          for j, paths in plots.fit_figures.items()}, {0: [name], 1: [name]})
        self.assertEqual(sorted(os.path.basename(p) for p in plots.written), sorted(expected_names()))
        self.assertEqual(plots.warnings, [])
        self.assertIsNone(plots.empty_reason)
        only = self.mod.plot_file(self.results, os.path.join(self.tmp.name, "only_fitted"), "png",
                                  on_write=lambda _: None, only_fitted=True)
        self.assertEqual([os.path.basename(p) for p in only.written], [name])

    def test_titles_name_target_schedule_estimator_and_verdict(self):
        mod = self.mod
        _, runs, fits = mod.load_results(self.results)
        figs = mod.build_figures(runs, "steps")
        mod.attach_fits({"steps": figs}, runs, fits)
        fig0 = [f for f in figs if f.key["score_error.amplitude"] == 0.0][0]
        lines = mod.title_lines(fig0, "tv", mod.verdict_line(fits, fig0.fits))
        text = "\n".join(lines)
        for word in ("target gaussian_mixture", "estimator grid_law", "schedule theory",
                     "verdicts: claim1 (ddpm): holds; claim6 (acc_ode_noise): holds"):
            self.assertIn(word, text)
        other = [f for f in figs if f.key["score_error.amplitude"] != 0.0][0]
        self.assertIsNone(mod.verdict_line(fits, other.fits))
        self.assertNotIn("verdict", "\n".join(mod.title_lines(other, "tv", None)))

    def test_semi_log_for_exponential_fits_only(self):
        mod = self.mod
        power = {"model": ["power"]}
        expo = {"model": ["exponential"]}
        self.assertEqual(mod.x_scale([(0, "s", "", [], power)]), "log")
        self.assertEqual(mod.x_scale([(0, "s", "", [], power), (0, "s", "", [], expo)]), "linear")
        self.assertEqual(mod.x_scale([]), "log")
        self.assertEqual(mod.x_scale([(0, "s", "", [], {"slope": [1.0]})]), "log")   # older files: power

    def test_one_shared_style(self):
        # plots/style.py: one palette and marker set (sampler order independent of the file), the
        # oracle floor grey, excluded points hollow; every plot script and the report use it.
        mod = self.mod
        style = mod.shared_style
        look = mod.Style({"ddpm", "oracle", "acc_ode_noise"})
        self.assertEqual(look.color["oracle"], style.ORACLE_COLOUR)
        self.assertEqual(look.color["acc_ode_noise"], style.colour(0))
        self.assertEqual(look.color["ddpm"], style.colour(1))
        self.assertNotEqual(look.marker["ddpm"], look.marker["acc_ode_noise"])
        self.assertEqual(mod.Style({"ddpm", "acc_ode_noise"}).color, {k: v for k, v in look.color.items()})
        self.assertEqual(style.HOLLOW["mfc"], "white")
        plots_dir = os.path.dirname(SCRIPT)
        for script in ("plot_results.py", "plot_lsi.py", "plot_posterior_density.py",
                       "plot_bench_scaling.py", "report.py"):
            with open(os.path.join(plots_dir, script), encoding="utf-8") as f:
                source = f.read()
            self.assertRegex(source, r"\nimport style\b|\n\s+import style\b|import style as", script)

    def test_bench_scaling_and_lsi_scripts_draw_with_the_style(self):
        plots_dir = os.path.dirname(SCRIPT)
        bench = os.path.join(self.tmp.name, "bench.json")
        cases = [{"name": "score/mixture/K8/d%d" % d, "particles/s": 1e9 / (5.0 * d)} for d in (4, 16, 64, 256)]
        cases += [{"name": "score/mixture/d16/K%d" % k, "particles/s": 1e9 / (3.0 * k)} for k in (2, 4, 8, 16)]
        import json
        with open(bench, "w") as f:
            json.dump({"benchmarks": cases}, f)
        out = os.path.join(self.tmp.name, "bench_out")
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([PYTHON, os.path.join(plots_dir, "plot_bench_scaling.py"), bench, "--out-dir", out],
                              capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("slope in d (K = 8, d >= 16): 1.000", proc.stdout)
        for name in ("score_cost_vs_d.png", "score_cost_vs_K.png"):
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC)
        lsi = os.path.join(self.tmp.name, "toy_lsi.h5")
        t1 = [0.25, 0.5, 1.0, 2.0]
        nan = float("nan")
        with h5py.File(lsi, "w") as h5:
            h5.attrs["schema"] = "dmconv-lsi"
            write_table(h5, "profile", [
                ("target", ["gaussian"] * 4, "str"), ("dim", [1] * 4, "i8"), ("t1", t1, "f8"),
                ("kappa", [0.2, 0.5, 0.8, 0.95], "f8"), ("poincare", [nan] * 4, "f8"),
                ("poincare_budget", [nan] * 4, "f8"), ("log_sobolev", [nan] * 4, "f8"),
                ("log_sobolev_converged", [1] * 4, "i8"), ("analytic_bound", [nan] * 4, "f8")])
            write_table(h5, "t1_star", [
                ("target", ["gaussian"], "str"), ("delta", [0.1], "f8"), ("t1_star", [1.5], "f8"),
                ("derived_t1", [nan], "f8"), ("support_radius", [nan], "f8")])
        out = os.path.join(self.tmp.name, "lsi_out")
        proc = subprocess.run([PYTHON, os.path.join(plots_dir, "plot_lsi.py"), lsi, "--out", out],
                              capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, "toy_lsi.png"), "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC)

    def test_group_values_of_swept_strings_are_unquoted(self):
        # dmconv writes a swept TOML string quoted in the group ('sampling.initialisation="exact"').
        runs = {"sampling.initialisation": np.array(["exact", "standard_normal"], dtype=object),
                "steps": np.array([64.0, 128.0])}
        pairs, _ = self.mod.group_constraints('sampling.initialisation="standard_normal"', runs)
        self.assertEqual(pairs, [("sampling.initialisation", "standard_normal")])

    def test_claimed_line_carries_the_fits_log_factor(self):
        fits = {"claimed_slope": np.array([-1.0]), "log_power": np.array([2.0]),
                "model": np.array(["power"], dtype=object)}
        xs = np.array([64.0, 4096.0])
        ys = self.mod.claimed_curve(fits, 0, 64.0, 1.0, xs)
        self.assertAlmostEqual(ys[0], 1.0)
        self.assertAlmostEqual(ys[1], (4096.0 / 64.0) ** -1.0 * (math.log(4096.0) / math.log(64.0)) ** 2)
        fits["log_power"] = np.array([0.0])
        self.assertAlmostEqual(self.mod.claimed_curve(fits, 0, 64.0, 1.0, xs)[1], 1.0 / 64.0)

    def test_parse_exclusions(self):
        self.assertEqual(self.mod.parse_exclusions("x=1024: under floor; x=16: outside window"),
                         [(1024.0, "under floor"), (16.0, "outside window")])
        self.assertEqual(self.mod.parse_exclusions(""), [])

    def test_wrong_schema_version_exit_2(self):
        bad = os.path.join(self.tmp.name, "wrong_schema.h5")
        build_results(bad, schema_version=2)
        proc = run_script(bad, "--out-dir", os.path.join(self.tmp.name, "bad_out"))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("schema_version", proc.stderr)
        self.assertEqual(proc.stdout.strip(), "")

    def test_missing_file_and_table_exit_2(self):
        # In-process (same code path as the command line) to keep the test fast.
        missing = os.path.join(self.tmp.name, "does_not_exist.h5")
        self.assertEqual(self.mod.main([missing]), 2)
        no_fits = os.path.join(self.tmp.name, "no_fits.h5")
        build_results(no_fits, with_fits=False)
        self.assertEqual(self.mod.main([no_fits, "--out-dir",
                                        os.path.join(self.tmp.name, "nf_out")]), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
