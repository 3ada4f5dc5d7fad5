"""The manager's roll-up as one self-contained HTML page (`dealcoach pipeline --summary-format html`).

On top, the first screen: the deals to talk about this week, each with the one question to ask its owner, and
the habit to coach per owner. Then charts drawn by matplotlib (engine.charts: inline SVG, no script, no file
or network needed): the funnel against the 10-5-3-1 rule (M6.6), deals per stage, the grade mix, the most
frequent risks and, against the previous run, what moved. Then the roll-up's lists and tables. Every word comes
from the playbook's term table, as in the text roll-up (engine.rendering.Renderer.rollup_view).
"""

from __future__ import annotations

import html
import re
from typing import Any

from . import charts
from .rollup import FUNNEL_RATIO, Rollup

_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_BAR_HEIGHT = 0.36  # inches of chart per bar of a horizontal bar chart
CHART_WIDTH = 7.2


def _e(text: object) -> str:
    return html.escape(str(text))


def _bars(labels: list[str], values: list[int], colours: list[str], axis_label: str, reference: list[float] | None = None,
          reference_label: str = "", actual_label: str = "") -> Any:
    """A horizontal bar chart, first label on top, each bar with its count; `reference` drawn as hollow dashed bars."""
    from matplotlib import rc_context

    with rc_context({"text.parse_math": False, "font.size": 10}):
        chart = charts.figure(CHART_WIDTH, 0.9 + _BAR_HEIGHT * max(len(labels), 2))
        axes = chart.add_subplot()
        positions = list(range(len(labels)))[::-1]
        if reference is not None:
            axes.barh(positions, reference, height=0.72, color="none", edgecolor=charts.COLOURS["ink"], linestyle="--",
                      linewidth=1.0, label=reference_label, zorder=3)
        axes.barh(positions, values, height=0.5, color=colours, label=actual_label or None, zorder=2)
        for position, value in zip(positions, values, strict=True):
            axes.annotate(str(value), (value, position), xytext=(4, 0), textcoords="offset points", va="center", fontsize=9,
                          color=charts.COLOURS["ink"])
        axes.set_yticks(positions, labels)
        axes.set_xlabel(axis_label)
        top = max([*values, *(reference or []), 1])
        axes.set_xlim(0, top * 1.15)
        axes.xaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.grid(axis="x", color="#eeeeee", zorder=0)
        if reference is not None:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    return chart


def _funnel_chart(rollup: Rollup, view: dict) -> Any | None:
    row = next((r for r in rollup.funnel_by_owner if r.owner == "*"), None)
    if row is None or not row.leads:
        return None
    t = view["t"]
    labels = [t("rollup.leads"), t("rollup.qualified"), t("rollup.proposals"), t("rollup.orders")]
    values = [row.leads, row.qualified, row.proposals, row.orders]
    expected = [row.leads * ratio / FUNNEL_RATIO[0] for ratio in FUNNEL_RATIO]
    return _bars(labels, values, [charts.COLOURS["bar"]] * 4, t("rollup.deals"), reference=expected,
                 reference_label=t("rollup.chart_expected"), actual_label=t("rollup.chart_actual"))


def _stage_chart(view: dict) -> Any | None:
    rows = view["stages"]
    if not rows:
        return None
    return _bars([r[0] for r in rows], [int(r[1]) for r in rows], [charts.COLOURS["bar"]] * len(rows), view["t"]("rollup.deals"))


def _grade_chart(view: dict) -> Any | None:
    rows = view["grades"]
    if not rows:
        return None
    return _bars([r[0] for r in rows], [int(r[1]) for r in rows], [charts.COLOURS["bar"]] * len(rows), view["t"]("rollup.deals"))


def _risk_chart(rollup: Rollup, view: dict) -> Any | None:
    if not rollup.top_risks:
        return None
    colours = [charts.COLOURS["block"] if r.severity == "block" else charts.COLOURS["warn"] for r in rollup.top_risks]
    return _bars([r[1] for r in view["risks"]], [r.deals for r in rollup.top_risks], colours, view["t"]("rollup.deals"))


def _movement_chart(rollup: Rollup, view: dict) -> Any | None:
    changes = rollup.changes
    if changes is None:
        return None
    t = view["t"]
    labels = [t("rollup.chart_moved"), t("rollup.chart_slipped"), t("rollup.chart_new_blocking")]
    values = [changes.moved_count, changes.slipped_count, changes.with_new_blocking_count]
    colours = [charts.COLOURS["good"], charts.COLOURS["warn"], charts.COLOURS["block"]]
    return _bars(labels, values, colours, view["t"]("rollup.deals"))


def _deal_list(items: list[dict], total: int, fill) -> str:
    if not items:
        return ""
    rows = "".join(f"<li><b>{_e(d['id'])} {_e(d['name'])}</b>{_e(d['owner'])}: {_e(d['detail'])}</li>" for d in items)
    more = f'<p class="note">{_e(fill("rollup.more", count=total - len(items)))}</p>' if total > len(items) else ""
    return f"<ul>{rows}</ul>{more}"


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{_e(cell)}</td>' for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


PAGE_STYLE = """
<style>
ol.agenda { padding-left: 1.4em; } ol.agenda li { margin: 0.7em 0; }
ol.agenda .why { color: #5d6d7e; } ol.agenda .ask { margin-top: 0.15em; }
ol.agenda .ask b { color: #14365d; } ol.agenda li.blocked .deal b { color: #c0392b; }
ul.habits li { margin: 0.3em 0; }
.charts { display: grid; grid-template-columns: 1fr; gap: 0.4em; }
.chart h3 { font-size: 1em; margin: 0.8em 0 0.2em; }
</style>
"""


