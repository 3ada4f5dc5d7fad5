"""What the decision log holds, as plain records, and how a review or gate becomes one."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..engine.model import Deal
from ..engine.report import GateResult, Report
from ..engine.rollup import Digest

KINDS = ("review", "gate", "pipeline")
RESULTS = ("won", "lost")


@dataclass(frozen=True)
class LoggedFinding:
    """One finding of a logged decision: what the rep was shown, and where in the order."""

    code: str
    kind: str
    severity: str
    rank: int | None
    subject: str | None
    folded: bool


@dataclass(frozen=True)
class Decision:
    """One logged review or gate: the deal as evaluated, the rule set that judged it, what it found."""

    id: str
    logged_at: dt.datetime
    kind: str
    deal: dict[str, Any]
    digest: Digest
    findings: tuple[LoggedFinding, ...]
    ruleset_version: str
    playbook_digest: str
    caller: str
    to_stage: str | None = None
    allowed: bool | None = None
    run_id: str | None = None

    @property
    def deal_id(self) -> str:
        return self.digest.deal_id

    @property
    def as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.deal["as_of"])

    def shown(self) -> set[str]:
        """The codes of the risks and actions the rep was shown (not folded away)."""
        return {f.code for f in self.findings if not f.folded}


@dataclass(frozen=True)
class Outcome:
    """How a deal ended: won or lost, when, why, and who said so (cli, api, a CRM)."""

    deal_id: str
    result: str
    closed_on: dt.date
    reason: str | None = None
    source: str = "cli"
    recorded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


@dataclass(frozen=True)
class Run:
    """One logged pipeline run."""

    id: str
    logged_at: dt.datetime
    source: str
    deals: int
    failed: int
    ruleset_version: str
    caller: str
    complete: bool
    as_of: dt.date | None = None  # the newest evaluation date among its deals, once complete


def decision_of(
    result: Report | GateResult, deal: Deal, *, decision_id: str, caller: str, playbook_digest: str,
    kind: str | None = None, run_id: str | None = None, logged_at: dt.datetime | None = None,
) -> Decision:
    """The log record of a review (a Report) or a gate (a GateResult) of `deal`."""
    report = result.report if isinstance(result, GateResult) else result
    findings = tuple(
        LoggedFinding(code=f.code, kind=f.kind, severity=f.severity, rank=f.rank, subject=f.subject, folded=f.folded)
        for f in report.findings
    )
    return Decision(
        id=decision_id,
        logged_at=logged_at or dt.datetime.now(dt.timezone.utc),
        kind=kind or ("gate" if isinstance(result, GateResult) else "review"),
        deal=deal.model_dump(mode="json", exclude_none=True),
        digest=Digest.model_validate(report, from_attributes=True),
        findings=findings,
        ruleset_version=report.ruleset_version,
        playbook_digest=playbook_digest,
        caller=caller,
        to_stage=result.to_stage.id if isinstance(result, GateResult) else None,
        allowed=result.allowed if isinstance(result, GateResult) else None,
        run_id=run_id,
    )


def pipeline_decision(
    digest: Digest, deal: dict[str, Any], findings: Iterable[tuple[str, str, str, int | None, str | None, bool]], *,
    decision_id: str, caller: str, playbook_digest: str, ruleset_version: str, run_id: str | None,
    logged_at: dt.datetime | None = None,
) -> Decision:
    """The log record of one deal of a pipeline run, from what a worker sends back (engine.pipeline.Logged): the
    digest, the deal as evaluated (already a JSON-ready dict) and each finding's (code, kind, severity, rank,
    subject, folded). Holds what decision_of would make of the same review."""
    return Decision(
        id=decision_id,
        logged_at=logged_at or dt.datetime.now(dt.timezone.utc),
        kind="pipeline",
        deal=deal,
        digest=digest,
        findings=tuple(LoggedFinding(*finding) for finding in findings),
        ruleset_version=ruleset_version,
        playbook_digest=playbook_digest,
        caller=caller,
        run_id=run_id,
    )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
