#!/usr/bin/python3
"""Regenerate every plot of a dmconv results file (HDF5, schema version 1).

    plot_results.py RESULTS.h5 [--out-dir DIR] [--format png|pdf]

Plots error against every swept axis with at least two distinct values: the number of
steps T (column "steps"), the dimension d (column "dim"), and every numeric swept
parameter column (dotted config path, e.g. "score_error.amplitude"). One figure per
(axis, target, metric, estimator, schedule, values of the other configuration columns);
one marker set per sampler. Fits of the /fits table whose axis, metric, sampler and group
match a figure are drawn over it (fitted line over the used range, dashed line of the
claimed slope, with the fit's log factor, anchored at the first used point). Fits about a ratio (column "versus" not
empty) get a figure of their own: sampler error / versus error against the axis. Figures
carrying an exponential-model fit (column "model" = "exponential": log err linear in x, e.g.
the Langevin corrector time T2) use a linear x axis (semi-log plot), where such fits are
straight lines; all others are log-log.

Conventions (see plots/README.md):
  * replicates (rows differing only in "replicate"/"seed") are averaged: the point is the
    mean of the status-ok values; its standard error is sqrt(sum se_i^2) / R from the
    reported standard errors, or, when all reported se_i are 0 and R > 1, the replicate
    spread sd / sqrt(R);
  * error bars are +-1.96 SE (95% intervals), drawn only when SE > 0;
  * hollow markers: points not used by the fits -- value <= 10 x floor (noise, round-off or
    initialisation floor), or listed in a matching fit's exclusions;
  * rows with status != ok are omitted from the axes and listed under the figure.

Colours, markers, fonts and sizes come from plots/style.py (shared by every plot script and the
HTML report). plot_file() also says which figure each /fits row is drawn on (plots/report.py).

Exit codes: 0 success; 2 unusable input (missing/unreadable file, wrong schema_version,
missing table or column); 1 missing Python packages.
"""

import argparse
import math
import os
import re
import sys
import textwrap
from collections import OrderedDict

try:
    import numpy as np
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import style as shared_style   # plots/style.py: the look shared by every figure and the report
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    sys.stderr.write(
        "plot_results.py: missing Python package (%s); install python3-numpy, "
        "python3-matplotlib and python3-h5py and run with /usr/bin/python3\n" % exc)
    sys.exit(1)

SCHEMA_VERSION = 1
FLOOR_FACTOR = 10.0   # points with value <= FLOOR_FACTOR * floor are excluded from fits
Z95 = 1.96

RUNS_REQUIRED = ["target", "sampler", "schedule", "estimator", "metric", "status",
                 "dim", "steps", "value", "std_error", "floor"]
FITS_REQUIRED = ["claim", "group", "sampler", "metric", "axis", "slope"]

# Per-row outputs and identifiers: never part of a figure's configuration key.
NON_CONFIG_COLUMNS = {
    "run_index", "run_key", "kind", "status", "message", "replicate", "seed",
    "value", "std_error", "floor", "nfe", "wall_seconds", "eps_score", "eps_jacobi",
    "eps_score_se", "eps_jacobi_se",
    # What `steps` counts differs between the samplers of one posterior figure (DPnP's outer
    # iterations K next to DPS's diffusion steps T): it labels the axis, never splits figures.
    "steps_meaning",
}
# Realised score errors (measured per run): plotted against when they vary, never figure keys.
REALISED_ERROR_AXES = ["eps_score", "eps_jacobi"]
# Columns that always separate figures (never merged even if they co-vary with the axis).
STRUCTURAL_COLUMNS = {"target", "schedule", "estimator", "metric"}
# Estimator details that may legitimately differ between samplers of one figure (e.g. an
# estimator using particles for one sampler and quadrature for another): shown in the
# title, not used to split figures. A swept value (e.g. "estimator.particles") has its own
# column, which is part of the key.
DESCRIPTIVE_COLUMNS = {"particles", "comparison_level"}

# Columns of the fixed /runs layout (everything else is a swept parameter column).
FIXED_RUN_COLUMNS = {
    "run_index", "run_key", "target", "sampler", "schedule", "estimator", "metric", "kind",
    "status", "message", "dim", "steps", "replicate", "seed", "particles", "comparison_level",
    "initialisation", "value", "std_error", "floor", "nfe", "wall_seconds", "eps_score",
    "eps_jacobi", "eps_score_se", "eps_jacobi_se", "score_error", "likelihood", "steps_meaning",
}

AXIS_SHORT = {"steps": "T", "dim": "d"}
AXIS_LONG = {
    "eps_score": "realised eps_score (docs/theory.md §3)",
    "eps_jacobi": "realised eps_Jacobi (docs/theory.md §3)","steps": "T (number of steps)", "dim": "d (dimension)"}
AXIS_ALIASES = {"T": "steps", "t": "steps", "steps": "steps",
                "d": "dim", "dim": "dim", "dimension": "dim"}


class InputError(Exception):
    """Unusable results file: reported with exit code 2."""


# --------------------------------------------------------------------------------------
# Reading


