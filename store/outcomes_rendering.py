"""The outcomes report in words and pictures: text, markdown and JSON from the playbook's layout
`report/outcomes.j2` and its term table (`outcomes.*` terms), and one self-contained HTML page with a forest
plot of each rule's loss-rate difference and its interval (engine.charts: matplotlib to inline SVG, no
script, nothing fetched)."""

from __future__ import annotations

import html
import json
from typing import Any

from ..engine import template_sandbox
from ..engine.errors import PlaybookError
from ..engine.rendering import Renderer, escape_markdown
from ..engine.wording import aligned, printable
from .outcomes import OutcomeReport, RuleOutcome

FORMATS = ("text", "markdown", "json", "html")
LIST_LIMIT = 30  # rules named in the "too few deals" list before "and N more"
STAGES_SHOWN = 2  # stages named where a rule was first shown
ROW_WORK = 2_000  # template work per rule listed, beyond template_sandbox.MAX_WORK
AMOUNT_KEYS = ("funnel_min_amount", "soe_collective_amount")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _points(value: float, signed: bool = False) -> str:
    number = round(value * 100)
    return f"{number:+d}" if signed and number else f"{abs(number) if not signed else number:d}"


class OutcomesRenderer:
    """Renders an OutcomeReport with one playbook's words (a Coach's renderer)."""

    def __init__(self, renderer: Renderer):
        self.r = renderer

    # -- words ---------------------------------------------------------------------

    def name(self, rule: RuleOutcome | str, lang: str) -> str:
        code = rule if isinstance(rule, str) else rule.code
        try:
            return self.r.short_name(code, lang)
        except PlaybookError:  # a rule no longer in the playbook (retired, or a company rule taken out)
            return "" if isinstance(rule, str) else rule.symbol

    def _named(self, rule: RuleOutcome, lang: str) -> str:
        return f"{rule.code} {self.name(rule, lang)}".strip()

    def threshold_value(self, key: str, value: Any, lang: str) -> str:
        if key in AMOUNT_KEYS and isinstance(value, (int, float)):
            if lang == "zh":
                return f"{value / 10_000:,.1f}".rstrip("0").rstrip(".") + "万" if value >= 10_000 else f"{value:,.0f}元"
            return f"{value:,.0f}"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def summary(self, found: OutcomeReport, lang: str) -> list[str]:
        f = lambda key, **values: self.r.fill(lang, key, **values)  # noqa: E731
        lines = [f("outcomes.counts", deals=found.deals, won=found.won, lost=found.lost, count=found.deals)]
        if found.without_review:
            lines.append(f("outcomes.without_review", count=found.without_review))
        if found.status != "ok":
            lines.append(f("outcomes.not_enough", min_deals=found.minimums.deals, min_side=found.minimums.per_result))
        elif found.compared:
            lines.append(f("outcomes.intervals", rules=found.compared, count=found.compared))
        return lines

    def rule_lines(self, rule: RuleOutcome, lang: str) -> list[str]:
        """What the report says of a rule that foretells losses: the two loss rates, the difference and lift,
        where it first showed, and what clearing it did."""
        f = lambda key, **values: self.r.fill(lang, key, **values)  # noqa: E731
        shown, other, difference = rule.shown, rule.not_shown, rule.difference
        assert shown.interval and other.interval and difference
        first = f("outcomes.rule_line", code=rule.code, name=self.name(rule, lang), shown=shown.deals, shown_lost=shown.lost,
                  rate=_pct(shown.rate), low=_pct(shown.interval.low), high=_pct(shown.interval.high), other=other.deals,
                  other_rate=_pct(other.rate), other_low=_pct(other.interval.low), other_high=_pct(other.interval.high))
        low, high = difference.interval.low, difference.interval.high
        if difference.value >= 0:
            first += self._join(lang) + f("outcomes.higher", points=_points(difference.value), points_low=_points(low, True),
                                          points_high=_points(high, True), lift=f"{rule.lift.value:.1f}" if rule.lift else "-")
        else:
            first += self._join(lang) + f("outcomes.lower", points=_points(difference.value), points_low=_points(low, True),
                                          points_high=_points(high, True))
        lines = [first]
        if rule.first_stages:
            stages = self.r.term(lang, "list.separator").join(
                f("outcomes.stage_item", stage=s.name.get(lang, s.stage), count=s.deals) for s in rule.first_stages[:STAGES_SHOWN])
            lines.append(f("outcomes.first_stages", stages=stages))
        lines.append(self.clearing(rule, lang))
        return lines

    @staticmethod
    def _join(lang: str) -> str:
        return "" if lang == "zh" else " "

    def clearing(self, rule: RuleOutcome, lang: str) -> str:
        f = lambda key, **values: self.r.fill(lang, key, **values)  # noqa: E731
        c = rule.clearing
        if not c.cleared.deals and not c.still_shown.deals:
            text = ""
        elif not c.cleared.deals:
            text = f("outcomes.never_cleared")
        elif not c.still_shown.deals:
            text = f("outcomes.always_cleared")
        else:
            text = f("outcomes.clearing", cleared=c.cleared.deals, cleared_lost=c.cleared.lost, cleared_rate=_pct(c.cleared.rate),
                     still=c.still_shown.deals, still_lost=c.still_shown.lost, still_rate=_pct(c.still_shown.rate))
            if c.helped is True:
                text += self._join(lang) + f("outcomes.clearing_helped")
            elif c.helped is False:
                text += self._join(lang) + f("outcomes.clearing_no_help")
        if c.outgrown:
            text += (self._join(lang) if text else "") + f("outcomes.outgrown", count=c.outgrown)
        return text

    def short_line(self, rule: RuleOutcome, lang: str) -> str:
        assert rule.difference
        d = rule.difference
        return self.r.fill(lang, "outcomes.short_line", code=rule.code, name=self.name(rule, lang), rate=_pct(rule.shown.rate),
                           other_rate=_pct(rule.not_shown.rate), points=_points(d.value, True), points_low=_points(d.interval.low, True),
                           points_high=_points(d.interval.high, True))

    def threshold_items(self, found: OutcomeReport, lang: str) -> list[list[str]]:
        """Per group of thresholds named by the same rules for the same reasons (the three grade thresholds, read
        together): the thresholds with their values, then a line per rule saying why."""
        f = lambda key, **values: self.r.fill(lang, key, **values)  # noqa: E731
        by_code = {rule.code: rule for rule in found.rules}
        groups: dict[tuple, list[str]] = {}
        for note in found.thresholds:
            label = f(f"outcomes.threshold.{note.key}", value=self.threshold_value(note.key, note.value, lang))
            groups.setdefault(tuple((code, tuple(reasons)) for code, reasons in note.rules.items()), []).append(label)
        items = []
        for rules, labels in groups.items():
            joined = self.r.term(lang, "outcomes.separator").join(labels)
            lines = [joined[:1].upper() + joined[1:]]
            for code, revisits in rules:
                rule = by_code[code]
                reasons = [f(f"outcomes.revisit.{revisit}", share=_pct(rule.share)) for revisit in revisits]
                joined = self.r.term(lang, "outcomes.separator").join(reasons)
                lines.append(f("outcomes.threshold_rule", rule=self._named(rule, lang), reasons=joined))
            items.append(lines)
        return items

    def too_few(self, found: OutcomeReport, lang: str) -> str:
        rules = [r for r in found.rules if r.verdict == "too_few"]
        named = self.r.term(lang, "list.separator").join(self._named(r, lang) for r in rules[:LIST_LIMIT])
        if len(rules) > LIST_LIMIT:
            named += self._join(lang) + self.r.fill(lang, "outcomes.more", count=len(rules) - LIST_LIMIT)
        return named

    def sections(self, found: OutcomeReport, lang: str) -> list[dict]:
        """Each section: heading, note, and items (an item is its lines: the first a list item, the rest under it)."""
        if found.status != "ok":
            return []
        t = lambda key: self.r.term(lang, key)  # noqa: E731
        sections = []
        predicts = [r for r in found.rules if r.verdict == "predicts_losses"]
        sections.append({"heading": t("outcomes.predicts"), "note": t("outcomes.predicts_note") if predicts else t("outcomes.predicts_none"),
                         "entries": [self.rule_lines(r, lang) for r in predicts]})
        if found.thresholds:
            sections.append({"heading": t("outcomes.thresholds"), "note": t("outcomes.thresholds_note"),
                             "entries": self.threshold_items(found, lang)})
        for verdict, heading, note in (("no_separation", "outcomes.no_separation", "outcomes.no_separation_note"),
                                       ("goes_with_wins", "outcomes.wins", "outcomes.wins_note")):
            rules = [r for r in found.rules if r.verdict == verdict]
            if rules:
                sections.append({"heading": t(heading), "note": t(note), "entries": [[self.short_line(r, lang)] for r in rules]})
        if any(r.verdict == "too_few" for r in found.rules):
            sections.append({"heading": self.r.fill(lang, "outcomes.too_few", min=found.minimums.per_rule,
                                                                         width=round(50 * found.minimums.widest)), "note": self.too_few(found, lang),
                             "entries": []})
        return sections

    def header(self, lang: str) -> list[str]:
        t = lambda key: self.r.term(lang, key)  # noqa: E731
        return [t("outcomes.col.code"), t("outcomes.col.rule"), t("outcomes.col.shown"), t("outcomes.col.not_shown"),
                t("outcomes.col.difference"), t("outcomes.col.lift"), t("outcomes.col.verdict")]

    def rows(self, found: OutcomeReport, lang: str) -> list[list[str]]:
        rows = []
        for rule in found.rules:
            d = rule.difference
            rows.append([
                rule.code, self.name(rule, lang), f"{rule.shown.deals} / {rule.shown.lost}", f"{rule.not_shown.deals} / {rule.not_shown.lost}",
                f"{_points(d.value, True)} ({_points(d.interval.low, True)}, {_points(d.interval.high, True)})" if d else "-",
                f"{rule.lift.value:.1f}" if rule.lift else "-", self.r.term(lang, f"outcomes.verdict.{rule.verdict}"),
            ])
        return rows

    def subtitle(self, found: OutcomeReport, lang: str) -> str:
        return self.r.fill(lang, "outcomes.since", date=found.since.isoformat()) if found.since else ""

    # -- documents -----------------------------------------------------------------

    def render(self, found: OutcomeReport, *, lang: str = "zh", fmt: str = "text") -> str:
        """The report as text, markdown, JSON or a self-contained HTML page, in `lang`."""
        if fmt not in FORMATS:
            raise PlaybookError(f"format {fmt!r} is not supported; allowed: {', '.join(FORMATS)}")
        if fmt == "json":
            return json.dumps(found.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
        if fmt == "html":
            return self.page(found, lang)
        markdown = fmt == "markdown"
        with template_sandbox.work_budget(ROW_WORK * len(found.rules)):
            context = {
                "t": lambda key: self.r.term(lang, key), "markdown": markdown, "aligned": aligned,
                "subtitle": self.subtitle(found, lang), "summary": self.summary(found, lang), "sections": self.sections(found, lang),
                "header": self.header(lang), "rows": self.rows(found, lang) if found.status == "ok" else [],
            }
            document = self._layout("report/outcomes.j2", context)
        return printable(escape_markdown(document) if markdown else document)

    def _layout(self, name: str, context: dict) -> str:
        template = template_sandbox.load(self.r.env, name)
        text = template_sandbox.render(lambda: template.root_render_func(template.new_context(context)), name)
        compact: list[str] = []
        for line in text.splitlines():
            if line.strip() or (compact and compact[-1].strip()):
                compact.append(line.rstrip())
        return "\n".join(compact).strip("\n") + "\n"

    def chart(self, found: OutcomeReport, lang: str) -> Any | None:
        """The forest plot: each compared rule's loss-rate difference (points) with its interval, largest first."""
        from ..engine import charts

        rules = [r for r in found.rules if r.verdict != "too_few" and r.difference is not None]
        if not rules:
            return None
        rules.sort(key=lambda r: r.difference.value)  # the largest ends up on top
        figure = charts.figure(9.0, 1.0 + 0.34 * len(rules))
        axes = figure.add_subplot()
        colour = {"predicts_losses": charts.COLOURS["block"], "goes_with_wins": charts.COLOURS["good"],
                  "no_separation": charts.COLOURS["muted"]}
        for y, rule in enumerate(rules):
            d = rule.difference
            shade = colour.get(rule.verdict, charts.COLOURS["info"])
            axes.plot([d.interval.low * 100, d.interval.high * 100], [y, y], color=shade, linewidth=2.2, solid_capstyle="butt")
            axes.plot([d.value * 100], [y], "o", color=shade, markersize=6)
        axes.axvline(0, color=charts.COLOURS["reference"], linewidth=1.2, zorder=0)
        axes.set_yticks(range(len(rules)), [self._named(r, lang) for r in rules])
        axes.set_ylim(-0.7, len(rules) - 0.3)
        axes.set_xlabel(self.r.term(lang, "outcomes.chart"))
        axes.grid(axis="x", color="#eeeeee")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        return figure

    def page(self, found: OutcomeReport, lang: str) -> str:
        """One self-contained HTML page: the counts, the forest plot, the verdicts and the table (no script, no URL)."""
        from ..engine import charts

        t = lambda key: self.r.term(lang, key)  # noqa: E731
        e = html.escape
        body = ["".join(f"<p>{e(line)}</p>" for line in self.summary(found, lang))]
        counts = [(t("outcomes.count.deals"), found.deals, found.minimums.deals), (t("outcomes.count.won"), found.won, found.minimums.per_result),
                  (t("outcomes.count.lost"), found.lost, found.minimums.per_result), (t("outcomes.count.without_review"), found.without_review, None)]
        rows = "".join(f"<tr><td>{e(_capital(label))}</td><td class=\"num\">{value}</td><td class=\"num\">{'' if need is None else need}</td></tr>"
                       for label, value, need in counts)
        head = _cell("th", "", False) + _cell("th", t("outcomes.counts_heading"), True) + _cell("th", _capital(t("outcomes.count.needed")), True)
        body.append(charts.section(t("outcomes.counts_heading"), f"<table><tr>{head}</tr>{rows}</table>"))
        if found.status == "ok":
            chart = self.chart(found, lang)
            if chart is not None:
                body.append(charts.section(t("outcomes.chart"), charts.chart_block(chart, t("outcomes.chart_caption"))))
            for section in self.sections(found, lang):
                items = "".join("<li>" + "<br>".join(e(line) for line in item if line) + "</li>" for item in section["entries"])
                content = (f"<p class=\"note\">{e(section['note'])}</p>" if section["note"] else "") + (f"<ul>{items}</ul>" if items else "")
                body.append(charts.section(section["heading"], content))
            numeric = (2, 3, 5)
            header = "".join(_cell("th", h, i in numeric) for i, h in enumerate(self.header(lang)))
            cells = "".join("<tr>" + "".join(_cell("td", c, i in numeric) for i, c in enumerate(row)) + "</tr>" for row in self.rows(found, lang))
            body.append(charts.section(t("outcomes.table"), f"<table><tr>{header}</tr>{cells}</table>"))
        return charts.page(t("outcomes.title") + self.subtitle(found, lang), lang, "\n".join(body))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cell(tag: str, text: str, numeric: bool) -> str:
    return f"<{tag} class=\"num\">{html.escape(text)}</{tag}>" if numeric else f"<{tag}>{html.escape(text)}</{tag}>"


def render(found: OutcomeReport, coach: Any, *, lang: str = "zh", fmt: str = "text") -> str:
    """The outcomes report in `lang` and `fmt` (text, markdown, json, html), with a Coach's playbook words."""
    return OutcomesRenderer(coach.renderer).render(found, lang=lang, fmt=fmt)
