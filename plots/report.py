#!/usr/bin/python3
"""A self-contained static HTML page of the claim verdicts of dmconv results files.

    report.py RESULTS.h5 [RESULTS.h5 ...] --out DIR [--command-line TEXT] [--writer TEXT]

Normally run by `dmconv report` (src/cli/report_command.cpp), which checks the inputs first.
Writes DIR/index.html: one table row per /fits row (claim and group) of each file -- verdict,
fitted slope and interval, claimed slope and bound, tightness, points used and excluded with
the reasons, the claim's source (from the config text the file stores), a link to its figure --
the figures (drawn by plot_results.py with the shared style, plots/style.py) embedded as base64
PNG data URIs, a provenance footer per file and one for the page. No server, no network, no
external CSS, JS or fonts. Layout and the definition of tightness: plots/README.md ("report.py").

Tightness (also in the page's legend): with s the fitted slope, [s_lo, s_hi] its interval and c
the claimed slope (slopes are signed: a decaying error has a negative slope),
  upper bound:  t = c - s,  interval [c - s_hi, c - s_lo]
  lower bound:  t = s - c,  interval [s_lo - c, s_hi - c]
  exact claim:  t = c - s   (a deviation: 0 is the claimed exponent)
so t > 0 is room to spare (for an error decaying in T: the fitted decay exponent p = -s minus the
claimed one, e.g. claimed O(1/T), fitted T^-1.5: t = 0.5; for an error growing in d: the claimed
growth exponent minus the fitted one, e.g. bound d^1, fitted d^0.53: t = 0.47). The tolerance of
the claim is not subtracted, and a (log x)^k factor of the fit is not part of the exponent.

The page is written to a temporary name in DIR and renamed to index.html, so DIR/index.html is
either the previous page or the whole new one. One progress line per file goes to stdout, then
the page's path.

Exit codes: 0 page written; 1 numpy / h5py / matplotlib missing; 2 unusable input (a file
missing, not HDF5, not a results file of schema 1; --out not a directory).
"""

import argparse
import base64
import datetime
import html
import math
import os
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import numpy as np  # noqa: F401  (plot_results needs it; fail here with one message)
    import h5py  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    sys.stderr.write(
        "report.py: missing Python package (%s); install python3-numpy, python3-matplotlib and "
        "python3-h5py and run with /usr/bin/python3\n" % exc)
    sys.exit(1)

import plot_results  # noqa: E402
import style  # noqa: E402

try:
    import tomllib   # Python >= 3.11: the claims' sources from the stored config text
except ImportError:  # pragma: no cover
    tomllib = None

VERDICTS = ["holds", "violated", "inconclusive"]
PROVENANCE_KEYS = ["tool_version", "git_sha", "build_type", "config_hash", "config_path",
                   "command_line", "created_utc", "threads", "ranks", "complete",
                   "shard_index", "shard_count", "schema_version"]


def esc(text):
    return html.escape(str(text), quote=True)


def num(v, digits=3):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    return "%.*f" % (digits, v)


def tightness(slope, low, high, claimed, bound):
    """(t, t_low, t_high, words) as defined in the module docstring; NaN when not measurable."""
    nan = float("nan")
    if not (math.isfinite(slope) and math.isfinite(claimed)):
        return nan, nan, nan, "not measurable (no fitted or no claimed slope)"
    if bound == "lower":
        t, tl, th = slope - claimed, low - claimed, high - claimed
    else:
        t, tl, th = claimed - slope, claimed - high, claimed - low
    if not (math.isfinite(tl) and math.isfinite(th)):
        tl = th = nan
        lo_hi = (t, t)
    else:
        lo_hi = (tl, th)
    if bound == "exact":
        words = ("consistent with the claimed exponent" if lo_hi[0] <= 0 <= lo_hi[1]
                 else "faster than claimed" if lo_hi[0] > 0 else "slower than claimed")
    elif lo_hi[0] > 0:
        words = "room to spare"
    elif lo_hi[1] < 0:
        words = "beyond the claimed exponent"
    else:
        words = "tight (interval contains 0)"
    return t, tl, th, words


