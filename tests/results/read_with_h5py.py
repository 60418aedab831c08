#!/usr/bin/env python3
"""Checks that a dmconv results file is readable with plain h5py + numpy (results/README.md).

Usage: read_with_h5py.py DMCONV_TESTS

Runs the gtest ResultsFileH5py.WritesFixtureForPython of the DMCONV_TESTS executable with
DMCONV_RESULTS_FIXTURE pointing into a fresh temporary directory, then reads the file it
wrote with h5py and compares values (doubles bit for bit) and dtypes with the values that
PythonFixture() in tests/results/results_file_test.cpp writes. The two must agree.

Exit status 0 when every check passes, 1 otherwise -- including when h5py or numpy cannot
be imported: this test fails, it never skips.
"""
import os
import struct
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as error:
    print(f"FAIL: {sys.executable} cannot import h5py/numpy ({error}); install the Debian packages "
          "python3-h5py and python3-numpy, or configure with -DDMCONV_PYTHON=<python with h5py>",
          file=sys.stderr)
    sys.exit(1)

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)


def bits(values):
    """The IEEE-754 bit patterns of float64 values, as Python ints."""
    return [struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in values]


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
NAN_BITS = 0x7FF8000000000000  # std::numeric_limits<double>::quiet_NaN()
DENORM_MIN_BITS = 0x0000000000000001

EXPECTED_ATTRIBUTES = [
    ("schema_version", 1),
    ("tool_version", "0.1.0"),
    ("threads", 8),
    ("created_utc", "2024-05-01T12:00:00Z"),
    ("weight", -0.0),
    ("command_line", "dmconv run §6.3 – α.toml --set run.seed=7"),
    ("config_text", "[run]\nsteps = [64, 128]\n"),
]

# name -> list of (column, kind, values); kind is "f8", "i8" or "str"; float values may be
# given as bit patterns (ints) to compare NaN / -0.0 / denormals exactly.
EXPECTED_TABLES = [
    ("runs", [
        ("run_index", "i8", [0, 1, 2, 3]),
        ("sampler", "str", ["ddpm", "", "§6.3 – α", "x" * 10000]),
        ("value", "f8", bits([1.5]) + [NAN_BITS] + bits([float("inf"), -0.0])),
        ("floor", "f8", [DENORM_MIN_BITS] + bits([float("-inf"), 1e308, 0.1])),
        ("seed", "i8", [INT64_MIN, INT64_MAX, -1, 0]),
        ("schedule.c1", "f8", bits([0.5, 0.5, 1.0, 1.0])),
    ]),
    ("fits", [
        ("claim", "str", ["ddpm_T", "ddim_T"]),
        ("slope", "f8", bits([-1.0009765625, -2.5])),
        ("points_used", "i8", [7, 6]),
        ("α.weight", "f8", bits([0.5, 0.25])),
    ]),
    ("empty", [
        ("value", "f8", []),
        ("seed", "i8", []),
        ("sampler", "str", []),
    ]),
    ("no_columns", []),
]


def check_attributes(f):
    names = list(f.attrs.keys())
    for name in names:
        check(h5py.h5a.get_info(f.id, name.encode()).cset == h5py.h5t.CSET_UTF8,
              f"root attribute {name}: name not marked UTF-8")
    check(names == [n for n, _ in EXPECTED_ATTRIBUTES], f"root attributes in creation order: got {names}")
    for name, expected in EXPECTED_ATTRIBUTES:
        if name not in f.attrs:
            check(False, f"root attribute {name} missing")
            continue
        value = f.attrs[name]
        if isinstance(expected, str):
            check(isinstance(value, str) and value == expected,
                  f"attribute {name}: expected str {expected!r}, got {type(value).__name__} {value!r}")
        elif isinstance(expected, int):
            check(isinstance(value, np.int64) and int(value) == expected,
                  f"attribute {name}: expected int64 {expected}, got {type(value).__name__} {value!r}")
        else:
            check(isinstance(value, np.float64) and bits([value]) == bits([expected]),
                  f"attribute {name}: expected float64 {expected!r}, got {type(value).__name__} {value!r}")


