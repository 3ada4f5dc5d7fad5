"""Replaying logged decisions: one decision again under today's rule set, or every logged deal under a new
playbook against the current one (what a rule-set change would show, before it is rolled out)."""

from __future__ import annotations

from collections.abc import Iterable


from ..engine.coach import Coach
from ..engine.errors import DealcoachError
from ..engine.report import GateResult, Report
from .history import Frozen
from .history import Risk as Shown  # a finding as compared across rule sets: code, whom it is about, how severe
from .records import Decision


def _shown(findings: Iterable) -> dict[tuple[str, str | None], Shown]:
    """Findings (a report's, or a logged decision's) by code and subject."""
    return {(f.code, f.subject): Shown(code=f.code, subject=f.subject, severity=f.severity) for f in findings}


class Replay(Frozen):
    """A logged decision evaluated again: what the log holds, what today's rule set says, and the difference."""

    decision_id: str
    kind: str
    logged_at: str
    caller: str
    deal_id: str
    ruleset_then: str
    ruleset_now: str
    same: bool
    appeared: list[Shown]
    cleared: list[Shown]
    changed: list[dict]  # {"code", "subject", "then", "now"}: severity changed
    allowed_then: bool | None = None
    allowed_now: bool | None = None
    result: Report | GateResult


def replay(coach: Coach, decision: Decision) -> Replay:
    """Evaluate the logged deal again with `coach` (a gate again as a gate to the same stage)."""
    deal = coach.deal(decision.deal, label=f"decision {decision.id}")
    result: Report | GateResult = coach.gate(deal, decision.to_stage) if decision.kind == "gate" and decision.to_stage else coach.review(deal)
    report = result.report if isinstance(result, GateResult) else result
    then, now = _shown(decision.findings), _shown(report.findings)
    changed = [{"code": key[0], "subject": key[1], "then": then[key].severity, "now": now[key].severity}
               for key in then.keys() & now.keys() if then[key].severity != now[key].severity]
    appeared = [now[key] for key in now.keys() - then.keys()]
    cleared = [then[key] for key in then.keys() - now.keys()]
    allowed_now = result.allowed if isinstance(result, GateResult) else None
    return Replay(
        decision_id=decision.id, kind=decision.kind, logged_at=decision.logged_at.isoformat(timespec="seconds"), caller=decision.caller,
        deal_id=decision.deal_id, ruleset_then=decision.ruleset_version, ruleset_now=report.ruleset_version,
        same=not (appeared or cleared or changed) and decision.allowed == allowed_now, appeared=sorted(appeared, key=_order),
        cleared=sorted(cleared, key=_order), changed=sorted(changed, key=lambda c: (c["code"], c["subject"] or "")),
        allowed_then=decision.allowed, allowed_now=allowed_now, result=result,
    )


def _order(shown: Shown) -> tuple[str, str]:
    return (shown.code, shown.subject or "")


class DealLine(Frozen):
    deal_id: str
    deal_name: str
    owner: str | None = None
    subject: str | None = None


class RuleDiff(Frozen):
    """One rule's difference between the current and the new rule set over the logged deals."""

    code: str
    appears: list[DealLine]
    clears: list[DealLine]
    severity_changes: list[dict]  # {"deal_id", "deal_name", "subject", "now", "new"}


class RuleSetDiff(Frozen):
    """What a new playbook would change over the newest logged version of every deal."""

    deals: int
    deals_changed: int
    failed: list[dict]  # {"deal_id", "message"}: deals the new rule set could not evaluate
    ruleset_now: str
    ruleset_new: str
    rules: list[RuleDiff]
    gate_changes: list[dict] = []


def diff_rules(current: Coach, new: Coach, decisions: Iterable[Decision]) -> RuleSetDiff:
    """Review each logged deal with both rule sets and collect, per rule, the deals where it would appear or clear."""
    rules: dict[str, dict[str, list]] = {}
    failed: list[dict] = []
    deals = changed_deals = 0
    versions = ("", "")
    for decision in decisions:
        deals += 1
        try:
            before = current.review(current.deal(decision.deal, label=f"decision {decision.id}"))
            after = new.review(new.deal(decision.deal, label=f"decision {decision.id}"))
        except DealcoachError as error:
            failed.append({"deal_id": decision.deal_id, "message": str(error)})
            continue
        versions = (before.ruleset_version, after.ruleset_version)
        then, now = _shown(before.findings), _shown(after.findings)
        line = {"deal_id": before.deal_id, "deal_name": before.deal_name, "owner": before.owner}
        touched = False
        for key in now.keys() - then.keys():
            rules.setdefault(key[0], {"appears": [], "clears": [], "severity": []})["appears"].append(DealLine(**line, subject=key[1]))
            touched = True
        for key in then.keys() - now.keys():
            rules.setdefault(key[0], {"appears": [], "clears": [], "severity": []})["clears"].append(DealLine(**line, subject=key[1]))
            touched = True
        for key in then.keys() & now.keys():
            if then[key].severity != now[key].severity:
                rules.setdefault(key[0], {"appears": [], "clears": [], "severity": []})["severity"].append(
                    {**line, "subject": key[1], "now": then[key].severity, "new": now[key].severity})
                touched = True
        changed_deals += touched
    return RuleSetDiff(
        deals=deals, deals_changed=changed_deals, failed=failed, ruleset_now=versions[0] or current.playbook.version_tag,
        ruleset_new=versions[1] or new.playbook.version_tag,
        rules=[RuleDiff(code=code, appears=entry["appears"], clears=entry["clears"], severity_changes=entry["severity"])
               for code, entry in sorted(rules.items(), key=lambda item: (-_size(item[1]), item[0]))],
    )


def _size(entry: dict[str, list]) -> int:
    return len(entry["appears"]) + len(entry["clears"]) + len(entry["severity"])
