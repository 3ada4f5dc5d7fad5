"""The decision log's answers in words: a deal's history, a replayed decision, a rule-set diff (text, markdown
or JSON; Chinese or English, from the playbook's term table)."""

from __future__ import annotations

import json
from typing import Any

from ..engine.rendering import Renderer, escape_markdown
from ..engine.wording import printable
from .history import History, Risk
from .replay import DealLine, Replay, RuleSetDiff, Shown

LIST_LIMIT = 8  # deals named per rule in a diff before "and N more"


Item = str | tuple[str, list[str]]  # a line, or a line with lines under it


def _document(title: str, sections: list[tuple[str | None, list[Item]]], markdown: bool) -> str:
    """A title and sections of lines (each with lines under it, if any), as plain text or Markdown."""
    out = [f"**{escape_markdown(title)}**" if markdown else title, ""]
    for heading, items in sections:
        if heading:
            out.append(f"**{escape_markdown(heading)}**" if markdown else heading)
        for item in items:
            line, under = (item, []) if isinstance(item, str) else item
            out.append(f"- {escape_markdown(line)}" if markdown else f"- {line}")
            out += [f"  - {escape_markdown(sub)}" if markdown else f"    · {sub}" for sub in under]
        out.append("")
    return printable("\n".join(out).rstrip("\n") + "\n")


def dumps(model: Any) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