def check_table(f, name, columns):
    if name not in f:
        check(False, f"table /{name} missing")
        return
    group = f[name]
    check(isinstance(group, h5py.Group), f"/{name} is a group")
    order = group.attrs.get("column_order")
    expected_order = [c for c, _, _ in columns]
    check(order is not None and list(order) == expected_order,
          f"/{name} column_order: expected {expected_order}, got {order!r}")
    if order is not None:
        check(isinstance(order, np.ndarray) and order.ndim == 1 and all(isinstance(x, str) for x in order),
              f"/{name} column_order is a 1-D array of str, got {order!r}")
    rows = group.attrs.get("rows")
    expected_rows = len(columns[0][2]) if columns else 0
    check(isinstance(rows, np.int64) and int(rows) == expected_rows,
          f"/{name} rows: expected int64 {expected_rows}, got {type(rows).__name__} {rows!r}")
    check(list(group.keys()) == expected_order, f"/{name} datasets in creation order: {list(group.keys())}")
    for column in group.keys():
        check(group.id.links.get_info(column.encode()).cset == h5py.h5t.CSET_UTF8,
              f"/{name}/{column}: link name not marked UTF-8")
    for attribute in group.attrs.keys():
        check(h5py.h5a.get_info(group.id, attribute.encode()).cset == h5py.h5t.CSET_UTF8,
              f"/{name} attribute {attribute}: name not marked UTF-8")
    for column, kind, expected in columns:
        where = f"/{name}/{column}"
        if column not in group:
            check(False, f"{where} missing")
            continue
        dataset = group[column]
        check(dataset.shape == (len(expected),), f"{where}: shape {dataset.shape}, expected ({len(expected)},)")
        if kind == "str":
            check(h5py.check_string_dtype(dataset.dtype) is not None
                  and h5py.check_string_dtype(dataset.dtype).encoding == "utf-8"
                  and h5py.check_string_dtype(dataset.dtype).length is None,
                  f"{where}: expected variable-length UTF-8 strings, got {dataset.dtype}")
            values = dataset.asstr()[()]
            check(isinstance(values, np.ndarray) and values.dtype == object,
                  f"{where}: asstr() gives an object array, got {type(values).__name__}")
            check(list(values) == expected, f"{where}: values differ: {[v[:40] for v in values]}")
        else:
            values = dataset[()]
            check(isinstance(values, np.ndarray) and values.dtype == np.dtype(kind),
                  f"{where}: expected dtype {np.dtype(kind)}, got {getattr(values, 'dtype', None)}")
            if kind == "i8":
                check([int(v) for v in values] == expected, f"{where}: values {values!r}, expected {expected}")
            else:
                got = [int(b) for b in values.astype("<f8").view("<u8")]
                check(got == expected, f"{where}: bit patterns {[hex(b) for b in got]}, "
                                       f"expected {[hex(b) for b in expected]}")


def check_readme_snippet(path):
    # The snippet of results/README.md: /runs as a dict of numpy arrays, in column order.
    with h5py.File(path, "r") as f:
        g = f["runs"]
        runs = {c: (g[c].asstr()[()] if h5py.check_string_dtype(g[c].dtype) else g[c][()])
                for c in g.attrs["column_order"]}
    check(list(runs) == [c for c, _, _ in EXPECTED_TABLES[0][1]], f"snippet columns: {list(runs)}")
    check(runs["value"][0] == 1.5 and np.isnan(runs["value"][1]), f"snippet value: {runs['value']!r}")
    check(runs["sampler"][2] == "§6.3 – α", f"snippet sampler: {runs['sampler'][2]!r}")
    check(runs["seed"].dtype == np.int64 and runs["seed"][0] == INT64_MIN, f"snippet seed: {runs['seed']!r}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    writer = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="dmconv-h5py-") as directory:
        path = os.path.join(directory, "fixture.h5")
        environment = dict(os.environ, DMCONV_RESULTS_FIXTURE=path)
        run = subprocess.run([writer, "--gtest_filter=ResultsFileH5py.WritesFixtureForPython"],
                             env=environment, capture_output=True, text=True)
        if run.returncode != 0 or not os.path.exists(path):
            print(f"FAIL: the writer did not produce {path} (exit {run.returncode})\n{run.stdout}\n{run.stderr}",
                  file=sys.stderr)
            return 1
        with h5py.File(path, "r") as f:
            # h5py lists a File's members in name order; the root group opened as f["/"] honours the
            # tracked creation order.
            tables = [n for n, _ in EXPECTED_TABLES]
            check(list(f["/"].keys()) == tables, f"tables in creation order: {list(f['/'].keys())}")
            for table in tables:
                check(f.id.links.get_info(table.encode()).cset == h5py.h5t.CSET_UTF8,
                      f"/{table}: link name not marked UTF-8")
            check(sorted(f.keys()) == sorted(tables), f"tables: {list(f.keys())}")
            check_attributes(f)
            for name, columns in EXPECTED_TABLES:
                check_table(f, name, columns)
        check_readme_snippet(path)
    for failure in FAILURES:
        print("FAIL:", failure, file=sys.stderr)
    if FAILURES:
        return 1
    print(f"results file read with h5py {h5py.__version__}, numpy {np.__version__}: all checks passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a malformed file may make h5py raise: that is a failure too
        import traceback
        traceback.print_exc()
        print("FAIL: exception while checking the results file", file=sys.stderr)
        sys.exit(1)