def rollup_page(renderer: Any, rollup: Rollup, lang: str) -> str:
    """The roll-up as one HTML page in `lang` (engine.rendering.Renderer: its terms and wording)."""
    view = renderer.rollup_view(rollup, lang)
    t, fill = view["t"], view["fill"]
    parts = [PAGE_STYLE]

    items = []
    for d in view["agenda"]:
        ask = f"<b>{_e(d['ask'])}</b>{_e(t('format.colon'))}{_e(d['asked'])}" if d["ask"] else _e(d["asked"])
        items.append(
            f'<li class="{"blocked" if d["blocking"] else "watch"}"><div class="deal"><b>{_e(d["id"])} {_e(d["name"])}</b>{_e(d["owner"])}'
            f' · {_e(d["stage"])}</div><div class="why">{_e(d["why"])}</div><div class="ask">{ask}</div></li>'
        )
    agenda = f'<ol class="agenda">{"".join(items)}</ol>' if items else f"<p>{_e(t('rollup.agenda_none'))}</p>"
    parts.append(charts.section(t("rollup.agenda"), agenda))
    habits = "".join(f"<li>{_e(h['line'])}</li>" for h in view["habits"])
    more = view["habits_count"] - len(view["habits"])
    habits_html = (f'<ul class="habits">{habits}</ul>' if habits else f"<p>{_e(t('rollup.habits_none'))}</p>") + (
        f'<p class="note">{_e(fill("rollup.more_owners", count=more))}</p>' if more > 0 else "")
    parts.append(charts.section(t("rollup.habits"), habits_html))

    blocks = []
    for heading, chart, caption in (
        (t("rollup.chart_funnel"), _funnel_chart(rollup, view), t("rollup.ratio_note")),
        (t("rollup.by_stage"), _stage_chart(view), ""),
        (t("rollup.by_grade"), _grade_chart(view), ""),
        (t("rollup.top_risks"), _risk_chart(rollup, view), ""),
        (fill("rollup.changes", count=rollup.changes.deals_compared) if rollup.changes else "", _movement_chart(rollup, view),
         view["compared_with"]),
    ):
        if chart is not None:
            blocks.append(f'<div class="chart-block"><h3>{_e(heading)}</h3>{charts.chart_block(chart, caption)}</div>')
    if blocks:
        parts.append(charts.section(t("rollup.charts"), f'<div class="charts">{"".join(blocks)}</div>'))

    funnel = _e(fill("rollup.funnel_line" if rollup.below_threshold.deals else "rollup.funnel_only", deals=rollup.funnel.deals,
                     amount=view["funnel"], small=rollup.below_threshold.deals, small_amount=view["below"],
                     deals_text=view["deals"](rollup.funnel.deals), small_text=view["deals"](rollup.below_threshold.deals)))
    parts.append(charts.section(t("rollup.funnel"), f"<p>{funnel}</p>"))
    if view["funnel_rows"]:
        header = [t("rollup.owner"), t("rollup.leads"), t("rollup.qualified"), t("rollup.proposals"), t("rollup.orders"), t("rollup.per_ten")]
        parts.append(charts.section(t("rollup.ratio"), _table(header, view["funnel_rows"], {1, 2, 3, 4, 5})))
    for key, items_, total in view["lists"]:
        if total:
            parts.append(charts.section(fill(key, count=total), _deal_list(items_, total, fill)))
    owners = [[o.owner, str(o.deals), str(o.blocking), str(o.deals_blocked)] for o in rollup.owners]
    if owners:
        header = [t("rollup.owner"), t("rollup.deals"), t("rollup.blocking"), t("rollup.deals_blocked")]
        parts.append(charts.section(t("rollup.owners"), _table(header, owners, {1, 2, 3})))
    changes = view["changes"]
    if changes:
        deals = changes["with_new_blocking_count"]
        new_blocking = fill("rollup.new_blocking", count=changes["new_blocking"], deals=deals, deals_text=view["deals"](deals))
        body = "".join([
            f"<p>{_e(new_blocking)}</p>",
            _deal_list(changes["with_new_blocking"], changes["with_new_blocking_count"], fill),
            f"<p>{_e(fill('rollup.moved', count=changes['moved_count']))}</p>",
            _deal_list(changes["moved"], changes["moved_count"], fill),
            f"<p>{_e(fill('rollup.slipped', count=changes['slipped_count']))}</p>",
            _deal_list(changes["slipped"], changes["slipped_count"], fill),
        ])
        parts.append(charts.section(fill("rollup.changes", count=changes["compared"]), body))
    if view["failed_count"]:
        failed = "".join(f"<li>{_e(f['source'])}: {_e(f['problems'])}</li>" for f in view["failed"])
        more = view["failed_count"] - len(view["failed"])
        note = f'<p class="note">{_e(fill("rollup.more", count=more))}</p>' if more > 0 else ""
        parts.append(charts.section(fill("rollup.failed", count=view["failed_count"]), f"<ul>{failed}</ul>{note}"))
    page = charts.page(view["title"], lang, "\n".join(parts), subtitle=view["compared_with"])
    return _METADATA.sub("", page)  # the SVGs' RDF block names no one and only adds namespace URLs