class LogRenderer:
    """Renders what the decision log answers, with one playbook's words."""

    def __init__(self, renderer: Renderer, stage_names: dict[str, dict[str, str]] | None = None):
        self.r = renderer
        self.stage_names = stage_names or {}

    def _risk(self, risk: Risk | Shown, lang: str, people: dict[str, str]) -> str:
        name = self.r.short_name(risk.code, lang)
        who = people.get(risk.subject or "", risk.subject)
        return f"{name}（{who}）" if who and lang == "zh" else f"{name} ({who})" if who else name

    def _risks(self, risks: list, lang: str, people: dict[str, str]) -> str:
        separator = "；" if lang == "zh" else "; "
        return separator.join(self._risk(risk, lang, people) for risk in risks) or self.r.term(lang, "log.none")

    def _deals(self, lines: list[DealLine], lang: str) -> str:
        separator = "、" if lang == "zh" else "; "  # deal names may hold commas
        named = separator.join(self._deal(line, lang) for line in lines[:LIST_LIMIT])
        if len(lines) > LIST_LIMIT:
            named += ("" if lang == "zh" else " ") + self.r.fill(lang, "log.more", count=len(lines) - LIST_LIMIT)
        return named

    @staticmethod
    def _deal(line: DealLine, lang: str) -> str:
        """A deal named with its owner, so a manager knows whom to ask."""
        if not line.owner:
            return line.deal_name
        return f"{line.deal_name}（{line.owner}）" if lang == "zh" else f"{line.deal_name} ({line.owner})"

    def history(self, found: History, lang: str, fmt: str, people: dict[str, str]) -> str:
        if fmt == "json":
            return dumps(found)
        t, f = self.r.term, self.r.fill
        title = f(lang, "log.history_title", id=found.deal_id, deal=found.deal_name)
        counts = f(lang, "log.history_counts" if found.gates else "log.history_reviews", reviews=found.reviews, gates=found.gates,
                   first=found.first, last=found.last)
        head = [counts]
        if found.customer or found.owner:
            head.append(f(lang, "log.customer_owner", customer=found.customer or "-", owner=found.owner or "-"))
        if found.outcome:
            outcome = found.outcome
            key = "log.outcome_won" if outcome["result"] == "won" else "log.outcome_lost" if outcome.get("reason") else "log.outcome_lost_plain"
            head.append(f(lang, key, date=outcome["closed_on"], reason=outcome.get("reason") or ""))
        stays = [f(lang, "log.stay" if stay.left else "log.stay_open", stage=stay.stage.name[lang], entered=stay.entered, days=stay.days)
                 for stay in found.stages]
        separator = "；" if lang == "zh" else "; "
        events: list[Item] = []
        for event in found.events:
            parts, under = [], []
            if event.first:
                parts.append(f(lang, "log.start", stage=event.stage.name[lang], step=event.buying_step.name[lang]))
                if event.appeared:
                    under.append(f(lang, "log.open_at_start", risks=self._risks(event.appeared, lang, people)))
            if event.stage_from:
                parts.append(f(lang, "log.stage_moved", old=event.stage_from.name[lang], new=event.stage.name[lang]))
                if event.past_blocked_gate:
                    parts.append(f(lang, "log.past_blocked_gate", date=event.past_blocked_gate, owner=found.owner or "-"))
            if event.buying_step_from:
                parts.append(f(lang, "log.step_moved", old=event.buying_step_from.name[lang], new=event.buying_step.name[lang]))
            if event.grade_changed:
                parts.append(f(lang, "log.grade_changed", old=event.grade_from or "-", new=event.grade or "-"))
            for gate in event.gates:
                stage = self.stage_names.get(gate["to"], {}).get(lang, gate["to"])
                parts.append(f(lang, "log.gate_allowed" if gate["allowed"] else "log.gate_blocked", stage=stage))
            if event.appeared and not event.first:
                under.append(f(lang, "log.appeared", risks=self._risks(event.appeared, lang, people)))
            if event.cleared:
                under.append(f(lang, "log.cleared", risks=self._risks(event.cleared, lang, people)))
            if event.left_behind:
                under.append(f(lang, "log.left_behind", risks=self._risks(event.left_behind, lang, people)))
            events.append((f"{event.as_of}  {separator.join(parts) or t(lang, 'log.no_move')}", under))
        sections: list[tuple[str | None, list[Item]]] = [(None, head)]
        sections += [(t(lang, "log.stages"), stays), (t(lang, "log.timeline"), events)]
        open_risks = [self._risk(risk, lang, people) for risk in found.open_risks]
        sections.append((f(lang, "log.open_risks", count=len(open_risks)), open_risks or [t(lang, "log.none")]))
        return _document(title, sections, fmt == "markdown")

    def replay(self, done: Replay, lang: str, fmt: str, people: dict[str, str], review_text: str) -> str:
        if fmt == "json":
            return dumps(done)
        t, f = self.r.term, self.r.fill
        report = done.result.report if hasattr(done.result, "report") else done.result
        title = f(lang, "log.replay_title", deal=report.deal_name, date=report.as_of, kind=t(lang, f"log.kind_{done.kind}"))
        lines = [f(lang, "log.replay_logged", caller=done.caller, then=done.ruleset_then, now=done.ruleset_now)]
        if done.same:
            lines.append(t(lang, "log.replay_same"))
        else:
            lines.append(t(lang, "log.replay_differs"))
            if done.appeared:
                lines.append(f(lang, "log.replay_appeared", risks=self._risks(done.appeared, lang, people)))
            if done.cleared:
                lines.append(f(lang, "log.replay_cleared", risks=self._risks(done.cleared, lang, people)))
            for change in done.changed:
                rule = self._risk(Shown(code=change["code"], subject=change["subject"], severity=change["now"]), lang, people)
                lines.append(f(lang, "log.replay_changed", rule=rule, old=t(lang, f"log.severity_{change['then']}"),
                               new=t(lang, f"log.severity_{change['now']}")))
            if done.allowed_then is not None and done.allowed_then != done.allowed_now:
                lines.append(f(lang, "log.replay_gate", old=t(lang, "log.allowed" if done.allowed_then else "log.blocked"),
                               new=t(lang, "log.allowed" if done.allowed_now else "log.blocked")))
        text = _document(title, [(None, lines)], fmt == "markdown")
        return text + "\n" + t(lang, "log.replay_now") + "\n\n" + review_text

    def diff(self, found: RuleSetDiff, lang: str, fmt: str, since: str | None) -> str:
        if fmt == "json":
            return dumps(found)
        t, f = self.r.term, self.r.fill
        when = f(lang, "log.diff_since", date=since) if since else t(lang, "log.diff_since_all")
        title = f(lang, "log.diff_title", since=when, count=found.deals, changed=found.deals_changed)
        sections: list[tuple[str | None, list[Item]]] = []  # the rule-set versions are in the JSON form
        for rule in found.rules:
            lines = []
            if rule.appears:
                lines.append(f(lang, "log.diff_appears", count=len(rule.appears), deals=self._deals(rule.appears, lang)))
            if rule.clears:
                lines.append(f(lang, "log.diff_clears", count=len(rule.clears), deals=self._deals(rule.clears, lang)))
            moves: dict[tuple[str, str], list[DealLine]] = {}
            for change in rule.severity_changes:
                moves.setdefault((change["now"], change["new"]), []).append(
                    DealLine(deal_id=change["deal_id"], deal_name=change["deal_name"], owner=change.get("owner")))
            for (old, new), changed in sorted(moves.items()):
                lines.append(f(lang, "log.diff_severity", count=len(changed), deals=self._deals(changed, lang),
                               old=t(lang, f"log.severity_{old}"), new=t(lang, f"log.severity_{new}")))
            sections.append((f"{rule.code} {self.r.short_name(rule.code, lang)}", lines))
        if found.failed:
            failed = [DealLine(deal_id=item["deal_id"], deal_name=item["deal_id"]) for item in found.failed]
            sections.append((None, [f(lang, "log.diff_failed", count=len(failed), deals=self._deals(failed, lang))]))
        if not found.rules and not found.failed:
            sections.append((None, [t(lang, "log.diff_none")]))
        return _document(title, sections, fmt == "markdown")
