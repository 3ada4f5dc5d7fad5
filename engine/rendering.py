"""Rendering findings and reports from playbook templates, in Chinese or English.

Each finding code has one template per language,
`templates/findings/<lang>/<CODE>.j2`, with four blocks: `title`, `why`,
`action` and `clears` (which change to the deal record would clear it). Templates render strictly: an undefined variable, a missing block or
a missing term is an error, never silent empty text.
"""

from __future__ import annotations

import datetime as dt

import difflib
import json
import re
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import jinja2
import jinja2.meta

from . import template_sandbox
from .errors import PlaybookError
from .playbook import DEFAULT_DIR, LANGUAGES, Playbook
from .report import Card, CardText, ChainStep, Changes, Finding, FindingText, GateResult, Report, WhatIfResult, reports_in
from .rulebook import Mark, Severity
from .term_format import fill_term
from .wording import aligned, plural_category, printable

if TYPE_CHECKING:  # the roll-up's module loads with the pipeline, never for one deal
    from .rollup import AgendaItem, Reason, Rollup


def _is_rollup(result: object) -> bool:
    """Whether `result` is a roll-up (there is none unless its module was loaded)."""
    rollup = sys.modules.get(f"{__package__}.rollup")
    return rollup is not None and isinstance(result, rollup.Rollup)

FORMATS = ("text", "markdown", "json")
ROW_WORK = 1_000  # template work a roll-up's layout may spend per row it lists, beyond template_sandbox.MAX_WORK
BLOCKS = ("title", "why", "action", "clears")
OPTIONAL_BLOCKS = ("short", "first", "item")  # `question` (rules that ask) is read by the brief alone


# What a finding template may read besides its rule's parameters (see finding_text and _helpers).
FINDING_CONTEXT = ("deal", "thresholds", "owner", "by", "reached", "duration", "money", "named", "who", "term", "terms",
                   "milestone_name", "stage_name")
FINDING_WORK = 20_000  # template work each finding's texts may spend: a deal with 500 contacts has that many cards


def _rows(result: object) -> int:
    """The rows a roll-up lists (by stage, grade, risk, owner): its layout may work in proportion to them."""
    if not _is_rollup(result):
        return 0
    return (len(result.by_stage) + len(result.by_grade) + len(result.top_risks) + len(result.owners) + len(result.funnel_by_owner)
            + len(result.agenda) + len(result.habits))


def extra_work(result: object) -> int:
    """The work a result's templates may spend beyond template_sandbox.MAX_WORK: in proportion to the rows a
    roll-up lists and to the findings a review renders (a big deal is not a hostile template)."""
    findings = sum(len(report.findings) for report in reports_in(result))
    return ROW_WORK * _rows(result) + FINDING_WORK * findings


def deadline(finding: Finding, report: Report) -> str:
    """By when a finding's first move is due: now when the close is a week away, else by severity."""
    if report.expected_close is not None and 0 <= (report.expected_close - report.as_of).days <= 7:
        return "now"
    return {Severity.BLOCK: "this_week", Severity.WARN: "two_weeks"}.get(finding.severity, "this_month")


@lru_cache(maxsize=16)
def environment(template_dirs: tuple, html: bool = False) -> jinja2.Environment:
    """The sandbox a playbook's templates run in (engine.template_sandbox): no Python internals, no files
    outside the playbook directories, bounded work and output. HTML templates autoescape every value."""
    return template_sandbox.PlaybookSandbox(template_dirs, html=html)


_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def escape_markdown(document: str) -> str:
    """Markdown with < and > escaped, and & where it would start an entity, so that a name like `<script>` or
    `&lt;` stays text wherever it is shown as HTML; a plain "R&D" or "need & funds" stays readable in chat apps
    that show markdown source."""
    return _ENTITY_LIKE.sub("&amp;", document).replace("<", "&lt;").replace(">", "&gt;")


def _clause(text: str) -> str:
    """A sentence as a clause to build on: without its closing punctuation."""
    return text.rstrip().rstrip("。.；;！!？?，,：:")


