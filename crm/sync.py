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
from .writeback import Write, coaching, plan


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
            line["gate"] = {"to": self.gate.to_stage.id, "allowed": self.gate.allowed}
        if self.results:
            line["writes"] = [{"what": r.what, "ok": r.ok, "status": r.status, **({"detail": r.detail} if r.detail else {})} for r in self.results]
        else:
            line["planned"] = [w.what for w in self.planned]
        return line


def sync_record(coach, kind: str, converted: Converted, mapping: Mapping, client: CrmClient | None, *, gate_to: str | None = None) -> Synced:
    """Review one converted record and write its coaching back through `client` (None: plan only)."""
    synced = Synced(converted.record_id, converted.shown)
    if converted.skipped is not None:
        synced.skipped = str(converted.skipped)
        return synced
    if converted.error is not None or converted.document is None:
        synced.problems = [str(p) for p in (converted.error.problems if converted.error else [])]
        return synced
    try:
        if gate_to is not None:
            synced.gate = coach.gate(converted.document, gate_to)
            synced.report = synced.gate.report
        else:
            synced.report = coach.review(converted.document)
    except DealInputError as error:
        synced.problems = [str(p) for p in error.problems]
        return synced
    planned = coaching(coach, synced.report, kind, converted.record_id or "", converted.record or {}, mapping)
    synced.planned = plan(kind, planned, mapping)
    if client is not None:
        synced.results = client.send(synced.planned)
    return synced


def shown_request(kind: str, write: Write) -> dict[str, Any]:
    """A planned request as an integrator sends it; Odoo's credentials appear as placeholders, never their values."""
    if kind == "odoo":
        body = write.body
        call = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": ["<database>", "<user id>", "<API key>", body["model"], body["method"], body["args"], body["kwargs"]]}}
        return {"what": write.what, "method": write.method, "path": write.path, "body": call}
    return {"what": write.what, "method": write.method, "path": write.path, "body": write.body}
