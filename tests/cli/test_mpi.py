"""A sweep on MPI ranks (issue 17; docs/cluster.md "MPI"): `mpirun -n R dmconv run` gives the results
file of one process -- /runs (every column but wall_seconds) and /fits bit-identical, root attributes
equal but the invocation's provenance and `ranks`, which says R -- for R = 1, 2, 3 (3 ranks on 2
cores: --oversubscribe), with --shard parts run on 2 ranks and merged, and after rank 1 or rank 0
is killed mid-sweep and the sweep resumed on another rank count, and when one run's particles are split over
the ranks (a one-run sweep whose estimator's cost is the sampling). Only rank 0 speaks: a bad config is
reported once (exit 2, no file). Only `run` is distributed. The same program linked without MPI
(as -DDMCONV_MPI=OFF builds it) gives the same file and refuses to start under mpirun with 2 ranks.
The bash blocks of docs/cluster.md parse (`bash -n`).

Usage: test_mpi.py DMCONV DMCONV_WITHOUT_MPI MPIRUN
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shard  # noqa: E402  (the sweep and the bit-identity check of the --shard tests)

DMCONV = DMCONV_WITHOUT_MPI = MPIRUN = None
# One run; 7001 particles make the slices of 2 and 3 ranks unequal (3501 + 3500; 2334 + 2334 + 2333).
ONE_RUN = """[experiment]
name = "one_run"
seed = 3

[target]
kind = "random_mixture"
dim = 3
components = 4
radius = 2.0
variance = 0.3
seed = 7

[schedule]
kind = "logsnr_uniform"

[sampling]
samplers = ["ddpm"]
steps = [32]
particles = 7001
oracle = true

