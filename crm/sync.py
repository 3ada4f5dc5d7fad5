"""Review CRM records and write the coaching back: what `dealcoach sync` and the CRM webhooks share.

Each record of a CRM input is reviewed (and gated, when a stage change is being judged), its coaching
planned as the CRM's requests (crm.writeback), and the requests sent (crm.client) — or only shown, for a
dry run. A record that cannot be reviewed is reported with its problems and nothing is written for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.errors import DealInputError
from ..engine.report import GateResult, Report
from .client import CrmClient, WriteResult
from .common import Mapping
from .convert import Converted
from .writeback import Write, coaching, odoo_request, plan


@dataclass
class Synced:
    """One record's outcome: its review (and gate), the requests planned, and what the CRM answered to each."""

    record_id: str | None
    shown: str
    report: Report | None = None
    gate: GateResult | None = None
    planned: list[Write] = field(default_factory=list)
    results: list[WriteResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why it was not reviewed (nothing written then)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and all(result.ok for result in self.results)

    def summary(self) -> dict[str, Any]:
        """The outcome as one JSON line."""
        line: dict[str, Any] = {"deal_id": self.record_id, "ok": self.ok}
        if self.skipped:
            line["skipped"] = self.skipped
        if self.problems:
            line["problems"] = self.problems
        if self.report is not None:
            line.update(grade=self.report.grade, blocking=len(self.report.blocking))
        if self.gate is not None:
            line["gate"] = {"from": self.gate.from_stage.id, "to": self.gate.to_stage.id, "allowed": self.gate.allowed}
        if self.results:
            line["writes"] = [{"what": r.what, "ok": r.ok, "status": r.status, **({"detail": r.detail} if r.detail else {})} for r in self.results]
        else:
            line["planned"] = [w.what for w in self.planned]
        return line


def sync_record(coach, kind: str, converted: Converted, mapping: Mapping, client: CrmClient | None, *,
                gate: tuple[str, str] | None = None) -> Synced:
    """Review one converted record and write its coaching back through `client` (None: plan only). With `gate`
    (from stage, to stage), the move is gated: judged as the deal advancing from the one to the other, and the
    gate's answer written back."""
    synced = Synced(converted.record_id, converted.shown)
    if converted.skipped is not None:
        synced.skipped = str(converted.skipped)
        return synced
    if converted.error is not None or converted.document is None:
        synced.problems = [str(p) for p in (converted.error.problems if converted.error else [])]
        return synced
    try:
        if gate is not None and gate[0] != gate[1]:
            synced.gate = coach.gate({**converted.document, "stage": gate[0]}, gate[1])
        synced.report = coach.review(converted.document)  # the coaching is the present stage's, whatever the gate said
    except DealInputError as error:
        synced.problems = [str(p) for p in error.problems]
        return synced
    planned = coaching(coach, synced.report, kind, converted.record_id or "", converted.record or {}, mapping, synced.gate)
    synced.planned = plan(kind, planned, mapping)
    if client is not None:
        synced.results = client.send(synced.planned)
    return synced


def shown_request(kind: str, write: Write) -> dict[str, Any]:
    """A planned request as an integrator sends it; Odoo's credentials appear as placeholders, never their values."""
    body = odoo_request(write.body, "<database>", "<user id>", "<API key>") if kind == "odoo" else write.body
    return {"what": write.what, "method": write.method, "path": write.path, "body": body}


def previous_stage(kind: str, converted: Converted, mapping: Mapping, coach) -> str | None:
    """The dealcoach stage the deal was in before the CRM moved it to its present one: from Salesforce's stage
    history or HubSpot's dates entered; else the stage before the present one in the stage model."""
    record = converted.record or {}
    document = converted.document or {}
    before: str | None = None
    if kind == "salesforce":
        rows = (record.get("OpportunityHistories") or {}).get("records") if isinstance(record.get("OpportunityHistories"), dict) else None
        names = [row.get("StageName") for row in rows or [] if isinstance(row, dict)]
        while names and names[-1] == record.get("StageName"):
            names.pop()
        before = names[-1] if names else None
    elif kind == "hubspot":
        properties = record.get("properties") if isinstance(record.get("properties"), dict) else {}
        current = properties.get("dealstage")
        entered = {stage: properties.get(f"hs_v2_date_entered_{stage}") for stage in mapping.stages}
        now = entered.get(current)
        earlier = [(when, stage) for stage, when in entered.items() if isinstance(when, str) and stage != current and (not now or when < now)]
        before = max(earlier)[1] if earlier else None
    target = mapping.stages.get(str(before)) if before is not None else None
    if target is not None:
        return target.stage
    model = coach.playbook.stage_models.get(document.get("stage_model", ""))
    index = model.find_stage(document.get("stage", "")) if model else None
    return model.stages[index - 1].id if model and index else None
