"""One look for every figure of plots/ (plot_results.py, plot_lsi.py, plot_posterior_density.py,
plot_bench_scaling.py) and for the HTML report (report.py).

    import style
    style.apply()                       # fonts, sizes, grid, line widths (matplotlib rcParams)
    look = style.SamplerStyle(names)    # one colour and marker per sampler, the same in every figure
    style.VERDICT_COLOURS["holds"]      # verdict colours, shared with the report's table

Conventions (plots/README.md, "One style"):
  * palette: matplotlib's tab10, in sorted sampler-name order; markers cycle through MARKERS;
  * oracle floors (sampler "oracle": the estimator on exact samples) and every other floor or
    reference level are drawn in grey (ORACLE_COLOUR, FLOOR_COLOUR);
  * points not used by a fit are hollow (HOLLOW: white face, thicker edge);
  * fitted lines solid and thick, claimed slopes dashed (FIT_LINE, CLAIM_LINE);
  * verdicts: holds green, violated red, inconclusive amber (also in the report).
Only matplotlib is imported here; import it after choosing the Agg backend.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p"]
PALETTE = "tab10"
ORACLE_COLOUR = "0.55"     # grey: oracle rows (the estimator's floor on exact samples)
FLOOR_COLOUR = "0.6"       # grey: floors, reference levels
ORACLE_MARKER = "x"
DPI = 110
TITLE_SIZE = 9
LEGEND_SIZE = 7
NOTE_SIZE = 6.5
FOOTER_SIZE = 6
HOLLOW = {"mfc": "white", "mew": 1.4}
MARKER_SIZE = 6
FIT_LINE = {"ls": "-", "lw": 2.0, "alpha": 0.9}
CLAIM_LINE = {"ls": "--", "lw": 1.3, "alpha": 0.9}
DATA_LINE = {"lw": 0.8, "alpha": 0.45}

VERDICT_COLOURS = {"holds": "#1a7f37", "violated": "#c62828", "inconclusive": "#b26a00"}
VERDICT_BACKGROUNDS = {"holds": "#dcf5e3", "violated": "#fde0e0", "inconclusive": "#fff0d0"}

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": TITLE_SIZE,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": LEGEND_SIZE,
    "legend.framealpha": 0.85,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "lines.markersize": MARKER_SIZE,
    "savefig.dpi": DPI,
    "figure.dpi": DPI,
    "axes.prop_cycle": matplotlib.cycler(color=list(plt.get_cmap(PALETTE).colors)),
}


def apply():
    """Set the shared rcParams (idempotent)."""
    matplotlib.rcParams.update(RC)


def colour(k):
    """The k-th colour of the palette (cycled)."""
    cmap = plt.get_cmap(PALETTE)
    return cmap(k % cmap.N)


def marker(k):
    return MARKERS[k % len(MARKERS)]


class SamplerStyle:
    """One colour and marker per sampler (sorted names; "oracle" grey crosses)."""

    def __init__(self, samplers):
        self.color = {}
        self.marker = {}
        for k, s in enumerate(sorted(x for x in samplers if x != "oracle")):
            self.color[s] = colour(k)
            self.marker[s] = marker(k)
        # Oracle rows (the estimator on exact samples: its floor), below which no sampler can be
        # resolved, in grey.
        self.color["oracle"] = ORACLE_COLOUR
        self.marker["oracle"] = ORACLE_MARKER


def verdict_colour(verdict):
    return VERDICT_COLOURS.get(str(verdict), "0.3")