def claim_sources(config_text):
    """{claim name: source} from the [[claim]] tables of the stored config text."""
    if not config_text or tomllib is None:
        return {}
    try:
        doc = tomllib.loads(str(config_text))
    except Exception:  # noqa: BLE001 - a config the report cannot parse just has no sources
        return {}
    out = {}
    claims = doc.get("claim", [])
    if isinstance(claims, list):
        for c in claims:
            if isinstance(c, dict) and "name" in c:
                out[str(c["name"])] = str(c.get("source", ""))
    return out


def png_data_uri(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


class FileReport:
    def __init__(self, index, path):
        self.index = index
        self.path = path
        self.attrs = {}
        self.fits = {}
        self.rows = []        # dicts, one per /fits row
        self.figures = []     # (anchor, caption, data uri)
        self.notes = []


def fit_rows(report, plots, sources):
    fits = plots.fits
    fcol = plot_results.fcol
    figure_anchor = {}
    for k, path in enumerate(plots.written):
        anchor = "f%d-fig%d" % (report.index, k + 1)
        figure_anchor[path] = anchor
        report.figures.append((anchor, os.path.basename(path), png_data_uri(path)))
    for j in range(len(fits["slope"])):
        slope, low, high = fcol(fits, "slope", j), fcol(fits, "slope_low", j), fcol(fits, "slope_high", j)
        claimed = fcol(fits, "claimed_slope", j)
        bound = str(fcol(fits, "bound", j, ""))
        verdict = str(fcol(fits, "verdict", j, "")) or "no verdict"
        t, tl, th, words = tightness(slope, low, high, claimed, bound)
        excl = [(x, r) for x, r in plot_results.parse_exclusions(fcol(fits, "exclusions", j, ""))]
        claim = str(fcol(fits, "claim", j, ""))
        report.rows.append(dict(
            j=j, claim=claim, group=str(fcol(fits, "group", j, "")),
            sampler=str(fcol(fits, "sampler", j, "")), versus=str(fcol(fits, "versus", j, "")),
            metric=str(fcol(fits, "metric", j, "")), axis=str(fcol(fits, "axis", j, "")),
            model=str(fcol(fits, "model", j, "power")) or "power",
            log_power=fcol(fits, "log_power", j), verdict=verdict,
            message=str(fcol(fits, "message", j, "")),
            reason=str(fcol(fits, "verdict_reason", j, "")),
            slope=slope, low=low, high=high, claimed=claimed, bound=bound,
            tolerance=fcol(fits, "tolerance", j), tight=(t, tl, th, words),
            used=fcol(fits, "points_used", j), excluded=fcol(fits, "points_excluded", j),
            exclusions=excl, exclusions_text=str(fcol(fits, "exclusions", j, "")),
            source=sources.get(claim, ""),
            anchors=[figure_anchor[p] for p in plots.fit_figures.get(j, []) if p in figure_anchor]))


def build_report(index, path, work_dir):
    report = FileReport(index, path)
    out_dir = os.path.join(work_dir, "file%d" % index)
    plots = plot_results.plot_file(path, out_dir, "png", on_write=lambda _: None, only_fitted=True)
    report.attrs = plots.attrs
    report.notes += ["plot: " + w for w in plots.warnings]
    if plots.empty_reason:
        report.notes.append("no figures: " + plots.empty_reason)
    if int(report.attrs.get("complete", 1) or 0) != 1:
        report.notes.append("complete = 0: a checkpoint of an unfinished sweep; its verdicts are "
                            "not final")
    if "shard_index" in report.attrs:
        report.notes.append("a part file of dmconv run --shard %s/%s: claims are judged only on "
                            "the merged file" % (report.attrs.get("shard_index"),
                                                 report.attrs.get("shard_count")))
    fit_rows(report, plots, claim_sources(report.attrs.get("config_text", "")))
    return report


CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 13px; margin: 16px 24px;
       color: #1b1b1b; }
h1 { font-size: 20px; margin: 0 0 6px 0; } h2 { font-size: 16px; margin: 28px 0 6px 0; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #c8c8c8; padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #eeeeee; font-weight: 600; }
table.fits { width: 100%%; }
td.claim { min-width: 190px; }
td.points { min-width: 200px; } td.verdict-cell { min-width: 150px; } td.source { min-width: 140px; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.verdict { font-weight: 700; white-space: nowrap; }
%(verdict_css)s
.summary span.count { display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 3px; }
.legend { background: #f7f7f7; border: 1px solid #dddddd; padding: 6px 10px; max-width: 1100px; }
.small { font-size: 11px; color: #555555; }
.notes { color: #7a4a00; }
figure { margin: 14px 0; } figure img { max-width: 100%%; border: 1px solid #dddddd; }
figcaption { font-size: 11px; color: #555555; }
dl.prov { display: grid; grid-template-columns: max-content auto; gap: 1px 12px; font-size: 11px;
          color: #444444; } dl.prov dt { font-weight: 600; } dl.prov dd { margin: 0; word-break: break-all; }
footer { margin-top: 30px; border-top: 1px solid #cccccc; padding-top: 6px; }
"""

# After the load event: how many images decoded into a picture (naturalWidth > 0, and drawn on a
# canvas mostly opaque -- the figures have an opaque background, a truncated PNG
# draws transparent), written on <body> as data-images-loaded / data-images-total for a headless
# browser's DOM dump (tests/report/test_report.py).
SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  function drawn(img) {
    if (!img.complete || img.naturalWidth === 0) return false;
    try {
      var w = Math.min(img.naturalWidth, 300);
      var h = Math.max(1, Math.round(img.naturalHeight * w / img.naturalWidth));
      var canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      var context = canvas.getContext("2d");
      context.drawImage(img, 0, 0, w, h);
      var data = context.getImageData(0, 0, w, h).data, opaque = 0;
      for (var i = 3; i < data.length; i += 4) if (data[i] > 0) ++opaque;
      return opaque * 2 > w * h;
    } catch (e) { return false; }
  }
  // Synchronously: the load event waits for every image, and a headless browser's DOM dump does
  // not wait for promises.
  document.body.setAttribute("data-images-total", String(images.length));
  document.body.setAttribute("data-images-loaded", String(images.filter(drawn).length));
});
"""


def verdict_css():
    lines = []
    for v in VERDICTS:
        lines.append(".v-%s { color: %s; background: %s; }" % (
            v, style.VERDICT_COLOURS[v], style.VERDICT_BACKGROUNDS[v]))
    lines.append(".v-other { color: #333333; background: #eeeeee; }")
    return "\n".join(lines)


def verdict_class(v):
    return "v-" + v if v in VERDICTS else "v-other"


def interval(lo, hi):
    if math.isfinite(lo) and math.isfinite(hi):
        return " [%s, %s]" % (num(lo), num(hi))
    return ""


def row_html(rep, r):
    who = esc(r["sampler"]) + (" / " + esc(r["versus"]) if r["versus"] else "")
    what = "%s vs %s" % (esc(r["metric"]), esc(r["axis"]))
    if r["model"] != "power":
        what += " (%s model)" % esc(r["model"])
    fitted = num(r["slope"]) + interval(r["low"], r["high"])
    if math.isfinite(r["log_power"]) and r["log_power"] != 0:
        fitted += " &times; (log x)^%s" % num(r["log_power"], 2)
    claimed = "%s (%s%s)" % (num(r["claimed"]), esc(r["bound"] or "?"),
                             (", tol %s" % num(r["tolerance"])) if math.isfinite(r["tolerance"]) else "")
    t, tl, th, words = r["tight"]
    tight = "%s%s<br><span class=small>%s</span>" % (num(t), interval(tl, th), esc(words))
    used = "n/a" if not math.isfinite(r["used"]) else str(int(r["used"]))
    nexcl = 0 if not math.isfinite(r["excluded"]) else int(r["excluded"])
    if r["exclusions"]:
        reasons = "; ".join("%s=%s: %s" % (esc(r["axis"]), esc(plot_results.fmt_value(x)),
                                           esc(reason or "excluded")) for x, reason in r["exclusions"])
    else:
        reasons = esc(r["exclusions_text"])
    points = "%s used, %d excluded%s" % (used, nexcl, ("<br><span class=small>%s</span>" % reasons)
                                         if reasons else "")
    why = r["reason"] or r["message"]
    verdict = '<span class="verdict %s">%s</span>%s' % (
        verdict_class(r["verdict"]), esc(r["verdict"]),
        ("<br><span class=small>%s</span>" % esc(why)) if why else "")
    links = ", ".join('<a href="#%s">figure %s</a>' % (a, a.split("fig")[-1]) for a in r["anchors"])
    return ('<tr class="fit-row" id="f%d-row%d" data-file="%d" data-row="%d" data-verdict="%s">'
            "<td class=claim>%s<br><span class='small group'>%s</span></td><td>%s<br><span class=small>%s</span></td>"
            "<td class=verdict-cell>%s</td><td class=num>%s</td><td class=num>%s</td><td class=num>%s</td>"
            "<td class=points>%s</td><td class='small source'>%s</td><td>%s</td></tr>") % (
        rep.index, r["j"], rep.index, r["j"], esc(r["verdict"]),
        esc(r["claim"]), esc(r["group"]).replace(";", ";<wbr>"), who, what, verdict, fitted, claimed, tight,
        points, esc(r["source"]) or "<i>not stated</i>", links or "<i>no figure</i>")


def provenance_html(attrs):
    items = []
    for k in PROVENANCE_KEYS:
        if k in attrs:
            items.append("<dt>%s</dt><dd>%s</dd>" % (esc(k), esc(attrs[k])))
    return '<dl class="prov">%s</dl>' % "".join(items)


def page_html(reports, command_line, writer, now):
    counts = {v: 0 for v in VERDICTS}
    other = 0
    for rep in reports:
        for r in rep.rows:
            if r["verdict"] in counts:
                counts[r["verdict"]] += 1
            else:
                other += 1
    total = sum(counts.values()) + other
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>dmconv claim report</title>",
           "<style>%s</style>" % (CSS % {"verdict_css": verdict_css()}),
           "<script>%s</script>" % SCRIPT, "</head>",
           '<body data-claims="%d">' % total,
           "<h1>dmconv claim report</h1>",
           '<p class="summary" id="summary">%d claim fit%s in %d file%s: ' % (
               total, "" if total == 1 else "s", len(reports), "" if len(reports) == 1 else "s")]
    for v in VERDICTS:
        out.append('<span class="count %s" id="count-%s" data-count="%d">%d %s</span>' % (
            verdict_class(v), v, counts[v], counts[v], v))
    if other:
        out.append('<span class="count v-other" id="count-other" data-count="%d">%d other</span>'
                   % (other, other))
    out.append("</p>")
    out.append('<ul class="small">%s</ul>' % "".join(
        '<li><a href="#file%d">%s</a>: %d fit%s</li>' % (
            rep.index, esc(os.path.basename(rep.path)), len(rep.rows), "" if len(rep.rows) == 1 else "s")
        for rep in reports))
    out.append(LEGEND)
    for rep in reports:
        out.append('<section class="results-file" id="file%d" data-fits="%d">' % (rep.index, len(rep.rows)))
        out.append("<h2>%s</h2>" % esc(rep.path))
        for n in rep.notes:
            out.append('<p class="notes">%s</p>' % esc(n))
        if not rep.rows:
            out.append('<p class="no-fits">This file has no /fits rows: its config states no claim '
                       "(or it is a part or a checkpoint), so there is no verdict to show.</p>")
        else:
            out.append('<table class="fits"><thead><tr><th>claim<br><span class=small>group</span></th>'
                       "<th>sampler<br><span class=small>metric vs axis</span></th><th>verdict</th>"
                       "<th>fitted slope [interval]</th><th>claimed slope (bound)</th>"
                       "<th>tightness [interval]</th><th>points</th><th>source</th><th>plot</th>"
                       "</tr></thead><tbody>")
            out += [row_html(rep, r) for r in rep.rows]
            out.append("</tbody></table>")
        for anchor, caption, uri in rep.figures:
            out.append('<figure id="%s"><img src="%s" alt="%s"><figcaption>figure %s: %s</figcaption>'
                       "</figure>" % (anchor, uri, esc(caption), anchor.split("fig")[-1], esc(caption)))
        out.append("<h3 class=small>provenance of %s</h3>" % esc(os.path.basename(rep.path)))
        out.append(provenance_html(rep.attrs))
        out.append("</section>")
    out.append('<footer class="small" id="page-provenance">report written by %s at %s<br>command line: '
               "%s</footer>" % (esc(writer), esc(now), esc(command_line)))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


LEGEND = """<div class="legend small" id="legend">
<b>Verdict</b> (docs/theory.md &sect;6.4): <span class="verdict v-holds">holds</span> the whole
confidence interval of the fitted slope is admissible (claimed slope and tolerance, on the side the
bound allows); <span class="verdict v-violated">violated</span> the whole interval is outside;
<span class="verdict v-inconclusive">inconclusive</span> neither (too wide, too few points above the
floor, or lack of fit). <b>Slopes</b> are signed: log error against log x (exponential model: against
x), so an error decaying like 1/T has slope &minus;1.
<br><b>Tightness</b>, with s the fitted slope, [s_lo, s_hi] its interval and c the claimed slope:
for an <i>upper</i> bound t = c &minus; s, interval [c &minus; s_hi, c &minus; s_lo]; for a
<i>lower</i> bound t = s &minus; c, interval [s_lo &minus; c, s_hi &minus; c]; for an <i>exact</i>
claim t = c &minus; s (a deviation, 0 = the claimed exponent). Positive t is room to spare: the measured
exponent is better than the theorem's (an error decaying in T: fitted decay exponent minus claimed,
e.g. claimed O(1/T), fitted T^&minus;1.5: t = 0.5; an error growing in d: claimed growth exponent
minus fitted, e.g. bound d^1, fitted d^0.53: t = 0.47). Near 0 the bound is tight; negative is beyond
it. The claim's tolerance is not subtracted and a (log x)^k factor is not part of the exponent.
<br><b>Points</b>: used in the fit, and excluded with the reasons (under the floor, outside the
asymptotic window, the baseline). <b>Figures</b>: error against the axis, log-log (semi-log for
exponential-model fits); solid line the fit, dashed the claimed slope, hollow markers points not
used, grey the oracle floor (plots/README.md).
</div>"""


def write_atomic(out_dir, text):
    final = os.path.join(out_dir, "index.html")
    fd, tmp = tempfile.mkstemp(prefix=".index.html.tmp-", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return final


def main(argv=None):
    parser = argparse.ArgumentParser(description="Static HTML page of the claim verdicts of "
                                                 "dmconv results files (normally via dmconv report).")
    parser.add_argument("results", nargs="+", metavar="RESULTS.h5")
    parser.add_argument("--out", required=True, help="directory of index.html (created if missing)")
    parser.add_argument("--command-line", default=None,
                        help="the command line to show in the page footer (default: this one)")
    parser.add_argument("--writer", default="plots/report.py",
                        help="what wrote the page, for its footer (dmconv report passes its version)")
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        sys.stderr.write("report.py: error: --out %s is not a directory\n" % args.out)
        return 2
    command_line = args.command_line
    if command_line is None:
        command_line = " ".join([sys.executable] + list(sys.argv if argv is None else [__file__] + argv))
    # Every input is read before anything is written.
    for path in args.results:
        try:
            plot_results.load_results(path)
        except plot_results.InputError as exc:
            sys.stderr.write("report.py: error: %s\n" % exc)
            return 2
    os.makedirs(args.out, exist_ok=True)
    plot_results.shared_style.apply()
    reports = []
    with tempfile.TemporaryDirectory(prefix=".report-figures-", dir=args.out) as work:
        for k, path in enumerate(args.results):
            rep = build_report(k + 1, path, work)
            reports.append(rep)
            tally = {v: sum(1 for r in rep.rows if r["verdict"] == v) for v in VERDICTS}
            print("report: [%d/%d] %s: %d claim fit%s (%d holds, %d violated, %d inconclusive), "
                  "%d figure%s" % (k + 1, len(args.results), path, len(rep.rows),
                                   "" if len(rep.rows) == 1 else "s", tally["holds"],
                                   tally["violated"], tally["inconclusive"], len(rep.figures),
                                   "" if len(rep.figures) == 1 else "s"), flush=True)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = page_html(reports, command_line, args.writer, now)
    final = write_atomic(args.out, text)
    print("report: wrote %s" % final, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
