"""The malformed-input corpus (ctest malformed.corpus): every file in tests/malformed/cases/ is one
bad config (or a good config with bad arguments) that dmconv must refuse with exit code 2 and a
message naming the file and line (or --set / the option), the key, the value and the rule, before
any work. Each case states its expectations in a header of comment lines:

    # case: what is wrong (one line)
    # command: validate | run | lsi
    # setup: mkdir PATH | mkfifo PATH     (optional, before the command; PATH may use {tmp})
    # args: extra arguments, shell-quoted ({tmp}: the case's scratch directory; {file}: the case
    #       file; {newline}, {tab})
    # exit: 2
    # expect: fragment | fragment | ...   ({file}: the case file's path as passed to dmconv)

Each case runs in a fresh scratch directory (also its working directory, so a default
results/ would land there). For `run`, the error must come before the "dmconv run: experiment"
line (no work started), and for every command the scratch directory must be left exactly as it was
(no results file, no .tmp-/.probe- file, no directory created). One line per case is printed;
the exit status is 1 if any case fails.

Usage: run_corpus.py DMCONV_BINARY [CASES_DIR]   (standard library only)
"""
import os
import shlex
import subprocess
import sys
import tempfile

# Sanitized builds run several times slower: ctest sets the scale there (tests/CMakeLists.txt).
TIMEOUT_SCALE = float(os.environ.get("DMCONV_TEST_TIMEOUT_SCALE", "1"))


def read_header(path):
    header = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].strip().partition(":")
            if sep:
                header[key.strip()] = value.strip()
    for key in ("case", "command", "exit", "expect"):
        if key not in header:
            raise ValueError(f"{path}: the header lacks '# {key}:'")
    return header


def snapshot(root):
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, name), root))
    return out


def run_case(dmconv, path):
    header = read_header(path)
    with tempfile.TemporaryDirectory(prefix="dmconv-malformed-") as scratch:
        def fill(text):
            return (text.replace("{tmp}", scratch).replace("{file}", path).replace("{newline}", "\n")
                    .replace("{tab}", "\t"))
        if "setup" in header:
            verb, target = shlex.split(header["setup"])
            {"mkdir": os.mkdir, "mkfifo": os.mkfifo}[verb](fill(target))
        args = [fill(a) for a in shlex.split(header.get("args", ""))]
        command = [dmconv, header["command"], path, *args]
        before = snapshot(scratch)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120 * TIMEOUT_SCALE, cwd=scratch)
        problems = []
        if result.returncode != int(header["exit"]):
            problems.append(f"exit code {result.returncode}, expected {header['exit']}")
        for fragment in header["expect"].split(" | "):
            fragment = fragment.replace("{file}", path)
            if fragment not in result.stderr:
                problems.append(f"stderr lacks {fragment!r}")
        if "dmconv run: experiment" in result.stdout:
            problems.append("work started ('dmconv run: experiment' was printed)")
        left = snapshot(scratch) - before
        if left:
            problems.append(f"left behind: {sorted(left)}")
        return header["case"], problems, result.stderr.strip()


def main():
    dmconv = os.path.abspath(sys.argv[1])
    cases_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
    paths = sorted(os.path.join(cases_dir, n) for n in os.listdir(cases_dir) if n.endswith(".toml"))
    failed = 0
    for path in paths:
        name = os.path.basename(path)
        what, problems, stderr = run_case(dmconv, path)
        if problems:
            failed += 1
            print(f"FAIL {name}: {what}")
            for p in problems:
                print(f"       {p}")
            print("       stderr: " + stderr.replace("\n", "\n               "))
        else:
            print(f"ok   {name}")
    print(f"{len(paths) - failed} of {len(paths)} malformed-input cases passed")
    return 1 if failed or not paths else 0


if __name__ == "__main__":
    sys.exit(main())
