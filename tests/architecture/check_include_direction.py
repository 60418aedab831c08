#!/usr/bin/env python3
"""Dependencies between the source directories point one way.

Scans every #include of src/ and targets/ and fails (exit 1, one line per violation: file, line,
included header, rule) when a directory includes a project directory it may not see:

  core                                    -> core only
  schedules, samplers, score_errors,      -> core and itself: components know the interfaces of
  targets, estimators, analysis, results     core, never each other's concrete classes
                                             (estimators/analysis ask Target capability queries
                                             instead of naming target classes)
  config                                  -> the component directories, not experiment or cli
  posterior                               -> core, estimators and itself
  parallel                                -> core, results and itself (messages between MPI
                                             ranks: byte messages and the column tables they carry)
  experiment                              -> everything but lsi and cli
  lsi                                     -> everything but cli (the stages of `dmconv lsi`)
  cli                                     -> everything

The generated header directory "dmconv/" (version.hpp) may be included from anywhere. Also, src/estimators
and src/analysis use no dynamic_cast: they ask Target / ScoreModel capability queries.
Usage: check_include_direction.py [REPOSITORY_ROOT]  (default: two levels above this file).
"""
import pathlib
import re
import sys

COMPONENTS = {"schedules", "samplers", "score_errors", "targets", "estimators", "analysis", "results"}
PROJECT_DIRS = {"core", "config", "experiment", "lsi", "cli"} | COMPONENTS
ALLOWED = {"core": {"core"}, "config": {"core", "config"} | COMPONENTS,
           "experiment": {"core", "config", "experiment"} | COMPONENTS,
           "lsi": {"core", "config", "experiment", "lsi"} | COMPONENTS, "cli": PROJECT_DIRS}
for component in COMPONENTS:
    ALLOWED[component] = {"core", component}
# Posterior sampling composes components (closed-form Gaussian distances, 1-D mixture laws of the
# estimators) into likelihoods, exact posterior laws and posterior samplers; config and later stages use it.
PROJECT_DIRS = PROJECT_DIRS | {"posterior"}
ALLOWED["posterior"] = {"core", "estimators", "posterior"}
for stage in ("config", "experiment", "lsi", "cli"):
    ALLOWED[stage] = ALLOWED[stage] | {"posterior"}
# Messages between MPI ranks; the experiment stage distributes runs with them.
PROJECT_DIRS = PROJECT_DIRS | {"parallel"}
ALLOWED["parallel"] = {"core", "results", "parallel"}
for stage in ("experiment", "lsi", "cli"):
    ALLOWED[stage] = ALLOWED[stage] | {"parallel"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')
SUFFIXES = {".hpp", ".cpp", ".inc", ".in", ".h"}
NO_CASTS = {"estimators", "analysis"}
CAST = re.compile(r"\bdynamic_cast\s*<")


def layer_of(path, root):
    """The directory whose rule applies to a file: src/<dir>/... or targets/..."""
    parts = path.relative_to(root).parts
    if parts[0] == "targets":
        return "targets"
    return parts[1] if parts[0] == "src" and len(parts) > 2 else None


def violations(root):
    found = []
    files = [p for top in ("src", "targets") for p in sorted((root / top).rglob("*")) if p.suffix in SUFFIXES]
    if not files:
        found.append(f"{root}: no sources found under src/ or targets/ (wrong root?)")
    for path in files:
        layer = layer_of(path, root)
        if layer not in ALLOWED:
            found.append(f"{path.relative_to(root)}: directory '{layer}' has no include rule; add it to this test")
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if layer in NO_CASTS and CAST.search(line.split("//")[0]):
                found.append(f"{path.relative_to(root)}:{number}: dynamic_cast in '{layer}': ask a Target/ScoreModel "
                             "capability query instead")
            match = INCLUDE.match(line)
            if not match or "/" not in match.group(1):
                continue
            target_dir = match.group(1).split("/")[0]
            if target_dir in PROJECT_DIRS and target_dir not in ALLOWED[layer]:
                found.append(f"{path.relative_to(root)}:{number}: includes \"{match.group(1)}\", but '{layer}' may "
                             f"include only {', '.join(sorted(ALLOWED[layer]))}")
    return found


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2]).resolve()
    found = violations(root)
    for line in found:
        print(line)
    print(f"include direction: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
