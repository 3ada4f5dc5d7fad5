"""Charts for the self-contained HTML pages (the manager's roll-up, the outcomes report): matplotlib figures
drawn to inline SVG, text kept as text so the reader's fonts show Chinese, no file or network needed to view.

matplotlib is the `charts` extra; a page asked for without it says how to install it.
"""

from __future__ import annotations

import html
import io
import logging
from typing import Any

from .errors import DealcoachError

FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", "DejaVu Sans", "sans-serif"]
COLOURS = {"block": "#c0392b", "warn": "#e67e22", "info": "#7f8c8d", "good": "#27ae60", "ink": "#2c3e50", "muted": "#95a5a6",
           "bar": "#2e86c1", "reference": "#bdc3c7"}


class ChartsMissingError(DealcoachError):
    """matplotlib is not installed, so no HTML page with charts can be drawn."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("HTML pages draw their charts with matplotlib: pip install 'dealcoach[charts]'")


def figure(width: float = 6.4, height: float = 3.2) -> Any:
    """A new matplotlib Figure (no pyplot: no global state, safe in the service's threads), sized in inches."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartsMissingError() from None
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # CJK glyphs are drawn by the browser, not here
    chart = Figure(figsize=(width, height), layout="constrained")
    return chart


def svg(chart: Any) -> str:
    """The figure as an inline <svg> element: text stays text (the browser's fonts show Chinese), no external refs."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "font.family": "sans-serif", "font.sans-serif": FONTS, "svg.hashsalt": "dealcoach"}):
        chart.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei",
       -apple-system, "Segoe UI", Roboto, sans-serif; color: #2c3e50; margin: 24px auto; max-width: 980px; padding: 0 16px;
       line-height: 1.5; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.subtitle { color: #7f8c8d; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; font-size: 0.95em; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f6f8fa; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart svg { max-width: 100%; height: auto; }
.note { color: #7f8c8d; font-size: 0.9em; }
.block { color: #c0392b; font-weight: 600; } .warn { color: #e67e22; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } .chart { break-inside: avoid; } }
"""


def page(title: str, lang: str, body: str, subtitle: str = "") -> str:
    """A complete HTML document: inline style, no script, no external resource."""
    head = f'<h1>{html.escape(title)}</h1>' + (f'<p class="subtitle">{html.escape(subtitle)}</p>' if subtitle else "")
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n{head}\n{body}\n</body>\n</html>\n"
    )


def section(heading: str, content: str) -> str:
    return f"<section>\n<h2>{html.escape(heading)}</h2>\n{content}\n</section>"


def chart_block(chart: Any, caption: str = "") -> str:
    note = f'<p class="note">{html.escape(caption)}</p>' if caption else ""
    return f'<div class="chart">{svg(chart)}</div>{note}'
