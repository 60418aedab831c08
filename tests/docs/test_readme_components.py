#!/usr/bin/env python3
"""The README's component table ("What is here") and the registries agree.

For each registry kind, every name `dmconv list KIND` prints appears (in backticks) in the
README row of that kind, and every backticked identifier in that row is a registered name.
Usage: test_readme_components.py DMCONV README.md
"""
import re
import subprocess
import sys
import unittest

DMCONV, README = sys.argv[1], sys.argv[2]

# README row label (first cell starts with it) -> `dmconv list` kind.
KINDS = {"targets": "targets", "schedules": "schedules", "samplers": "samplers",
         "estimators": "estimators", "score errors": "score_errors", "likelihoods": "likelihoods",
         "posterior samplers": "posterior_samplers", "posterior estimators": "posterior_estimators"}


def readme_rows():
    text = open(README, encoding="utf-8").read()
    section = text.split("## What is here", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        for label, kind in KINDS.items():
            if cells[0].startswith(label):
                rows[kind] = cells[1]
    return rows


def registered(kind):
    out = subprocess.run([DMCONV, "list", kind], check=True, capture_output=True, text=True).stdout
    # One line per component: two spaces, the name, the description.
    return {line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.strip()}


class ReadmeComponents(unittest.TestCase):
    def test_every_kind_has_a_row(self):
        self.assertEqual(sorted(readme_rows()), sorted(KINDS.values()))

    def test_rows_match_registries(self):
        rows = readme_rows()
        for kind in KINDS.values():
            with self.subTest(kind=kind):
                names = registered(kind)
                self.assertTrue(names, kind)
                # Backticked plain identifiers are component names; paths, code and TOML are not.
                listed = set(re.findall(r"`([a-z][a-z0-9_]*)`", rows[kind]))
                self.assertEqual(sorted(names - listed), [], "registered but not in the README row")
                self.assertEqual(sorted(listed - names), [], "in the README row but not registered")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