def _decode_attr(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _decode_attr(value[()])
    if isinstance(value, np.generic):
        return value.item()
    return value


def _column_order(group):
    order = group.attrs.get("column_order")
    names = []
    if order is not None:
        order = np.atleast_1d(order)
        names = [_decode_attr(n) for n in order.tolist()]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    present = [n for n in names if n in group]
    present += sorted(k for k in group.keys() if k not in present)
    return present


def read_table(h5, name, required, allow_empty_group=False):
    if name not in h5 or not isinstance(h5[name], h5py.Group):
        raise InputError("table /%s is missing" % name)
    group = h5[name]
    columns = OrderedDict()
    if allow_empty_group and len(group.keys()) == 0:
        # A table with no rows written without its (empty) column datasets.
        for col in required:
            columns[col] = np.array([], dtype=object)
        return columns
    for col in _column_order(group):
        ds = group[col]
        if not isinstance(ds, h5py.Dataset) or ds.ndim != 1:
            raise InputError("/%s/%s is not a 1-D dataset" % (name, col))
        if h5py.check_string_dtype(ds.dtype) is not None:
            columns[col] = np.array(ds.asstr()[...], dtype=object)
        else:
            columns[col] = np.asarray(ds[...])
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InputError("/%s columns have different lengths: %s" % (
            name, ", ".join("%s=%d" % (k, len(v)) for k, v in columns.items())))
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError("/%s lacks required column(s): %s" % (name, ", ".join(missing)))
    return columns


def load_results(path):
    if not os.path.exists(path):
        raise InputError("no such file: %s" % path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError("cannot open %s as HDF5: %s" % (path, exc))
    with h5:
        attrs = {k: _decode_attr(v) for k, v in h5.attrs.items()}
        if "schema_version" not in attrs:
            raise InputError("%s has no root attribute schema_version" % path)
        try:
            version = int(attrs["schema_version"])
        except (TypeError, ValueError):
            version = None
        if version != SCHEMA_VERSION:
            raise InputError("%s has schema_version %r; this script reads version %d" % (
                path, attrs["schema_version"], SCHEMA_VERSION))
        runs = read_table(h5, "runs", RUNS_REQUIRED)
        fits = read_table(h5, "fits", FITS_REQUIRED, allow_empty_group=True)
    return attrs, runs, fits


# --------------------------------------------------------------------------------------
# Small helpers


def is_numeric(arr):
    return arr.dtype.kind in "iufb"


def fmt_value(v):
    if isinstance(v, str):
        return v
    if v is None:
        return "n/a"
    v = float(v)
    if math.isnan(v):
        return "nan"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return "%.6g" % v


def key_value(arr, i):
    """Hashable, comparable value of row i (NaN -> the string 'nan')."""
    v = arr[i]
    if isinstance(v, (str, bytes)):
        return v.decode() if isinstance(v, bytes) else v
    v = float(v)
    return "nan" if math.isnan(v) else v


def sanitise(s):
    s = re.sub(r"[^A-Za-z0-9._=+-]+", "_", str(s)).strip("_")
    return s or "x"


def axis_short(col):
    return AXIS_SHORT.get(col, col)


def axis_long(col):
    return AXIS_LONG.get(col, col)


def same_number(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)


def same_printed_number(a, b):
    """Equal, or equal as printed in fit strings (exclusions, groups: "%.6g")."""
    return same_number(a, b) or "%.6g" % a == "%.6g" % b


def parse_exclusions(text):
    """'x=VALUE: reason; x=VALUE: reason' -> list of (float VALUE, reason)."""
    out = []
    if not text:
        return out
    for entry in str(text).split(";"):
        entry = entry.strip()
        if not entry:
            continue
        m = re.match(r"^[^=:]*=\s*([^:\s]+)\s*(?::\s*(.*))?$", entry)
        if not m:
            continue
        try:
            out.append((float(m.group(1)), (m.group(2) or "").strip()))
        except ValueError:
            continue
    return out


def aggregate(values, ses, floors):
    """Average replicates of one configuration (status-ok values only).

    Returns (mean, se, floor, se_method). se is sqrt(sum se_i^2)/R from the reported
    standard errors; when every reported se_i is 0 (or NaN) and R > 1, the replicate spread
    sd/sqrt(R) (ddof = 1) is used instead. floor is the largest finite replicate floor.
    """
    values = np.asarray(values, dtype=float)
    ses = np.asarray(ses, dtype=float)
    floors = np.asarray(floors, dtype=float)
    r = len(values)
    mean = float(np.mean(values))
    finite_se = ses[np.isfinite(ses)]
    if finite_se.size and np.any(finite_se > 0):
        se = float(math.sqrt(np.sum(finite_se ** 2)) / r)
        method = "reported"
    elif r > 1:
        se = float(np.std(values, ddof=1) / math.sqrt(r))
        method = "spread"
    else:
        se = 0.0
        method = "none"
    finite_floor = floors[np.isfinite(floors)]
    floor = float(np.max(finite_floor)) if finite_floor.size else float("nan")
    return mean, se, floor, method


# --------------------------------------------------------------------------------------
# Figure model


class Point:
    __slots__ = ("x", "value", "se", "floor", "replicates", "se_method", "under_floor",
                 "fit_excluded")

    def __init__(self, x, value, se, floor, replicates, se_method):
        self.x = x
        self.value = value
        self.se = se
        self.floor = floor
        self.replicates = replicates
        self.se_method = se_method
        self.under_floor = (math.isfinite(floor) and floor > 0
                            and value <= FLOOR_FACTOR * floor)
        self.fit_excluded = False

    @property
    def hollow(self):
        return self.under_floor or self.fit_excluded


class Figure:
    def __init__(self, axis_col, key, covarying):
        self.axis_col = axis_col
        self.key = key                  # OrderedDict column -> value
        self.covarying = covarying      # numeric columns co-varying with the axis
        self.rows = []
        self.points = OrderedDict()     # sampler -> list[Point] sorted by x
        self.omitted = []               # notes about status != ok rows
        self.kinds = set()
        self.descriptive = OrderedDict()  # column -> set of values over the figure's rows
        self.fits = []                  # matched fit row indices (versus == "")
        self.ratio_fits = OrderedDict() # (sampler, versus) -> [fit row indices]
        self.notes = []


def config_columns(runs):
    """Columns that identify a configuration (aliases of another column dropped)."""
    aliases = numeric_aliases(runs)
    return [c for c in runs
            if c not in NON_CONFIG_COLUMNS and c not in DESCRIPTIVE_COLUMNS
            and c != "sampler" and c not in aliases]


def _float_codes(arr):
    vals = np.asarray(arr, dtype=float)
    return np.where(np.isnan(vals), -1.7e308, vals)


def is_alias(runs, col_a, col_b):
    """Non-constant numeric columns in one-to-one correspondence over all rows."""
    a, b = _float_codes(runs[col_a]), _float_codes(runs[col_b])
    na, nb = len(np.unique(a)), len(np.unique(b))
    if na < 2 or na != nb:
        return False
    return len(np.unique(np.stack([a, b], axis=1), axis=0)) == na


_ALIAS_CACHE = {}


def numeric_aliases(runs):
    """{alias column: canonical column} for swept numeric columns that merely restate
    another one (e.g. a swept "target.dim" next to "dim"); steps and dim are canonical."""
    cached = _ALIAS_CACHE.get(id(runs))
    if cached is not None and cached[0] is runs:
        return cached[1]
    canonical = [c for c in ("steps", "dim") if c in runs]
    aliases = {}
    for col in runs:
        if (col in canonical or col in NON_CONFIG_COLUMNS or col in DESCRIPTIVE_COLUMNS
                or col in FIXED_RUN_COLUMNS or not is_numeric(runs[col])):
            continue
        target = next((c for c in canonical if is_alias(runs, col, c)), None)
        if target is None:
            canonical.append(col)
        else:
            aliases[col] = target
    _ALIAS_CACHE[id(runs)] = (runs, aliases)
    return aliases


def distinct_numeric(arr):
    vals = arr.astype(float)
    vals = vals[np.isfinite(vals)]
    return np.unique(vals)


def is_function_of(runs, col, axis_col, mask):
    """True when col takes one value per value of axis_col (rows in mask) and is not constant."""
    mapping = {}
    seen = set()
    a = runs[axis_col]
    c = runs[col]
    for i in np.nonzero(mask)[0]:
        kv = key_value(c, i)
        seen.add(kv)
        ax = key_value(a, i)
        if mapping.setdefault(ax, kv) != kv:
            return False
    return len(seen) > 1


def plot_axes(runs):
    """Numeric columns to plot against: steps, dim, then numeric swept parameter columns."""
    axes = []
    for col in ["steps", "dim"]:
        if col in runs and len(distinct_numeric(runs[col])) >= 2:
            axes.append(col)
    aliases = numeric_aliases(runs)
    for col in runs:
        if col in FIXED_RUN_COLUMNS or col in NON_CONFIG_COLUMNS or not is_numeric(runs[col]):
            continue
        if col in aliases:
            continue   # e.g. a swept "target.dim" column restating "dim"
        if len(distinct_numeric(runs[col])) < 2:
            continue
        axes.append(col)
    # Error vs the realised score errors (docs/theory.md §3), when a score-error parameter is swept.
    # Only when it varies by more than Monte Carlo noise (e.g. not in a frequency sweep at fixed L2 size).
    for col in REALISED_ERROR_AXES:
        vals = distinct_numeric(runs[col]) if col in runs else np.array([])
        vals = vals[vals > 0]
        if len(vals) >= 2 and vals.max() >= 1.5 * vals.min():
            axes.append(col)
    return axes


def build_figures(runs, axis_col):
    n = len(runs["value"])
    x_all = runs[axis_col].astype(float)
    mask = np.isfinite(x_all)
    covarying = [c for c in config_columns(runs)
                 if c != axis_col and c not in STRUCTURAL_COLUMNS and is_numeric(runs[c])
                 and is_function_of(runs, c, axis_col, mask)]
    key_cols = [c for c in config_columns(runs) if c != axis_col and c not in covarying]
    figures = OrderedDict()
    for i in range(n):
        if not mask[i]:
            continue
        key = tuple(key_value(runs[c], i) for c in key_cols)
        fig = figures.get(key)
        if fig is None:
            fig = figures[key] = Figure(axis_col, OrderedDict(zip(key_cols, key)), covarying)
        fig.rows.append(i)

    status = runs["status"]
    sampler = runs["sampler"]
    value = runs["value"].astype(float)
    se = runs["std_error"].astype(float)
    floor = runs["floor"].astype(float)
    message = runs.get("message")
    replicate = runs.get("replicate")
    kind = runs.get("kind")
    out = []
    for fig in figures.values():
        xs = {float(x_all[i]) for i in fig.rows}
        if len(xs) < 2:
            continue
        cells = OrderedDict()
        for i in sorted(fig.rows, key=lambda j: (str(sampler[j]), float(x_all[j]))):
            if kind is not None:
                fig.kinds.add(str(kind[i]))
            for c in DESCRIPTIVE_COLUMNS:
                if c in runs:
                    fig.descriptive.setdefault(c, set()).add(key_value(runs[c], i))
            s = str(sampler[i])
            x = float(x_all[i])
            rep = ("" if replicate is None else " rep %s" % fmt_value(replicate[i]))
            where = "%s %s=%s%s" % (s, axis_short(axis_col), fmt_value(x), rep)
            if str(status[i]) != "ok":
                msg = "" if message is None else str(message[i]).strip()
                fig.omitted.append("%s: %s%s" % (where, status[i], (" - " + msg) if msg else ""))
                continue
            if not math.isfinite(value[i]):
                fig.omitted.append("%s: status ok but value %s" % (where, fmt_value(value[i])))
                continue
            cells.setdefault(s, OrderedDict()).setdefault(x, []).append(i)
        for s, by_x in cells.items():
            pts = []
            for x, idx in sorted(by_x.items()):
                mean, err, fl, method = aggregate(value[idx], se[idx], floor[idx])
                pts.append(Point(x, mean, err, fl, len(idx), method))
            fig.points[s] = pts
        for s in sorted({str(sampler[i]) for i in fig.rows}):
            fig.points.setdefault(s, [])
        out.append(fig)
    return out


# --------------------------------------------------------------------------------------
# Matching fit rows to figures


def resolve_group_key(key, columns):
    if key in AXIS_ALIASES and AXIS_ALIASES[key] in columns:
        return AXIS_ALIASES[key]
    if key in columns:
        return key
    cands = [c for c in columns if c.endswith("." + key)]
    return cands[0] if len(cands) == 1 else None


def group_constraints(group, runs):
    """Parse a group string into ([(column, value)], [bare tokens])."""
    pairs, bare = [], []
    for tok in re.split(r"[;,|&/\s]+", str(group or "")):
        if not tok:
            continue
        if "=" in tok:
            k, v = tok.split("=", 1)
        elif ":" in tok:
            k, v = tok.split(":", 1)
        else:
            bare.append(tok)
            continue
        col = resolve_group_key(k.strip(), runs)
        if col is None:
            continue
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':  # a swept TOML string prints quoted in the group
            v = v[1:-1]
        canon = numeric_aliases(runs).get(col)
        if canon is not None:
            # Translate a value of an alias column into the canonical column's value.
            try:
                hit = np.nonzero(np.isclose(runs[col].astype(float), float(v),
                                            rtol=5e-6, atol=0))[0]
            except ValueError:
                hit = []
            if len(hit) == 0:
                continue
            col, v = canon, fmt_value(runs[canon][hit[0]])
        pairs.append((col, v))
    return pairs, bare


def value_matches(fig_value, text):
    if isinstance(fig_value, float):
        try:
            # Group strings print numbers with 6 significant digits ("%.6g").
            return same_number(fig_value, float(text)) or "%.6g" % fig_value == text
        except ValueError:
            return fmt_value(fig_value) == text
    return str(fig_value) == text


def group_matches(fig, group, runs, categorical):
    pairs, bare = group_constraints(group, runs)
    for col, text in pairs:
        if col in fig.key and not value_matches(fig.key[col], text):
            return False
    for tok in bare:
        cols = [c for c, vals in categorical.items() if tok in vals and c in fig.key]
        if cols and not any(fig.key[c] == tok for c in cols):
            return False
    return True


def fit_axis_column(axis, runs):
    axis = str(axis)
    if axis in AXIS_ALIASES:
        return AXIS_ALIASES[axis]
    return axis if axis in runs else None


def fcol(fits, name, j, default=float("nan")):
    arr = fits.get(name)
    if arr is None:
        return default
    v = arr[j]
    if isinstance(v, (str, bytes)):
        return v.decode() if isinstance(v, bytes) else v
    return float(v)


def used_points(points, exclusions, linear_x=False):
    """Points a fit used: not under their floor, positive (x > 0 too unless the model is
    exponential, where x = 0 is an ordinary point), not listed in the exclusions."""
    used = []
    for p in points:
        if p.under_floor or (p.x <= 0 and not linear_x) or p.value <= 0:
            continue
        if any(same_printed_number(p.x, ex) for ex, _ in exclusions):
            continue
        used.append(p)
    return used


def attach_fits(figures_by_axis, runs, fits):
    """Assign every fit row to the figures it belongs to; return notes on unmatched rows."""
    categorical = {c: set(str(v) for v in runs[c]) for c in config_columns(runs)
                   if not is_numeric(runs[c])}
    warnings = []
    nfits = len(fits["slope"])
    for j in range(nfits):
        axis_col = fit_axis_column(fcol(fits, "axis", j, ""), runs)
        sampler = str(fcol(fits, "sampler", j, ""))
        versus = str(fcol(fits, "versus", j, ""))
        metric = str(fcol(fits, "metric", j, ""))
        group = str(fcol(fits, "group", j, ""))
        label = "fit row %d (claim %s, group %s)" % (j, fcol(fits, "claim", j, ""), group)
        if axis_col is None or axis_col not in figures_by_axis:
            warnings.append("%s: axis %r is not a plotted axis" % (
                label, fcol(fits, "axis", j, "")))
            continue
        cands = []
        for fig in figures_by_axis[axis_col]:
            if fig.key.get("metric") != metric:
                continue
            if sampler not in fig.points or (versus and versus not in fig.points):
                continue
            if not group_matches(fig, group, runs, categorical):
                continue
            cands.append(fig)
        if len(cands) > 1 and not versus:
            # Disambiguate an opaque group string by the number of points the fit used.
            want = fcol(fits, "points_used", j)
            if math.isfinite(want):
                excl = parse_exclusions(fcol(fits, "exclusions", j, ""))
                if math.isfinite(fcol(fits, "baseline", j)):
                    excl = excl + [(fcol(fits, "baseline", j), "baseline")]
                narrowed = [f for f in cands
                            if len(used_points(f.points[sampler], excl, is_exponential(fits, j)))
                            == int(want)]
                if narrowed:
                    cands = narrowed
        if not cands:
            warnings.append("%s: no figure matches (axis %s, metric %s, sampler %s%s)" % (
                label, axis_short(axis_col), metric, sampler,
                (", versus " + versus) if versus else ""))
            continue
        for fig in cands:
            if len(cands) > 1:
                fig.notes.append("%sfit row %d (group '%s') matched %d figures; drawn on each"
                                 % ("ratio " if versus else "", j, group, len(cands)))
            if versus:
                fig.ratio_fits.setdefault((sampler, versus), []).append(j)
            else:
                fig.fits.append(j)
                excluded = [ex for ex, _ in parse_exclusions(fcol(fits, "exclusions", j, ""))]
                if math.isfinite(fcol(fits, "baseline", j)):
                    excluded.append(fcol(fits, "baseline", j))   # err(x_b) is subtracted, not fitted
                for ex in excluded:
                    for p in fig.points[sampler]:
                        if same_printed_number(p.x, ex):
                            p.fit_excluded = True
    return warnings


# --------------------------------------------------------------------------------------
# Drawing

MARKERS = shared_style.MARKERS
# One colour and marker per sampler, oracle floors grey (plots/style.py).
Style = shared_style.SamplerStyle


def fit_label(fits, j, sampler, versus="", axis="x"):
    slope = fcol(fits, "slope", j)
    lo, hi = fcol(fits, "slope_low", j), fcol(fits, "slope_high", j)
    k = fcol(fits, "log_power", j)
    claimed = fcol(fits, "claimed_slope", j)
    bound = fcol(fits, "bound", j, "")
    verdict = fcol(fits, "verdict", j, "")
    who = sampler if not versus else "%s/%s" % (sampler, versus)
    text = "%s: fit slope %.2f" % (who, slope)
    if math.isfinite(lo) and math.isfinite(hi):
        text += " [%.2f, %.2f]" % (lo, hi)
    if math.isfinite(k) and k != 0:
        text += " x (log %s)^%.2f" % (axis, k)
    if math.isfinite(claimed):
        text += "; claimed %s" % fmt_value(round(claimed, 4))
        if bound:
            text += " (%s)" % bound
    if verdict:
        text += ": %s" % verdict
    return text


def is_exponential(fits, j):
    return fcol(fits, "model", j, "power") == "exponential"


def fitted_curve(fits, j, used, xs):
    """y on xs from log y = intercept + slope log x + k log log x (natural logs), or
    log y = intercept + slope x for an exponential-model fit.

    Without an "intercept" column the intercept is the mean residual over the used points.
    """
    slope = fcol(fits, "slope", j)
    k = fcol(fits, "log_power", j)
    k = k if math.isfinite(k) else 0.0

    exponential = is_exponential(fits, j)

    def shape(x):
        x = np.asarray(x, dtype=float)
        if exponential:
            return slope * x
        out = slope * np.log(x)
        if k != 0:
            with np.errstate(invalid="ignore", divide="ignore"):
                out = out + k * np.log(np.log(x))
        return out

    a = fcol(fits, "intercept", j)
    if not math.isfinite(a):
        ux = np.array([p.x for p in used])
        uy = np.array([p.value for p in used])
        resid = np.log(uy) - shape(ux)
        resid = resid[np.isfinite(resid)]
        if not resid.size:
            return None
        a = float(np.mean(resid))
    return np.exp(a + shape(xs))


def claimed_curve(fits, j, x0, y0, xs):
    """The claimed rate through (x0, y0) on xs, or None without a claimed slope: y0 e^{c (x - x0)}
    for an exponential model, else y0 (x / x0)^c (log x / log x0)^k with the fit's log power k --
    the same log factor as the fitted line, so the two differ only by the slope the verdict judges.
    """
    claimed = fcol(fits, "claimed_slope", j)
    if not math.isfinite(claimed):
        return None
    xs = np.asarray(xs, dtype=float)
    if is_exponential(fits, j):
        return y0 * np.exp(claimed * (xs - x0))
    ys = y0 * (xs / x0) ** claimed
    k = fcol(fits, "log_power", j)
    if math.isfinite(k) and k != 0 and x0 > 1 and np.all(xs > 1):
        ys = ys * (np.log(xs) / np.log(x0)) ** k
    return ys


def tick_label(x):
    text = fmt_value(x)
    return text if len(text) <= 6 else "%.3g" % x


def draw_series(ax, points, color, marker, label, notes, axis_col, sampler, linear_x=False):
    pos = [p for p in points if (linear_x or p.x > 0) and p.value > 0]
    for p in points:
        if p.value <= 0:
            notes.append("%s %s=%s: value %s not shown on log axis" % (
                sampler, axis_short(axis_col), fmt_value(p.x), fmt_value(p.value)))
        elif linear_x:
            continue
        elif p.x == 0:
            ax.axhline(p.value, color=color, ls=":", lw=1.0, gid="zero_baseline")
            notes.append("%s at %s=0: %.3g (dotted horizontal line)" % (
                sampler, axis_short(axis_col), p.value))
        elif p.x < 0:
            notes.append("%s %s=%s: %.3g not shown on log axis" % (
                sampler, axis_short(axis_col), fmt_value(p.x), p.value))
    if not pos:
        return None
    xs = np.array([p.x for p in pos])
    ys = np.array([p.value for p in pos])
    ax.plot(xs, ys, "-", color=color, zorder=1, **shared_style.DATA_LINE)
    with_err = [p for p in pos if p.se > 0 and math.isfinite(p.se)]
    if with_err:
        ex = np.array([p.x for p in with_err])
        ey = np.array([p.value for p in with_err])
        half = np.array([Z95 * p.se for p in with_err])
        lower = np.minimum(half, ey * (1 - 1e-9))   # keep the bar on the log axis
        ax.errorbar(ex, ey, yerr=[lower, half], fmt="none", ecolor=color, elinewidth=1.0,
                    capsize=2.5, zorder=2)
    filled = [p for p in pos if not p.hollow]
    hollow = [p for p in pos if p.hollow]
    handle = None
    if filled:
        handle, = ax.plot([p.x for p in filled], [p.value for p in filled], ls="none",
                          marker=marker, color=color, ms=shared_style.MARKER_SIZE, zorder=3, label=label)
    if hollow:
        h, = ax.plot([p.x for p in hollow], [p.value for p in hollow], ls="none",
                     marker=marker, color=color, ms=shared_style.MARKER_SIZE, zorder=3, **shared_style.HOLLOW,
                     label=label if handle is None else "_nolegend_")
        handle = handle or h
    return handle


def draw_fit(ax, fits, j, points, color, axis_col, notes, sampler, versus="", linear_x=False):
    excl = parse_exclusions(fcol(fits, "exclusions", j, ""))
    # A claim with a baseline x_b fits err(x) - err(x_b): the curves are drawn as
    # err(x_b) + fitted difference, and the baseline point is not a fitted point.
    base_x = fcol(fits, "baseline", j)
    offset = 0.0
    if math.isfinite(base_x):
        base = [p for p in points if same_number(p.x, base_x)]
        if not base:
            notes.append("%s: baseline point %s=%s not in the plotted data" % (
                sampler, axis_short(axis_col), fmt_value(base_x)))
            return False
        offset = base[0].value
        excl = excl + [(base_x, "baseline")]
    used = used_points(points, excl, is_exponential(fits, j))
    label = fit_label(fits, j, sampler, versus, axis_short(axis_col))
    if math.isfinite(base_x):
        label += " (fit of err - err(%s=%s))" % (axis_short(axis_col), fmt_value(base_x))
    if not used:
        notes.append("%s (no used point found in the plotted data)" % label)
        return False
    x0, x1 = used[0].x, used[-1].x
    if x1 <= x0:
        xs = np.array([x0])
    else:
        xs = np.linspace(x0, x1, 64) if linear_x else np.geomspace(x0, x1, 64)
    ys = fitted_curve(fits, j, used, xs)
    if ys is not None:
        ys = ys + offset
    if ys is not None and np.any(np.isfinite(ys)):
        ax.plot(xs, ys, color=color, zorder=4, label=label, **shared_style.FIT_LINE)
    else:
        notes.append("%s (fitted line not drawable)" % label)
    claimed_ys = claimed_curve(fits, j, x0, used[0].value - offset, xs)
    if claimed_ys is not None:
        ax.plot(xs, offset + claimed_ys, color=color, zorder=4, **shared_style.CLAIM_LINE)
    excluded = ["%s=%s: %s" % (axis_short(axis_col), fmt_value(x), r or "excluded")
                for x, r in excl if not (math.isfinite(base_x) and same_number(x, base_x))]
    if excluded:
        notes.append("%s fit exclusions: %s" % (
            sampler if not versus else sampler + "/" + versus, "; ".join(excluded)))
    return True


def verdict_line(fits, rows):
    """'verdict: claim (sampler): holds; ...' for the fit rows drawn on a figure, or None."""
    parts = []
    for j in rows:
        who = str(fcol(fits, "sampler", j, ""))
        versus = str(fcol(fits, "versus", j, ""))
        if versus:
            who += "/" + versus
        parts.append("%s (%s): %s" % (fcol(fits, "claim", j, "?"), who,
                                      fcol(fits, "verdict", j, "no verdict") or "no verdict"))
    if not parts:
        return None
    return ("verdict: " if len(parts) == 1 else "verdicts: ") + "; ".join(parts)


def title_lines(fig, metric_label, verdicts=None):
    """Title: metric, axis, target, estimator (kind), schedule; other fixed values; and the
    verdicts of the fits drawn (verdicts: the line of verdict_line, or None)."""
    key = fig.key
    axis = axis_short(fig.axis_col)
    kinds = ",".join(sorted(fig.kinds))
    first = "%s vs %s: target %s, estimator %s%s, schedule %s" % (
        metric_label, axis, key.get("target", "?"), key.get("estimator", "?"),
        (" (%s)" % kinds) if kinds else "", key.get("schedule", "?"))
    rest = []
    for col, v in key.items():
        if col in STRUCTURAL_COLUMNS:
            continue
        rest.append("%s=%s" % (axis_short(col), fmt_value(v)))
    for col in sorted(fig.descriptive):
        vals = sorted(fig.descriptive[col], key=lambda v: (isinstance(v, str), v))
        rest.append("%s=%s" % (col, "/".join(fmt_value(v) for v in vals)))
    if fig.covarying:
        rest.append("co-varying with %s: %s" % (axis, ", ".join(fig.covarying)))
    lines = [first]
    if rest:
        lines += textwrap.wrap(", ".join(rest), 110)
    if verdicts:
        lines += textwrap.wrap(verdicts, 110)
    return lines


def replicate_note(fig):
    reps = sorted({p.replicates for pts in fig.points.values() for p in pts})
    methods = {p.se_method for pts in fig.points.values() for p in pts if p.replicates > 1}
    if not reps or reps == [1]:
        return None
    text = "points: mean of R=%s replicates" % "/".join(str(r) for r in reps)
    parts = []
    if "reported" in methods:
        parts.append("SE = sqrt(sum se^2)/R")
    if "spread" in methods:
        parts.append("SE = replicate sd/sqrt(R) where reported SE = 0")
    return text + ("; " + "; ".join(parts) if parts else "")


def wrap_notes(notes, limit=22):
    lines = []
    for n in notes:
        lines += textwrap.wrap(n, 125, subsequent_indent="    ")
    if len(lines) > limit:
        hidden = len(lines) - (limit - 1)
        lines = lines[:limit - 1] + ["... (%d more note lines)" % hidden]
    return lines


def x_scale(fit_draws):
    """"linear" (semi-log figure) when a fit drawn is of the exponential model (log err linear in
    x: straight on semi-log axes), else "log" (log-log)."""
    return "linear" if any(is_exponential(fits, j) for j, _, _, _, fits in fit_draws) else "log"


def render(path, fmt, fig, title, xlabel, ylabel, series, fit_draws, notes, footer, style):
    """series: [(sampler, points)]; fit_draws: [(fit row, sampler, versus, points, fits)]."""
    shared_style.apply()
    mfig = plt.figure(figsize=(9.0, 6.0))
    ax = mfig.add_subplot(1, 1, 1)
    linear_x = x_scale(fit_draws) == "linear"
    if not linear_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    notes = list(notes)
    any_data = False
    for sampler, points in series:
        h = draw_series(ax, points, style.color.get(sampler, "k"),
                        style.marker.get(sampler, "o"), sampler, notes, fig.axis_col, sampler,
                        linear_x)
        any_data = any_data or h is not None
    any_claimed = False
    for j, sampler, versus, points, fits in fit_draws:
        if draw_fit(ax, fits, j, points, style.color.get(sampler, "k"), fig.axis_col,
                    notes, sampler, versus, linear_x):
            any_claimed = any_claimed or math.isfinite(fcol(fits, "claimed_slope", j))
    if not any_data:
        ax.text(0.5, 0.5, "no plottable point", transform=ax.transAxes, ha="center",
                va="center", color="0.4")
    xs = sorted({p.x for _, pts in series for p in pts if linear_x or p.x > 0})
    if 2 <= len(xs) <= 12:
        # Few distinct x values: label them as they are (16, 32, ... rather than 2x10^1).
        ax.xaxis.set_major_locator(FixedLocator(xs))
        ax.xaxis.set_major_formatter(FixedFormatter([tick_label(x) for x in xs]))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("\n".join(title), fontsize=shared_style.TITLE_SIZE, loc="left")
    handles, labels = ax.get_legend_handles_labels()
    if any_claimed:
        handles.append(Line2D([], [], ls="--", color="0.3"))
        labels.append("dashed: claimed %s, anchored at the first used point"
                      % ("rate (semi-log axes)" if linear_x else "slope (with the fit's log factor)"))
    if any(line.get_gid() == "zero_baseline" for line in ax.get_lines()):
        handles.append(Line2D([], [], ls=":", color="0.3"))
        labels.append("dotted: value at %s = 0 (not placeable on a log axis)"
                      % axis_short(fig.axis_col))
    if any(p.hollow for _, pts in series for p in pts):
        handles.append(Line2D([], [], ls="none", marker="o", color="0.3", mfc="white"))
        labels.append("hollow: not used by fits (<= %g x floor, or fit-excluded)"
                      % FLOOR_FACTOR)
    if handles:
        ax.legend(handles, labels, fontsize=shared_style.LEGEND_SIZE, loc="best")

    # Layout in inches: title on top, axes, x label, notes, footer.
    lines = wrap_notes(notes)
    line_h = 0.135
    top_in = 0.25 + 0.17 * len(title)
    notes_in = line_h * len(lines) + (0.1 if lines else 0.0)
    bottom_in = 0.65 + notes_in
    height = 4.6 + top_in + bottom_in
    mfig.set_size_inches(9.0, height)
    mfig.subplots_adjust(left=0.1, right=0.97, bottom=bottom_in / height,
                         top=1 - top_in / height)
    if lines:
        mfig.text(0.012, (notes_in + 0.15) / height, "\n".join(lines), fontsize=shared_style.NOTE_SIZE,
                  va="top", ha="left", family="monospace", linespacing=1.2)
    mfig.text(0.99, 0.006, footer, fontsize=shared_style.FOOTER_SIZE, color="0.45", ha="right", va="bottom")
    kwargs = {"metadata": {"CreationDate": None}} if fmt == "pdf" else {}
    mfig.savefig(path, format=fmt, dpi=shared_style.DPI, **kwargs)
    plt.close(mfig)


# --------------------------------------------------------------------------------------
# Naming and driver


def name_parts(fig, varying_cols):
    key = fig.key
    parts = [sanitise(key.get("target", "target")), sanitise(key.get("estimator", "estimator"))]
    for col in varying_cols:
        if col in key:
            parts.append(sanitise("%s=%s" % (axis_short(col), fmt_value(key[col]))))
    return parts


def varying_key_columns(figures):
    cols = OrderedDict()
    for fig in figures:
        for c in fig.key:
            cols.setdefault(c, set()).add(fig.key[c])
    return [c for c, vals in cols.items()
            if len(vals) > 1 and c not in ("target", "estimator", "metric")]


def unique_path(out_dir, stem, fmt, used):
    name = "%s.%s" % (stem, fmt)
    k = 2
    while name in used:
        name = "%s__%d.%s" % (stem, k, fmt)
        k += 1
    used.add(name)
    return os.path.join(out_dir, name)


def ratio_points(num, den):
    by_x = {p.x: p for p in den}
    out = []
    for p in num:
        q = by_x.get(p.x)
        if q is None or q.value == 0:
            continue
        r = p.value / q.value
        rel = 0.0
        if p.value != 0:
            rel += (p.se / p.value) ** 2
        rel += (q.se / q.value) ** 2
        rp = Point(p.x, r, abs(r) * math.sqrt(rel), float("nan"), min(p.replicates, q.replicates),
                   "reported")
        rp.under_floor = p.under_floor or q.under_floor
        out.append(rp)
    return out


def emit(line):
    """Print one output path; keep writing files if stdout was closed (e.g. piped to head)."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def steps_label(runs, fig):
    """The steps axis label: "T (number of steps)", or, when a sampler of the figure counts
    something else (posterior samplers: /runs column steps_meaning), what each one counts."""
    if "steps_meaning" not in runs:
        return axis_long("steps")
    meanings = OrderedDict()
    for i in fig.rows:
        meanings.setdefault(str(runs["sampler"][i]), str(runs["steps_meaning"][i]))
    distinct = set(meanings.values())
    if distinct <= {"diffusion steps T"}:
        return axis_long("steps")
    if len(distinct) == 1:
        return "steps: %s" % distinct.pop()
    return "steps: " + "; ".join("%s for %s" % (m, s) for s, m in meanings.items())


class PlotSet:
    """What plot_file drew: the files written (in order), and for each /fits row index the
    figure files it is drawn on (empty list: it matched no figure; see warnings)."""

    def __init__(self, attrs, fits):
        self.attrs = attrs
        self.fits = fits
        self.written = []
        self.fit_figures = OrderedDict((j, []) for j in range(len(fits["slope"])))
        self.warnings = []
        self.empty_reason = None


def make_plots(path, out_dir, fmt):
    """Draw every figure of the results file at path into out_dir; return the files written."""
    plots = plot_file(path, out_dir, fmt)
    for w in plots.warnings:
        sys.stderr.write("plot_results.py: warning: %s\n" % w)
    if plots.empty_reason:
        sys.stderr.write("plot_results.py: %s: %s\n" % (path, plots.empty_reason))
    return plots.written


def plot_file(path, out_dir, fmt, on_write=emit, only_fitted=False):
    """Draw every figure of the results file at path into out_dir (on_write(path) per file).

    Returns a PlotSet: the files, which figure(s) each /fits row is drawn on (the report links
    a fit row to its figure with it), warnings about unmatched rows, and why nothing was drawn.
    only_fitted: draw only the figures carrying a /fits row (the report's). Raises InputError
    on an unusable file."""
    attrs, runs, fits = load_results(path)
    plots = PlotSet(attrs, fits)
    n = len(runs["value"])
    if n == 0:
        plots.empty_reason = "/runs is empty, nothing to plot"
        return plots
    os.makedirs(out_dir, exist_ok=True)
    style = Style({str(s) for s in runs["sampler"]})
    axes = plot_axes(runs)
    figures_by_axis = OrderedDict((a, build_figures(runs, a)) for a in axes)
    plots.warnings = attach_fits(figures_by_axis, runs, fits)
    footer = "%s | dmconv %s (%s, %s) | config %s" % (
        os.path.basename(path), attrs.get("tool_version", "?"),
        str(attrs.get("git_sha", "?"))[:10], attrs.get("build_type", "?"),
        str(attrs.get("config_hash", "?"))[:12])
    written = plots.written
    used_names = set()
    for axis_col, figures in figures_by_axis.items():
        varying = varying_key_columns(figures)
        xlabel = axis_long(axis_col)
        for fig in figures:
            metric = str(fig.key.get("metric", "error"))
            xlabel = steps_label(runs, fig) if axis_col == "steps" else axis_long(axis_col)
            parts = name_parts(fig, varying)
            stem = "__".join(["%s_vs_%s" % (sanitise(metric), sanitise(axis_short(axis_col)))]
                             + parts)
            common = []
            rn = replicate_note(fig)
            if rn:
                common.append(rn)
            if fig.omitted:
                common.append("omitted (status != ok): " + "; ".join(fig.omitted))
            notes = list(fig.notes) + common
            series = [(s, pts) for s, pts in fig.points.items()]
            fit_draws = [(j, str(fits["sampler"][j]), "", fig.points[str(fits["sampler"][j])],
                          fits) for j in fig.fits]
            if fig.fits or not only_fitted:
                out = unique_path(out_dir, stem, fmt, used_names)
                render(out, fmt, fig, title_lines(fig, metric, verdict_line(fits, fig.fits)),
                       xlabel, "%s (error)" % metric, series, fit_draws, notes, footer, style)
                written.append(out)
                for j in fig.fits:
                    plots.fit_figures[j].append(out)
                on_write(out)
            for (s, v), rows in fig.ratio_fits.items():
                pts = ratio_points(fig.points[s], fig.points[v])
                rstem = "__".join(["ratio_%s_over_%s" % (sanitise(s), sanitise(v)),
                                   "%s_vs_%s" % (sanitise(metric), sanitise(axis_short(axis_col)))]
                                  + parts)
                title = title_lines(fig, "%s ratio %s/%s" % (metric, s, v),
                                    verdict_line(fits, rows))
                rdraws = [(j, s, v, pts, fits) for j in rows]
                rnotes = [n for n in fig.notes if "ratio" in n] + common
                rnotes.append("ratio SE by the delta method from the two SEs; hollow where "
                              "either error is under its floor")
                out = unique_path(out_dir, rstem, fmt, used_names)
                render(out, fmt, fig, title, xlabel, "%s(%s) / %s(%s)" % (metric, s, metric, v),
                       [(s, pts)], rdraws, rnotes, footer, style)
                written.append(out)
                for j in rows:
                    plots.fit_figures[j].append(out)
                on_write(out)
    if not written and not only_fitted:
        plots.empty_reason = "no axis has two or more distinct values; nothing to plot"
    return plots


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Regenerate every plot of a dmconv results file (error vs T, d and "
                    "every numeric swept parameter, with fitted and claimed slopes).")
    parser.add_argument("results", metavar="RESULTS.h5")
    parser.add_argument("--out-dir", default=None,
                        help='output directory (default: "<stem>_plots/" next to the file)')
    parser.add_argument("--format", choices=["png", "pdf"], default="png")
    args = parser.parse_args(argv)
    out_dir = args.out_dir
    if out_dir is None:
        stem = os.path.splitext(os.path.basename(args.results))[0]
        out_dir = os.path.join(os.path.dirname(os.path.abspath(args.results)), stem + "_plots")
    try:
        make_plots(args.results, out_dir, args.format)
    except InputError as exc:
        sys.stderr.write("plot_results.py: error: %s\n" % exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
