#!/usr/bin/python3
"""Citation check: every section of docs/theory.md or docs/design.md that the repository cites
must exist, and nothing may point at documents or paths outside the repository.

Usage: check_citations.py SOURCE_DIR

Scans every git-tracked text file of SOURCE_DIR outside docs/ and the fuzzer's mutated seed corpus
fuzz/corpus/ (git ls-files; files containing a
NUL byte are binary and skipped) for

  * citations `docs/theory.md §N[.M...][a-z]`, including lists (`§6.1, §8.1`, `§5.1; §5.2`,
    `§4.2 and §4.3`), ranges (`§4.3–4.4`, `§6.3-§6.4`, both ends checked) and a `§` that a
    line break separates from the file name (comment markers // # * -- are skipped); the same
    for docs/design.md. A section exists when the document has a Markdown heading whose title
    starts with that number (`## 4. ...`, `### 4.6 ...`, `#### 4.4a ...`);
  * mentions of the former, external specification files (their upper-case names), of the
    external shared folder (relative or absolute), of the external reference-script directory
    and of the external source documents by file name (see FORBIDDEN; the names are assembled
    there so that this file does not contain them).

Prints one `file:line: ...` line per defect and exits 1 if there is any, else prints a summary
and exits 0. Exit 2 on a usage error (no git checkout, missing document).

Why: code, configs and tests cite the mathematical reference by section number; a renumbered or
deleted section would leave hundreds of dangling pointers that nothing else detects.
"""

import re
import subprocess
import sys
from pathlib import Path

DOCUMENTS = ("docs/theory.md", "docs/design.md")

# A section number: 4, 4.6, 4.4b (a lettered item inside a section has its own heading).
SECTION = r"\d+(?:\.\d+)*[a-z]?(?![\w.]*\d)"
# Whitespace between the file name and the first section sign, possibly across one line break
# followed by a comment marker (a citation wrapped in a comment block).
GAP = r"[ \t]*(?:\n[ \t]*(?://+|#+|\*|--|;+)?[ \t]*)?"
# A further item of a list (needs its own section sign) or the end of a range (sign optional).
MORE = rf"(?:[ \t]*(?:,|;|/|&|\band\b|\bor\b)[ \t]*§[ \t]?{SECTION}|[ \t]*[-–—][ \t]*§?[ \t]?{SECTION})"
CITATION = re.compile(rf"(?<![\w/])(?P<doc>docs/(?:theory|design)\.md)(?P<body>{GAP}§[ \t]?{SECTION}{MORE}*)")
ITEM = re.compile(rf"§?[ \t]?(?P<section>{SECTION})")
HEADING = re.compile(r"^#{1,6}[ \t]+(?P<section>\d+(?:\.\d+)*[a-z]?)\.?(?:[ \t]|$)")

# Pointers outside the repository. The upper-case names are assembled so that this file does
# not contain them literally (it is scanned like every other file).
_OLD_THEORY = "THE" + "ORY"
_OLD_DESIGN = "DES" + "IGN"
_SHARED = "sha" + "red"
_ROOT = "/" + "work"
_CHECKS = "theory" + "_checks/"
_SEED = "se" + "ed"
FORBIDDEN = [
    (re.compile(rf"\b{_OLD_THEORY}\b"), f"'{_OLD_THEORY}' (the former external specification; cite docs/theory.md §N)"),
    (re.compile(rf"\b{_OLD_DESIGN}\.md\b"), f"'{_OLD_DESIGN}.md' (the former external design map; cite docs/design.md §N)"),
    (re.compile(rf"\.\./{_SHARED}\b"), f"'../{_SHARED}' (a path outside the repository)"),
    (re.compile(rf"{_ROOT}/{_SHARED}\b"), f"'{_ROOT}/{_SHARED}' (a path outside the repository)"),
    (re.compile(rf"\b{_CHECKS}"), f"'{_CHECKS}' (a directory outside the repository; name the "
                                   "reference script by file, as docs/theory.md §9.7 does)"),
    (re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b"), "a source document outside the repository by its file name "
                                                  "(name it as docs/theory.md does, e.g. 'ITW 2024 slides')"),
    (re.compile(rf"\b{_SEED} (?:\d{{3}} )?slides\b"), f"'{_SEED} slides' (an external source collection; "
                                                        "name the source as docs/theory.md does)"),
]


def fail_usage(message):
    print(f"check_citations: {message}", file=sys.stderr)
    sys.exit(2)


def sections_of(path):
    """The section numbers of a Markdown document: the leading numbers of its headings."""
    found = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else HEADING.match(line)
        if match:
            found.add(match.group("section"))
    return found


def tracked_files(root):
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        fail_usage(f"cannot list the tracked files of '{root}' with git ls-files: {error}")
    return [name for name in out.decode("utf-8", "replace").split("\0") if name]


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def check_text(name, text, sections):
    """Defect messages ('file:line: ...') and the number of citations checked, for one file."""
    defects = []
    checked = 0
    for match in CITATION.finditer(text):
        doc = match.group("doc")
        body_start = match.start("body")
        for item in ITEM.finditer(match.group("body")):
            section = item.group("section")
            checked += 1
            if section not in sections[doc]:
                line = line_of(text, body_start + item.start("section"))
                defects.append(f"{name}:{line}: cites {doc} §{section} which does not exist")
    for pattern, what in FORBIDDEN:
        for match in pattern.finditer(text):
            defects.append(f"{name}:{line_of(text, match.start())}: mentions {what}")
    return defects, checked


def main(argv):
    if len(argv) != 2:
        fail_usage("usage: check_citations.py SOURCE_DIR")
    root = Path(argv[1])
    sections = {}
    for doc in DOCUMENTS:
        path = root / doc
        if not path.is_file():
            fail_usage(f"'{path}' does not exist; citations of {doc} cannot be checked")
        sections[doc] = sections_of(path)
        if not sections[doc]:
            fail_usage(f"'{path}' has no numbered headings ('## 1. ...')")

    defects = []
    checked = 0
    scanned = 0
    for name in tracked_files(root):
        if name.startswith("docs/"):
            continue
        if name.startswith("fuzz/corpus/"):  # fuzzer-mutated configs: their comments are not citations
            continue
        path = root / name
        if not path.is_file():  # deleted in the work tree but still in the index
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        scanned += 1
        file_defects, file_checked = check_text(name, data.decode("utf-8", "replace"), sections)
        defects += file_defects
        checked += file_checked

    for defect in defects:
        print(defect)
    if defects:
        print(f"check_citations: {len(defects)} defect(s) in {scanned} files", file=sys.stderr)
        return 1
    print(f"check_citations: {checked} section citations checked in {scanned} files; none dangling, "
          f"no pointer outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
