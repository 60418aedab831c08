#!/usr/bin/python3
"""Bit-for-bit comparison of two dmconv results files (results/README.md layout).

    scripts/compare_results.py OLD.h5 NEW.h5 [--ignore COLUMN ...] [--tables runs fits]

Proves that a change of the code left the numbers alone: every column of /runs (and, with
--tables runs fits, of /fits) must be present in both files with the same type and
the same values, compared bit for bit (float64 through their IEEE bit patterns, so NaN == NaN
and -0.0 != 0.0). Rows are matched by (run_key, estimator, metric, sampler, kind) for /runs
and by (claim, group) for /fits, so a different row order is reported, not hidden. Columns
that measure the machine rather than the mathematics are ignored: wall_seconds by default.

With --relative, float columns that differ are summarised instead of listed: per column, the
number of differing values and the largest |a - b| / max(|a|, |b|) (after a change that is meant to
move numbers only at the rounding level, such as a vectorised kernel, this is the evidence);
the exit status is then 0 when that largest ratio is at most --relative's bound.

Files without a /runs table (`dmconv lsi` profiles) are compared dataset by dataset instead: every
dataset in either file must be in both with the same bits (names containing "seconds" excepted).

Exit status: 0 identical, 1 a difference (each listed, at most 20 per column), 2 bad input.
Needs only python3-h5py and python3-numpy.
"""
import argparse
import sys

import h5py
import numpy as np

ROW_KEYS = {
    "runs": ("run_key", "estimator", "metric", "sampler", "kind"),
    "fits": ("claim", "group"),
}
DEFAULT_IGNORED = {"runs": {"wall_seconds"}, "fits": set()}


def read_table(path, table):
    with h5py.File(path, "r") as f:
        if table not in f:
            raise SystemExit(f"{path}: no /{table} table")
        group = f[table]
        order = [c.decode() if isinstance(c, bytes) else str(c) for c in group.attrs["column_order"]]
        columns = {}
        for name in order:
            data = group[name][()]
            if data.dtype.kind in ("O", "S"):
                data = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in data], dtype=object)
            columns[name] = data
        return order, columns


def row_index(path, table, columns):
    keys = [k for k in ROW_KEYS[table] if k in columns]
    n = len(next(iter(columns.values()))) if columns else 0
    index = {}
    for i in range(n):
        key = tuple(columns[k][i] for k in keys)
        if key in index:
            raise SystemExit(f"{path}: /{table} has two rows with key {key}")
        index[key] = i
    return index


def same(a, b):
    if isinstance(a, float) or isinstance(b, float) or isinstance(a, np.floating):
        return np.float64(a).view(np.uint64) == np.float64(b).view(np.uint64)
    return a == b


def relative_difference(a, b):
    a, b = float(a), float(b)
    if np.isnan(a) and np.isnan(b):
        return 0.0
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0.0 else abs(a - b) / scale


def compare_table(old_path, new_path, table, ignored, relative=None):
    problems = []
    summaries = []
    old_order, old = read_table(old_path, table)
    new_order, new = read_table(new_path, table)
    for name in old_order:
        if name not in new and name not in ignored:
            problems.append(f"/{table}: column {name} missing from {new_path}")
    for name in new_order:
        if name not in old and name not in ignored:
            problems.append(f"/{table}: column {name} is new in {new_path}")
    old_rows, new_rows = row_index(old_path, table, old), row_index(new_path, table, new)
    for key in old_rows.keys() - new_rows.keys():
        problems.append(f"/{table}: row {key} missing from {new_path}")
    for key in new_rows.keys() - old_rows.keys():
        problems.append(f"/{table}: row {key} is new in {new_path}")
    common = sorted(old_rows.keys() & new_rows.keys(), key=lambda k: old_rows[k])
    compared = 0
    for name in old_order:
        if name in ignored or name not in new:
            continue
        if old[name].dtype.kind != new[name].dtype.kind:
            problems.append(f"/{table}: column {name} type {old[name].dtype} -> {new[name].dtype}")
            continue
        shown = 0
        if relative is not None and old[name].dtype.kind == "f":
            worst, differing = 0.0, 0
            for key in common:
                a, b = old[name][old_rows[key]], new[name][new_rows[key]]
                compared += 1
                if not same(a, b):
                    differing += 1
                    worst = max(worst, relative_difference(a, b))
            if differing:
                line = (f"/{table}: column {name}: {differing} of {len(common)} values differ, "
                        f"largest relative difference {worst:.3g}")
                summaries.append((line, worst))
            continue
        for key in common:
            a, b = old[name][old_rows[key]], new[name][new_rows[key]]
            compared += 1
            if not same(a, b):
                if shown < 20:
                    problems.append(f"/{table} {key}: {name} {a!r} -> {b!r}")
                shown += 1
        if shown > 20:
            problems.append(f"/{table}: column {name}: {shown - 20} more differences")
    if relative is not None:
        for line, worst in summaries:
            (problems if worst > relative else notes).append(line)
    return problems, len(common), compared


notes = []


def datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and "seconds" not in name:
                found[name] = obj[()]
        f.visititems(visit)
    return found


def bits(value):
    array = np.asarray(value)
    if array.dtype.names:
        return tuple(bits(array[n]) for n in array.dtype.names if "seconds" not in n)
    if array.dtype.kind == "f":
        return array.astype(np.float64).view(np.uint64).tobytes()
    if array.dtype.kind in ("O", "S", "U"):
        return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in array.ravel())
    return array.tobytes()


def compare_datasets(old_path, new_path):
    old, new = datasets(old_path), datasets(new_path)
    problems = [f"{name}: only in {old_path if name in old else new_path}" for name in sorted(set(old) ^ set(new))]
    problems += [f"{name}: differs" for name in sorted(set(old) & set(new)) if bits(old[name]) != bits(new[name])]
    for line in problems[:40]:
        print(line)
    print(f"{len(set(old) & set(new))} datasets compared (no /runs table): "
          f"{'identical' if not problems else f'{len(problems)} differences'}")
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--ignore", nargs="*", default=[], help="further columns to ignore")
    parser.add_argument("--tables", nargs="*", default=["runs"], choices=sorted(ROW_KEYS))
    parser.add_argument("--relative", type=float, default=None, metavar="BOUND",
                        help="summarise float differences; fail only above this relative difference")
    args = parser.parse_args()
    try:
        with h5py.File(args.old, "r") as a, h5py.File(args.new, "r") as b:
            without_runs = "runs" not in a and "runs" not in b
    except OSError as error:
        print(f"compare_results: {error}", file=sys.stderr)
        return 2
    if without_runs:
        return compare_datasets(args.old, args.new)
    failed = False
    for table in args.tables:
        ignored = DEFAULT_IGNORED[table] | set(args.ignore)
        try:
            problems, rows, values = compare_table(args.old, args.new, table, ignored, args.relative)
        except (OSError, KeyError) as error:
            print(f"compare_results: {error}", file=sys.stderr)
            return 2
        for line in notes + problems:
            print(line)
        notes.clear()
        status = "identical" if not problems else f"{len(problems)} differences"
        print(f"/{table}: {rows} rows, {values} values compared "
              f"(ignoring {', '.join(sorted(ignored)) or 'nothing'}): {status}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