class Renderer:
    """Renders one playbook's wording."""

    def __init__(self, playbook: Playbook):
        self.playbook = playbook
        self.env = environment(playbook.template_dirs)

    def term(self, lang: str, key: str) -> str:
        """A term in `lang`; a missing one is an error (caught by the term-table tests)."""
        try:
            return self.playbook.terms[lang][key]
        except KeyError:
            raise PlaybookError(f"term {key!r} is missing from the {lang} term table") from None

    def fill(self, lang: str, key: str, **values: object) -> str:
        """A term in `lang` with its named fields filled (engine.term_format). Given a numeric `count`, the
        term's plural form for it is used when the table has one: `key#one` for 1 in English (CLDR categories)."""
        count = values.get("count")
        if isinstance(count, (int, float)) and not isinstance(count, bool):
            variant = f"{key}#{plural_category(lang, count)}"
            if variant in self.playbook.terms.get(lang, {}):
                key = variant
        return fill_term(key, self.term(lang, key), values)

    def _helpers(self, report: Report, lang: str) -> dict[str, Callable]:
        model = self.playbook.stage_models[report.stage_model]
        separator = self.term(lang, "list.separator")

        def milestone_name(milestone_id: str) -> str:
            found = model.find_milestone(milestone_id)
            if found is None:
                raise PlaybookError(f"milestone {milestone_id!r} is not in stage model {model.id}")
            return getattr(found[1].name, lang)

        def who(name: str, title: str) -> str:
            if not title:
                return name
            return self.fill(lang, "format.who", name=name, title=title)

        separator_ = separator

        def named(kind: str) -> str:
            """Names of the active contacts with this buying role or (qualified) supporter kind, or ''."""
            names = [p.name for p in report.people if p.active and (kind in p.roles or kind in p.qualified)]
            return separator_.join(names)

        def duration(days: int) -> str:
            """A span as a person says it: days under two months, then months ("四个多月" / "over 4 months")."""
            months = abs(days) // 30
            spoken = "一两三四五六七八九十"[months - 1] if lang == "zh" and 1 <= months <= 10 else str(months)
            return self.fill(lang, "duration.days" if abs(days) < 60 else "duration.months", days=abs(days), months=spoken)

        def money(amount: float) -> str:
            """An amount as a rep says it: 52万 / CNY 520,000 (other currencies by their code)."""
            if lang == "zh" and report.currency == "CNY":
                return f"{amount / 10_000:,.1f}".rstrip("0").rstrip(".") + "万" if amount >= 10_000 else f"{amount:,.0f}元"
            return f"{report.currency} {amount:,.0f}"

        return {
            "reached": lambda milestone_id: milestone_id in report.milestones_reached,
            "duration": duration,
            "money": money,
            "named": named,
            "who": who,
            "term": lambda kind, value: self.term(lang, f"{kind}.{value}"),
            "terms": lambda kind, values: separator.join(self.term(lang, f"{kind}.{v}") for v in values),
            "milestone_name": milestone_name,
            "stage_name": lambda index: getattr(model.stages[index].name, lang),
        }

    def finding_text(self, finding: Finding, report: Report, lang: str) -> FindingText:
        """Title, why, action and what clears it, for one finding in `lang`."""
        if lang not in LANGUAGES:
            raise PlaybookError(f"language {lang!r} is not supported; allowed: {', '.join(LANGUAGES)}")
        name, template = self._finding_template(finding.code, lang)
        context = {
            **finding.params,
            **self._helpers(report, lang),
            "deal": {
                "name": report.deal_name,
                "customer": report.customer,
                "stage": report.stage.name[lang],
                "buying_step": report.buying_step.name[lang],
                "days_in_stage": report.days_in_stage,
                "currency": report.currency,
                "amount": report.amount,
                "phase": report.phase,
            },
            "thresholds": self.playbook.thresholds.model_dump(),
            "owner": report.owner or self.term(lang, "label.we"),
            "by": self.term(lang, f"by.{deadline(finding, report)}"),
        }
        parts = {}
        for block in (*BLOCKS, *OPTIONAL_BLOCKS):
            if block not in template.blocks:
                if block in OPTIONAL_BLOCKS:
                    continue
                raise PlaybookError(f"template {name} has no block {block!r}")
            produce = template.blocks[block]
            text = template_sandbox.render(lambda produce=produce: produce(template.new_context(context)), name, block).strip()
            text = " ".join(line.strip() for line in text.splitlines() if line.strip())
            parts[block] = text[:1].upper() + text[1:]  # a branch may start mid-sentence
        return FindingText(**parts)

    def localise(self, report: Report, lang: str, *, shown_only: bool = False) -> Report:
        """The report with every finding's and every card's text filled in `lang`; with `shown_only`, only those of the
        cards shown by default (what a CRM note or a chat message says), the folded ones left without text."""
        shown = {(f.code, f.subject) for card in report.cards if not card.folded for f in card.findings} if shown_only else None
        findings = [f.model_copy(update={"text": self.finding_text(f, report, lang)}) if shown is None or (f.code, f.subject) in shown else f
                    for f in report.findings]
        by_identity = {(f.code, f.subject): f for f in findings}
        cards = []
        for card in report.cards:
            if shown is not None and card.folded:
                cards.append(card)
                continue
            members = [by_identity[(f.code, f.subject)] for f in card.findings]
            cards.append(card.model_copy(update={"findings": members, "text": self.card_text(card, members, report, lang)}))
        return report.model_copy(update={"findings": findings, "cards": cards, "language": lang})

    def card_text(self, card: Card, members: list[Finding], report: Report, lang: str) -> CardText:
        """One card's text: a person's card names them and lists what is wrong; a rule's card lists its subjects."""
        texts = [f.text for f in members]
        assert all(texts)
        top = texts[0]
        first = lambda text: text.first or text.title  # noqa: E731
        if card.kind == "person":
            person = next((p for p in report.people if p.id == card.subject), None)
            name = self._helpers(report, lang)["who"](person.name, person.title or "") if person else card.subject
            shorts = self.term(lang, "card.join").join(t.short or t.title for t in texts)
            title = self.fill(lang, "card.person", who=name, items=shorts)
            also = list(dict.fromkeys(first(t) for t in texts[1:] if first(t) != first(top)))
        elif card.kind == "rule":
            items = self.term(lang, "list.separator").join(t.item or t.title for t in texts)
            title = self.fill(lang, "card.rule", short=top.short or top.title, items=items, count=len(texts))
            also = []
        else:
            title, also = top.title, []
        return CardText(title=title, why=top.why, action=top.action, first=first(top), clears=top.clears, also=also)

    def check_templates(self, rules: list) -> None:
        """Every company rule has a template in each language with the blocks a finding needs — `short` and `first`
        too (a shipped rule's template may leave them to ours), `question` for a rule that asks someone (the brief) —
        reading nothing but its parameters and the finding context: a misspelt name fails here, when the playbook
        loads, not in the review of the one deal whose finding would have used it."""
        for rule in rules:
            needed = (*BLOCKS, "short", "first", *(("question",) if rule.asks else ()))
            for lang in LANGUAGES:
                try:
                    name, template = self._finding_template(rule.code, lang)
                except PlaybookError as error:
                    if "is missing" not in str(error):
                        raise
                    expected = self.playbook.template_dirs[0] / "findings" / lang / f"{rule.code}.j2"
                    raise PlaybookError(f"{expected} is missing: company rule {rule.code} needs its texts in both languages "
                                        "(README \"Company rules\")") from None
                missing = [block for block in needed if block not in template.blocks]
                if missing:
                    raise PlaybookError(f"template {name} of company rule {rule.code} has no block {missing[0]!r}; "
                                        f"its templates need {', '.join(needed)}")
                source = self.env.loader.get_source(self.env, name)[0]
                allowed = {*FINDING_CONTEXT, *rule.params, *self.env.globals}
                unknown = sorted(jinja2.meta.find_undeclared_variables(self.env.parse(source)) - allowed)
                if unknown:
                    close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise PlaybookError(f"{template.filename or name}: template of company rule {rule.code} reads "
                                        f"{unknown[0]!r}, which it is never given{hint} (it is given: "
                                        f"{', '.join(sorted({*FINDING_CONTEXT, *rule.params}))})")

    def short_name(self, code: str, lang: str) -> str:
        """A rule's short name (its template's `short` block), for lists and roll-ups."""
        return self._fixed_block(code, lang, "short")

    def question(self, code: str, lang: str) -> str:
        """The question that closes a rule's information gap (its template's `question` block), for briefs."""
        return self._fixed_block(code, lang, "question")

    def _finding_template(self, code: str, lang: str) -> tuple[str, jinja2.Template]:
        """A rule's template in `lang` and its name; a missing or broken one is a PlaybookError naming it."""
        name = f"findings/{lang}/{code}.j2"
        return name, template_sandbox.load(self.env, name)

    def _fixed_block(self, code: str, lang: str, block: str) -> str:
        """A template block that does not depend on the finding (rendered without its parameters)."""
        name, template = self._finding_template(code, lang)
        if block not in template.blocks:
            # a company template that re-words a finding without this block: the shipped block stands
            shipped = template_sandbox.load(environment((DEFAULT_DIR / "templates",)), name)
            if block not in shipped.blocks:
                raise PlaybookError(f"template {name} has no block {block!r}")
            template = shipped
        return template_sandbox.render(
            lambda: template.blocks[block](template.new_context({})), name, block, undefined="this block must not depend on the finding"
        ).strip()

    # -- whole documents ---------------------------------------------------

    def _localise_comparison(self, result, lang: str, reports: tuple[str, str], groups: tuple[str, ...]):
        """A comparison (what-if, changes) with both reports and every listed finding rendered in `lang`."""
        first, second = (self.localise(getattr(result, name), lang) for name in reports)
        texts = {(f.code, f.subject): f for f in (*first.findings, *second.findings)}
        update = {reports[0]: first, reports[1]: second}
        update.update({group: [texts[(f.code, f.subject)] for f in getattr(result, group)] for group in groups})
        return result.model_copy(update=update)

    def localise_result(self, result: Report | GateResult | WhatIfResult | Changes, lang: str):
        """Any review result with every finding's text filled in `lang` (for JSON answers and documents alike)."""
        with template_sandbox.work_budget(extra_work(result)):
            return self._localise_result(result, lang)

    def _localise_result(self, result: Report | GateResult | WhatIfResult | Changes, lang: str):
        if isinstance(result, Changes):
            return self._localise_comparison(
                result, lang, ("previous", "current"), ("new_risks", "cleared_risks", "new_actions", "done_actions", "left_behind")
            )
        if isinstance(result, WhatIfResult):
            return self._localise_comparison(result, lang, ("before", "after"), ("cleared", "appeared", "remaining"))
        if isinstance(result, GateResult):
            report = self.localise(result.report, lang)
            return result.model_copy(
                update={"report": report, "blocking": [f for f in report.findings if f.severity == Severity.BLOCK]}
            )
        return self.localise(result, lang)

    def _render(
        self, result: Report | GateResult | WhatIfResult | Rollup | Changes, *, lang: str, fmt: str,
        show_all: bool = False, explain: bool = False, sent: bool = False,
    ) -> str:
        if fmt not in FORMATS:
            raise PlaybookError(f"format {fmt!r} is not supported; allowed: {', '.join(FORMATS)}")
        localised = result if _is_rollup(result) else self.localise_result(result, lang)
        if fmt == "json":
            return json.dumps(localised.model_dump(mode="json"), ensure_ascii=False, indent=2)
        markdown = fmt == "markdown"
        if _is_rollup(localised):
            return self._rollup_document(localised, lang, markdown=markdown)
        if isinstance(localised, Changes):
            return self._changes_document(localised, lang, markdown=markdown, explain=explain)
        if isinstance(localised, WhatIfResult):
            return self._what_if_document(localised, lang, markdown=markdown, explain=explain)
        if isinstance(localised, GateResult):
            return self._gate_document(localised, lang, markdown=markdown, explain=explain)
        return self._report_document(localised, lang, markdown=markdown, show_all=show_all, explain=explain, sent=sent)

    def render(
        self, result: Report | GateResult | WhatIfResult | Rollup | Changes, *, lang: str, fmt: str,
        show_all: bool = False, explain: bool = False, sent: bool = False,
    ) -> str:
        """`result` as text, markdown or JSON in `lang`. A review shows its folded cards with `show_all`,
        and each finding's rule, evidence and reasoning with `explain`; `sent` words it for a group chat, where
        no option can show more. Markdown escapes <, > and & so that a name like `<script>` stays text wherever
        the markdown is shown as HTML."""
        with template_sandbox.work_budget(extra_work(result)):
            document = self._render(result, lang=lang, fmt=fmt, show_all=show_all, explain=explain, sent=sent)
        if fmt == "json":
            return document
        return printable(escape_markdown(document) if fmt == "markdown" else document)

    def _chain(self, steps: list[ChainStep], lang: str) -> str:
        parts = []
        for step in steps:
            if step["step"] == "counted":
                parts.append(f"{self.term(lang, 'derived.' + step['rule'])} ×{step['count']}")
            elif step["step"] == "derived":
                subject = (step["fact"] or "").split(":", 1)[-1]
                label = self.term(lang, "derived." + step["rule"])
                parts.append(label if subject == "deal" else f"{label}({subject})")
            else:
                parts.append(step["rule"])
        return " → ".join(parts)

    def _report_document(
        self, report: Report, lang: str, markdown: bool, show_all: bool = False, explain: bool = False, sent: bool = False
    ) -> str:
        """The review from the playbook's layout template `report/<lang>/review.j2`."""
        t = lambda key: self.term(lang, key)  # noqa: E731
        cards = [c for c in report.cards if show_all or not c.folded]
        moves = min(self.playbook.priority.first_moves, len(cards))
        first_heading = "" if not moves else t(f"review.first.{moves}") if moves <= 3 else t("review.first.n")
        context = {
            **self._document_context(report, lang, markdown, explain),
            "show_all": show_all,
            "first_heading": first_heading,
            "firsts": [c.text.first for c in cards[:moves]],
            "cards": [
                {"number": number, "text": card.text, "blocking": card.severity == Severity.BLOCK, "grounds": self._grounds(card.findings, lang)}
                for number, card in enumerate(cards, 1)
            ],
            "more": 0 if show_all else sum(1 for c in report.cards if c.folded),
            "more_key": "review.more_sent" if sent else "review.more",
            "explained": len(cards) if show_all or explain else self.playbook.priority.explained,
        }
        return self._layout(f"report/{lang}/review.j2", context)

    def _document_context(self, report: Report, lang: str, markdown: bool, explain: bool) -> dict:
        """What every layout template gets: terms, the deal header, the milestone to win next, the version."""
        t = lambda key: self.term(lang, key)  # noqa: E731
        milestone_name = self._helpers(report, lang)["milestone_name"]
        return {
            "t": t,
            "markdown": markdown,
            "explain": explain,
            "indent": "" if markdown else "   ",
            "report": report,
            "title": f"{report.deal_name} · {report.customer} · {report.currency} {report.amount:,.0f}",
            "stage": report.stage.name[lang],
            "buying_step": report.buying_step.name[lang],
            "next_milestones": [milestone_name(m) for m in report.next_milestones],
            "version": report.ruleset_version,
        }

    def _grounds(self, findings: list[Finding], lang: str) -> list[dict]:
        """Per finding, what `--explain` shows: rule, section, record paths and the reasoning chain."""
        return [
            {"code": f.code, "symbol": f.symbol, "section": f.section, "evidence": ", ".join(f.evidence), "chain": self._chain(f.chain, lang)}
            for f in findings
        ]

    def _layout(self, name: str, context: dict) -> str:
        """A whole document from a layout template of the playbook."""
        template = template_sandbox.load(self.env, name)
        text = template_sandbox.render(lambda: template.root_render_func(template.new_context(context)), name)
        lines = text.splitlines()
        while lines and not lines[0].strip():
            lines.pop(0)
        compact: list[str] = []
        for line in lines:
            if line.strip() or (compact and compact[-1].strip()):
                compact.append(line.rstrip())
        return "\n".join(compact).strip("\n") + "\n"

    def _changes_document(self, result: Changes, lang: str, markdown: bool, explain: bool = False) -> str:
        before, after = result.previous, result.current
        context = {
            **self._document_context(after, lang, markdown, explain),
            "result": result,
            "since": before.as_of.isoformat(),
            "moves": [
                ("stage", result.stage_moved, before.stage.name[lang], after.stage.name[lang]),
                ("buying_step", result.buying_step_moved, before.buying_step.name[lang], after.buying_step.name[lang]),
            ],
            "grade_move": (before.grade or "-", after.grade or "-") if before.grade != after.grade else None,
            "groups": [
                (group, [(f.text.title, f.severity == Severity.BLOCK) for f in getattr(result, group) if f.text])
                for group in ("new_risks", "cleared_risks", "done_actions", "new_actions", "left_behind")
                if group != "left_behind" or result.left_behind
            ],
        }
        return self._layout(f"report/{lang}/changes.j2", context)

    def _what_if_document(self, result: WhatIfResult, lang: str, markdown: bool, explain: bool = False) -> str:
        context = {
            **self._document_context(result.after, lang, markdown, explain),
            "change": json.dumps(result.change, ensure_ascii=False, sort_keys=True),
            "groups": [(group, [f.text.title for f in getattr(result, group) if f.text]) for group in ("cleared", "appeared")],
            "remaining": len(result.remaining),
        }
        return self._layout(f"report/{lang}/what_if.j2", context)

    @staticmethod
    def _amounts(amounts: dict[str, float], lang: str = "en") -> str:
        return ("；" if lang == "zh" else "; ").join(f"{currency} {amount:,.0f}" for currency, amount in sorted(amounts.items())) or "-"

    # -- the manager's roll-up ---------------------------------------------------

    @staticmethod
    def money(lang: str, currency: str, amount: float) -> str:
        """An amount as a sales director says it: 420万 / CNY 4,200,000 (other currencies by their code)."""
        if lang == "zh" and currency == "CNY":
            return f"{amount / 10_000:,.1f}".rstrip("0").rstrip(".") + "万" if amount >= 10_000 else f"{amount:,.0f}元"
        return f"{currency} {amount:,.0f}"

    def spoken_days(self, lang: str, days: int) -> str:
        """A span as a person says it: days under two months, then months (四个多月 / over 4 months)."""
        months = abs(days) // 30
        spoken = "一两三四五六七八九十"[months - 1] if lang == "zh" and 1 <= months <= 10 else str(months)
        return self.fill(lang, "duration.days" if abs(days) < 60 else "duration.months", days=abs(days), months=spoken)

    def owner_question(self, report: Report, code: str, subject: str | None, lang: str) -> str:
        """The one question a manager asks a deal's owner in the pipeline review: the finding's situation (its
        `title`) and its first move (`first`), and by when the owner will make it."""
        owner = report.owner or self.term(lang, "rollup.the_owner")
        finding = next((f for f in report.findings if f.code == code and f.subject == subject), None)
        if finding is None:
            return self.fill(lang, "rollup.ask_rule", owner=owner, risk=self.short_name(code, lang))
        text = self.finding_text(finding, report.model_copy(update={"owner": self.term(lang, "rollup.you")}), lang)  # 你 / you: said to the owner
        if not text.first:
            return self.fill(lang, "rollup.ask_title", owner=owner, title=_clause(text.title))
        return self.fill(lang, "rollup.ask", owner=owner, title=_clause(text.title), first=_clause(text.first))

    def _reason(self, reason: Reason, lang: str) -> str:
        p = reason.params
        if reason.kind == "amount":
            amount = self.money(lang, p["currency"], p["amount"])
            return self.fill(lang, "rollup.why_big", amount=amount, times=f"{p['times']:g}") if p.get("times") else amount
        if reason.kind == "close":
            if p["days"] == 0:
                return self.term(lang, "rollup.why_close_today")
            return self.fill(lang, "rollup.why_close", when=self.spoken_days(lang, p["days"]))
        if reason.kind == "close_passed":
            return self.fill(lang, "rollup.why_close_passed", when=self.spoken_days(lang, p["days"]))
        if reason.kind == "blocking":
            return self.fill(lang, "rollup.blocking_count", count=p["count"])
        if reason.kind == "slipped":
            return self.fill(lang, "rollup.why_slipped", count=p["steps"])
        if reason.kind == "pushed":
            return self.fill(lang, "rollup.why_pushed", old=p["old"], new=p["new"])
        return self.fill(lang, "rollup.why_new_blocking", count=p["count"])

    def _agenda_item(self, item: AgendaItem, lang: str) -> dict:
        owner = item.owner or self.term(lang, "rollup.the_owner")
        question = item.question.get(lang) or self.fill(lang, "rollup.ask_rule", owner=owner, risk=self.short_name(item.focus.code, lang))
        ask, _, rest = question.partition(self.term(lang, "format.colon"))
        return {
            "id": item.deal_id,
            "name": item.name,
            "owner": self.fill(lang, "format.owner", owner=item.owner) if item.owner else "",
            "stage": item.stage.get(lang, ""),
            "why": self.term(lang, "rollup.why_join").join(self._reason(r, lang) for r in item.reasons),
            "question": question,
            "ask": ask if rest else "",  # "问吴磊" / "Ask 吴磊", when the question opens with it
            "asked": rest if rest else question,
            "blocking": item.focus.severity == Severity.BLOCK,
        }

    def _compared_with(self, rollup: Rollup, lang: str) -> str:
        seen = rollup.compared_with
        if seen is None or rollup.changes is None:
            return ""
        if seen.kind == "file":
            return self.fill(lang, "rollup.compared_file", file=seen.label)
        if seen.as_of is not None:
            when = self._day(seen.as_of, lang)
        else:
            when = seen.logged_at.astimezone().strftime("%Y-%m-%d %H:%M") if seen.logged_at else "-"
        count = seen.deals if seen.deals is not None else rollup.changes.deals_compared
        return self.fill(lang, "rollup.compared_run", date=when, deals=count, deals_text=self.fill(lang, "rollup.deal_count", count=count))

    def rollup_view(self, rollup: Rollup, lang: str, markdown: bool = False) -> dict:
        """The roll-up as words in `lang`, ready for a layout: the text and markdown one (`report/rollup.j2`) and
        the HTML page (engine.rollup_page)."""
        from .rollup import LIST_LIMIT

        t = lambda key: self.term(lang, key)  # noqa: E731
        fill = lambda key, **values: self.fill(lang, key, **values)  # noqa: E731
        several_models = len({b.key.split("/")[0] for b in rollup.by_stage}) > 1

        def line(d) -> dict:
            return {"id": d.deal_id, "name": d.name, "owner": fill("format.owner", owner=d.owner) if d.owner else ""}

        stuck = [{**line(d), "detail": fill("rollup.stuck_detail", stage=d.stage[lang], days=d.detail["days"], limit=d.detail["limit"])}
                 for d in rollup.stuck[:LIST_LIMIT]]
        ahead = [{**line(d), "detail": fill("rollup.ahead_detail", stage=d.stage[lang], step=d.detail["buying_step"][lang])}
                 for d in rollup.ahead_of_customer[:LIST_LIMIT]]
        changes = None
        if rollup.changes is not None:
            c = rollup.changes
            slipped = []
            for d in c.slipped[:LIST_LIMIT]:
                detail = (fill("rollup.back_detail", stage=d.detail["from"][lang], steps=-d.detail["steps"]) if "steps" in d.detail
                          else fill("rollup.close_detail", old=d.detail["close_from"], new=d.detail["close_to"]))
                slipped.append({**line(d), "detail": detail})
            changes = {
                "compared": c.deals_compared,
                "new_blocking": c.new_blocking_risks,
                "with_new_blocking": [{**line(d), "detail": t("list.separator").join(self.short_name(code, lang) for code in d.detail["codes"])}
                                      for d in c.with_new_blocking[:LIST_LIMIT]],
                "with_new_blocking_count": c.with_new_blocking_count,
                "moved": [{**line(d), "detail": fill("rollup.moved_detail", stage=d.detail["from"][lang], steps=d.detail["steps"])}
                          for d in c.moved_forward[:LIST_LIMIT]],
                "moved_count": c.moved_count,
                "slipped": slipped,
                "slipped_count": c.slipped_count,
            }
        habits = [
            {"owner": h.owner, "habit": self.short_name(h.code, lang), "blocking": h.severity == Severity.BLOCK,
             "line": fill("rollup.habit_line", owner=h.owner, habit=self.short_name(h.code, lang), count=h.deals, of=h.of,
                          of_text=fill("rollup.deal_count", count=h.of))}
            for h in rollup.habits
        ]
        return {
            "t": t,
            "fill": fill,
            "deals": lambda count: fill("rollup.deal_count", count=count),
            "aligned": aligned,
            "markdown": markdown,
            "rollup": rollup,
            "title": fill("rollup.title" if rollup.as_of else "rollup.title_undated", reviewed=rollup.deals_reviewed,
                          date=self._day(rollup.as_of, lang) if rollup.as_of else "",
                          reviewed_deals=fill("rollup.deal_count", count=rollup.deals_reviewed))
                     + (fill("rollup.title_failed", failed=rollup.failed_count, failed_deals=fill("rollup.deal_count", count=rollup.failed_count))
                        if rollup.failed_count else ""),
            "compared_with": self._compared_with(rollup, lang),
            "agenda": [self._agenda_item(item, lang) for item in rollup.agenda],
            "habits": habits[:LIST_LIMIT],
            "habits_count": len(habits),
            "stages": [
                [(f"{self._model_name(b.key.split('/')[0], lang)} · " if several_models else "") + b.name.get(lang, b.key), str(b.deals),
                 self._amounts(b.amounts)]
                for b in rollup.by_stage
            ],
            "grades": [
                [b.key if b.key != "-" else t("rollup.ungraded"), str(b.deals), self._amounts(b.amounts)] for b in rollup.by_grade
            ],
            "funnel": self._amounts(rollup.funnel.amounts, lang),
            "below": self._amounts(rollup.below_threshold.amounts, lang),
            "risks": [[r.code, self.short_name(r.code, lang), str(r.deals)] for r in rollup.top_risks],
            "owners": [[o.owner, str(o.deals), str(o.blocking), str(o.deals_blocked)] for o in rollup.owners],
            "funnel_rows": [
                [t("rollup.everyone") if r.owner == "*" else r.owner, str(r.leads), str(r.qualified), str(r.proposals), str(r.orders),
                 " / ".join(f"{n:g}" for n in r.per_ten)]
                for r in rollup.funnel_by_owner
            ],
            "lists": [("rollup.stuck", stuck, rollup.stuck_count), ("rollup.ahead", ahead, rollup.ahead_count)],
            "changes": changes,
            "failed": [{"source": f.source, "problems": "; ".join(f.problems)} for f in rollup.deals_failed[:LIST_LIMIT]],
            "failed_count": rollup.failed_count,
            "limit": LIST_LIMIT,
        }

    @staticmethod
    def _day(day: dt.date, lang: str) -> str:
        """A date as a reader writes it: 11 月 20 日 / 20 Nov 2026."""
        return f"{day.month} 月 {day.day} 日" if lang == "zh" else f"{day.day} {day.strftime('%b')} {day.year}"

    def _model_name(self, model_id: str, lang: str) -> str:
        """A stage model as the reader knows it (its name in the playbook), not its id."""
        model = self.playbook.stage_model(model_id)
        return getattr(model.name, lang) if model is not None else model_id

    def _rollup_document(self, rollup: Rollup, lang: str, markdown: bool) -> str:
        """The manager's roll-up from the playbook's layout template `report/rollup.j2` (words from the term table)."""
        return self._layout("report/rollup.j2", self.rollup_view(rollup, lang, markdown))

    def owner_digest(self, owner: str, deals: list, lang: str) -> str:
        """One owner's message after a pipeline run (engine.owner_digest), as markdown for a group chat."""
        t = lambda key: self.term(lang, key)  # noqa: E731
        fill = lambda key, **values: self.fill(lang, key, **values)  # noqa: E731
        context = {
            "t": t, "fill": fill, "deals": lambda count: fill("rollup.deal_count", count=count), "markdown": True,
            "owner": owner or t("digest.unowned"), "deals_list": deals, "blocking": sum(len(d.blocks) for d in deals),
        }
        return printable(escape_markdown(self._layout("report/owner_digest.j2", context)))

    def crm_note(self, report: Report, lang: str) -> str:
        """The note written back on the CRM's deal record (crm.writeback): the header, the first moves and the
        blocking risks, as plain text from the playbook's layout `report/crm_note.j2`."""
        cards = [c for c in report.cards if not c.folded and c.text is not None]
        moves = min(self.playbook.priority.first_moves, len(cards))
        context = {
            **self._document_context(report, lang, False, False),
            "lang": lang,
            "first_heading": "" if not moves else self.term(lang, f"review.first.{moves}") if moves <= 3 else self.term(lang, "review.first.n"),
            "firsts": [c.text.first for c in cards[:moves] if c.text.first],
            "blocks": [c.text.title for c in cards if c.severity == Severity.BLOCK],
        }
        return printable(self._layout("report/crm_note.j2", context))

    def milestone_names(self, report: Report, lang: str) -> list[str]:
        """The names of the milestones the review says to win next, in `lang`."""
        milestone_name = self._helpers(report, lang)["milestone_name"]
        return [milestone_name(m) for m in report.next_milestones]

    def _gate_document(self, gate: GateResult, lang: str, markdown: bool, explain: bool = False) -> str:
        stage_model = self.playbook.stage_models[gate.report.stage_model]
        context = {
            **self._document_context(gate.report, lang, markdown, explain),
            "gate": gate,
            "from_stage": gate.from_stage.name[lang],
            "to_stage": gate.to_stage.name[lang],
            "unmet": [
                (m.name[lang], getattr(stage_model.stages[stage_model.find_stage(m.stage)].name, lang)) for m in gate.unmet_milestones
            ],
            "blocking": [
                {"text": f.text, "grounds": self._grounds([f], lang)}
                for f in gate.blocking if f.mark != Mark.UNMET_MILESTONE and f.text
            ],
        }
        return self._layout(f"report/{lang}/gate.j2", context)