[[estimator]]
kind = "sliced_w2"
directions = 8
"""
# Provenance of the invocation, not of the numbers; `ranks` is checked on its own.
PROVENANCE = test_shard.PROVENANCE | {"ranks"}


def mpirun_command(ranks, *args, binary=None):
    command = [MPIRUN, "-n", str(ranks), "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        command.append("--allow-run-as-root")  # CI runs as root
    return command + [binary or DMCONV, *args]


def mpi_environment():
    env = dict(os.environ)
    # Containers often forbid the cross-memory attach of OpenMPI's shared-memory transport.
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def mpirun(ranks, *args, binary=None, timeout=600):
    return subprocess.run(mpirun_command(ranks, *args, binary=binary), capture_output=True, text=True,
                          timeout=timeout, env=mpi_environment())


class Mpi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        test_shard.DMCONV = DMCONV
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.config = os.path.join(cls.dir, "shard.toml")
        with open(cls.config, "w") as f:
            f.write(test_shard.CONFIG)
        cls.single = os.path.join(cls.dir, "single.h5")
        result = subprocess.run([DMCONV, "run", cls.config, "--out", cls.single], capture_output=True, text=True)
        assert result.returncode in (0, 1), result.stderr
        cls.single_stdout = result.stdout
        cls.single_code = result.returncode

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def assert_identical(self, a, b):
        test_shard.assert_identical(self, a, b, PROVENANCE)

    def ranks_of(self, path):
        with h5py.File(path, "r") as f:
            return int(f.attrs["ranks"])

    def test_one_two_and_three_ranks_give_the_one_process_file(self):
        for ranks in (1, 2, 3):
            with self.subTest(ranks=ranks):
                out = self.path(f"ranks_{ranks}.h5")
                result = mpirun(ranks, "run", self.config, "--out", out)
                self.assertEqual(result.returncode, self.single_code, result.stdout + result.stderr)
                self.assert_identical(self.single, out)
                self.assertEqual(self.ranks_of(out), ranks)
                # One report, from rank 0: the same error table and verdicts as one process.
                self.assertEqual(result.stdout.count("dmconv run: experiment"), 1, result.stdout)
                self.assertEqual(result.stdout.split("\n\n")[1:-1], self.single_stdout.split("\n\n")[1:-1])
                if ranks > 1:
                    self.assertIn(f"on {ranks} MPI ranks", result.stdout)

    def test_parts_on_two_ranks_merge_to_the_one_process_file(self):
        parts = []
        for i in (1, 2):
            part = self.path(f"mpi_part_{i}.h5")
            result = mpirun(2, "run", self.config, "--shard", f"{i}/2", "--out", part)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(self.ranks_of(part), 2)
            parts.append(part)
        merged = self.path("mpi_merged.h5")
        result = subprocess.run([DMCONV, "merge", *parts, "--out", merged], capture_output=True, text=True)
        self.assertEqual(result.returncode, self.single_code, result.stderr)
        self.assert_identical(self.single, merged)
        self.assertEqual(self.ranks_of(merged), 2, "a merged file records the most ranks a part ran on")

    def test_a_killed_rank_then_resume_on_another_rank_count(self):
        # A slower sweep, so that the kill lands between the first checkpoint and the end.
        config = self.path("slow.toml")
        with open(config, "w") as f:
            f.write(test_shard.CONFIG.replace('"sampling.particles" = [300, 600]', '"sampling.particles" = [30000, 60000]'))
        whole = self.path("slow_single.h5")
        result = subprocess.run([DMCONV, "run", config, "--out", whole], capture_output=True, text=True)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        # Rank 1 (a worker) or rank 0 (the writer) killed with SIGKILL: mpirun ends the whole job.
        for victim in (1, 0):
            with self.subTest(killed_rank=victim):
                out = self.path(f"killed_{victim}.h5")
                proc = subprocess.Popen(mpirun_command(2, "run", config, "--out", out, "--checkpoint-seconds", "0"),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=mpi_environment())
                deadline = time.time() + 120
                while not os.path.exists(out) and time.time() < deadline and proc.poll() is None:
                    time.sleep(0.01)
                killed = False
                marker = f"OMPI_COMM_WORLD_RANK={victim}\0".encode()
                for pid in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split():
                    try:
                        with open(f"/proc/{pid}/environ", "rb") as f:
                            if marker in f.read():
                                os.kill(int(pid), signal.SIGKILL)
                                killed = True
                    except (FileNotFoundError, ProcessLookupError):
                        pass
                proc.wait(timeout=120)
                self.assertTrue(os.path.exists(out), "no checkpoint was written before the kill")
                with h5py.File(out, "r") as f:
                    complete = f.attrs["complete"]
                # The sweep takes ~20 s on one core and the kill comes at its first checkpoint (~1 s).
                self.assertTrue(killed, f"rank {victim} was not found among mpirun's children")
                self.assertNotEqual(proc.returncode, 0, "mpirun must report the killed rank")
                self.assertEqual(complete, 0, f"the sweep was still running when rank {victim} was killed")
                resumed = mpirun(3, "run", config, "--out", out, "--resume")
                self.assertIn(resumed.returncode, (0, 1), resumed.stdout + resumed.stderr)
                self.assertIn("resuming:", resumed.stderr)
                self.assert_identical(whole, out)
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp" in n], [])

    def test_one_large_run_is_split_over_the_ranks(self):
        # One DDPM run whose estimator's cost is the sampling: its particles are split over the ranks
        # and gathered in particle order, so the file is still the one-process file.
        config = self.path("one_run.toml")
        with open(config, "w") as f:
            f.write(ONE_RUN)
        single = self.path("one_run_single.h5")
        result = subprocess.run([DMCONV, "run", config, "--out", single], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("splitting", result.stderr)
        for ranks in (2, 3):
            with self.subTest(ranks=ranks):
                out = self.path(f"one_run_{ranks}.h5")
                result = mpirun(ranks, "run", config, "--out", out)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn(f"splitting the particles of 1 run over {ranks} ranks", result.stderr)
                self.assert_identical(single, out)
                self.assertEqual(self.ranks_of(out), ranks)
        # A run whose estimator is not sampling-dominated (change of variables) is not split.
        config = self.path("one_run_cov.toml")
        with open(config, "w") as f:
            f.write(ONE_RUN.replace('samplers = ["ddpm"]', 'samplers = ["ddim"]').replace(
                'kind = "sliced_w2"\ndirections = 8', 'kind = "change_of_variables"\nmetrics = ["tv"]'))
        single = self.path("one_run_cov_single.h5")
        self.assertEqual(subprocess.run([DMCONV, "run", config, "--out", single], capture_output=True).returncode, 0)
        out = self.path("one_run_cov_2.h5")
        result = mpirun(2, "run", config, "--out", out)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("splitting", result.stderr)
        self.assert_identical(single, out)

    def test_a_bad_config_is_reported_once_by_rank_0(self):
        bad = self.path("bad.toml")
        with open(bad, "w") as f:
            f.write(test_shard.CONFIG.replace("steps = [16, 32, 64]", "steps = [16, -32, 64]"))
        out = self.path("never.h5")
        result = mpirun(3, "run", bad, "--out", out)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertEqual(result.stderr.count("dmconv: error:"), 1, result.stderr)
        self.assertIn("steps", result.stderr)
        self.assertFalse(os.path.exists(out))
        # An output path rank 0 cannot write: refused before any rank starts a run.
        result = mpirun(2, "run", self.config, "--out", os.path.join(self.single, "under_a_file.h5"))
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertEqual(result.stderr.count("dmconv: error:"), 1, result.stderr)

    def test_only_run_is_distributed(self):
        result = mpirun(2, "validate", self.config)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn("only `dmconv run` is distributed over ranks", result.stderr)
        self.assertEqual(result.stderr.count("dmconv: error:"), 1, result.stderr)

    def test_the_build_without_mpi(self):
        version = subprocess.run([DMCONV_WITHOUT_MPI, "--version"], capture_output=True, text=True)
        self.assertIn("MPI: none (-DDMCONV_MPI=OFF)", version.stdout)
        self.assertIn("Open MPI", subprocess.run([DMCONV, "--version"], capture_output=True, text=True).stdout)
        out = self.path("without_mpi.h5")
        result = subprocess.run([DMCONV_WITHOUT_MPI, "run", self.config, "--out", out], capture_output=True, text=True)
        self.assertEqual(result.returncode, self.single_code, result.stderr)
        self.assert_identical(self.single, out)
        self.assertEqual(self.ranks_of(out), 1)
        refused = mpirun(2, "run", self.config, "--out", self.path("never2.h5"), binary=DMCONV_WITHOUT_MPI)
        self.assertEqual(refused.returncode, 2, refused.stdout + refused.stderr)
        self.assertIn("this dmconv was built without MPI (-DDMCONV_MPI=OFF)", refused.stderr)
        self.assertFalse(os.path.exists(self.path("never2.h5")))
        # One process under mpirun -n 1 is just one process.
        single = mpirun(1, "run", self.config, "--out", self.path("without_mpi_n1.h5"), binary=DMCONV_WITHOUT_MPI)
        self.assertEqual(single.returncode, self.single_code, single.stderr)
        self.assert_identical(self.single, self.path("without_mpi_n1.h5"))

    def test_the_cluster_scripts_parse(self):
        """Every bash block of docs/cluster.md (the Slurm scripts, the loops) passes `bash -n`."""
        doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "cluster.md")
        with open(doc, encoding="utf-8") as f:
            blocks = f.read().split("```bash\n")[1:]
        self.assertGreaterEqual(len(blocks), 4, "the Slurm array, merge, MPI and loop scripts")
        for block in blocks:
            script = block.split("```")[0]
            checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            self.assertEqual(checked.returncode, 0, script + checked.stderr)


if __name__ == "__main__":
    DMCONV, DMCONV_WITHOUT_MPI, MPIRUN = sys.argv[1:4]
    unittest.main(argv=sys.argv[:1], verbosity=2)
