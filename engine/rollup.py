"""The manager's roll-up of a pipeline run: where the deals are, what threatens them, who needs help.

Built incrementally from result records (engine.pipeline), so a run of any
size needs memory for the totals only, not for the reports.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict

from .report import StagePosition

BLOCK = "block"
BELOW_FUNNEL, STALLED, AHEAD_OF_CUSTOMER = "below_funnel", "stalled", "ahead_of_customer"  # engine.rulebook.Mark values
GRADES = ("A", "B", "C", "D")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Bucket(_Out):
    """Deals and their amounts, per currency."""

    key: str
    name: dict[str, str] = {}
    deals: int
    amounts: dict[str, float]


class DealLine(_Out):
    """One deal named in a list of the roll-up."""

    deal_id: str
    name: str
    owner: str | None
    stage: dict[str, str]
    detail: dict[str, Any] = {}


class RiskCount(_Out):
    """How often one risk appears across the pipeline."""

    code: str
    symbol: str
    severity: str
    deals: int


class OwnerCount(_Out):
    """One rep's deals and blocking risks."""

    owner: str
    deals: int
    blocking: int
    deals_blocked: int


class FailedDeal(_Out):
    """A deal the run could not review."""

    source: str
    deal_id: str | None
    problems: list[str]


class DigestFinding(_Out):
    """What the roll-up reads of one finding."""

    code: str
    subject: str | None = None
    symbol: str
    kind: str
    severity: str
    mark: str | None = None
    params: dict[str, Any] = {}


class Digest(_Out):
    """What the roll-up reads of one review: a typed slice of the Report (small, so workers send little back).
    Built from a Report, or from a result line's JSON report (a previous run), which carries every field here."""

    deal_id: str
    deal_name: str
    owner: str | None = None
    currency: str
    amount: float
    stage_model: str
    stage: StagePosition
    buying_step: StagePosition
    grade: str | None = None
    expected_close: dt.date | None = None
    phase: str = ""
    findings: list[DigestFinding]


class FunnelRow(_Out):
    """One owner's funnel (M6.6, the 10-5-3-1 rule): leads, qualified, proposals, orders, and per 10 leads."""

    owner: str
    leads: int
    qualified: int
    proposals: int
    orders: int

    @property
    def per_ten(self) -> tuple[float, float, float]:
        """Qualified, proposals and orders per 10 leads (the method's 5, 3, 1)."""
        if not self.leads:
            return (0.0, 0.0, 0.0)
        return tuple(round(10 * n / self.leads, 1) for n in (self.qualified, self.proposals, self.orders))  # type: ignore[return-value]


# How far each phase has come in the funnel (M6.6): a deal counts at its level and every level below.
FUNNEL_LEVEL = {"qualify": 0, "entry": 1, "proposal": 2, "bidding": 2, "negotiation": 2, "after_contract": 3}
FUNNEL_RATIO = (10, 5, 3, 1)  # leads -> qualified -> proposals -> orders (M6.6)


class RollupChanges(_Out):
    """Against a previous run: new blocking risks, deals that moved forward, deals that slipped."""

    deals_compared: int
    new_blocking_risks: int
    with_new_blocking: list[DealLine]
    moved_forward: list[DealLine]
    slipped: list[DealLine]


class Rollup(_Out):
    """The summary a sales director reads."""

    deals_reviewed: int
    deals_failed: list[FailedDeal]
    by_stage: list[Bucket]
    by_grade: list[Bucket]
    funnel: Bucket
    below_threshold: Bucket
    top_risks: list[RiskCount]
    stuck: list[DealLine]
    ahead_of_customer: list[DealLine]
    owners: list[OwnerCount]
    funnel_by_owner: list[FunnelRow] = []  # the 10-5-3-1 funnel per owner, the whole pipeline last ("*")
    changes: RollupChanges | None = None


def _add(amounts: dict[str, float], currency: str, amount: float) -> None:
    amounts[currency] = amounts.get(currency, 0.0) + amount


class RollupBuilder:
    """Accumulates result records; `build()` gives the Rollup."""

    def __init__(self, top: int = 10, previous: dict[str, Digest] | None = None):
        """`previous`: last run's digests by deal id, to compare against."""
        self.top = top
        self.previous = previous
        self.compared = 0
        self.new_blocking = 0
        self.with_new_blocking: list[DealLine] = []
        self.moved: list[DealLine] = []
        self.slipped: list[DealLine] = []
        self.reviewed = 0
        self.failed: list[FailedDeal] = []
        self.stages: dict[tuple[str, int, str], tuple[dict, int, dict]] = {}
        self.grades: dict[str, list] = {}
        self.funnel = [0, {}]
        self.small = [0, {}]
        self.risks: Counter = Counter()
        self.risk_info: dict[str, tuple[str, str]] = {}
        self.stuck: list[DealLine] = []
        self.ahead: list[DealLine] = []
        self.owners: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.levels: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # owner -> leads, qualified, proposals, orders

    def add(self, item: Digest | FailedDeal) -> None:
        """Count one reviewed deal (its digest) or one deal that could not be reviewed."""
        if isinstance(item, FailedDeal):
            self.failed.append(item)
            return
        self.reviewed += 1
        currency, amount, stage = item.currency, item.amount, item.stage
        key = (item.stage_model, stage.index, stage.id)
        name, deals, amounts = self.stages.get(key, (stage.name, 0, {}))
        _add(amounts, currency, amount)
        self.stages[key] = (name, deals + 1, amounts)
        bucket = self.grades.setdefault(item.grade or "-", [0, {}])
        bucket[0] += 1
        _add(bucket[1], currency, amount)
        marks = {f.mark for f in item.findings}
        target = self.small if BELOW_FUNNEL in marks else self.funnel
        target[0] += 1
        _add(target[1], currency, amount)
        for finding in item.findings:
            if finding.kind == "risk":
                self.risk_info[finding.code] = (finding.symbol, finding.severity)
        for code in {f.code for f in item.findings if f.kind == "risk"}:
            self.risks[code] += 1
        line = {"deal_id": item.deal_id, "name": item.deal_name, "owner": item.owner, "stage": stage.name}
        for finding in item.findings:
            if finding.mark == STALLED:
                self.stuck.append(DealLine(**line, detail=finding.params))
            elif finding.mark == AHEAD_OF_CUSTOMER:
                self.ahead.append(DealLine(**line, detail={"buying_step": item.buying_step.name}))
        if self.previous is not None and item.deal_id in self.previous:
            self._compare(self.previous[item.deal_id], item, line)
        level = FUNNEL_LEVEL.get(item.phase)
        if level is not None:
            counts = self.levels[item.owner or "-"]
            for reached in range(level + 1):
                counts[reached] += 1
        owner = self.owners[item.owner or "-"]
        blocking = sum(1 for f in item.findings if f.severity == BLOCK)
        owner[0] += 1
        owner[1] += blocking
        owner[2] += 1 if blocking else 0

    def _compare(self, before: Digest, after: Digest, line: dict) -> None:
        self.compared += 1
        blocking = lambda digest: {(f.code, f.subject) for f in digest.findings if f.severity == BLOCK}  # noqa: E731
        new = sorted(blocking(after) - blocking(before), key=lambda item: (item[0], item[1] or ""))
        if new:
            self.new_blocking += len(new)
            self.with_new_blocking.append(DealLine(**line, detail={"codes": [code for code, _ in new]}))
        if before.stage_model == after.stage_model:
            moved = after.stage.index - before.stage.index
            detail = {"from": before.stage.name, "steps": moved}
            if moved > 0:
                self.moved.append(DealLine(**line, detail=detail))
            elif moved < 0:
                self.slipped.append(DealLine(**line, detail=detail))
                return
        if before.expected_close and after.expected_close and after.expected_close > before.expected_close:
            detail = {"close_from": before.expected_close.isoformat(), "close_to": after.expected_close.isoformat()}
            self.slipped.append(DealLine(**line, detail=detail))

    def _funnel_rows(self) -> list[FunnelRow]:
        """Per owner, then for the whole pipeline ("*"): leads, qualified, proposals, orders."""
        rows = [FunnelRow(owner=o, leads=v[0], qualified=v[1], proposals=v[2], orders=v[3]) for o, v in sorted(self.levels.items())]
        if rows:
            rows.append(FunnelRow(owner="*", leads=sum(r.leads for r in rows), qualified=sum(r.qualified for r in rows),
                                  proposals=sum(r.proposals for r in rows), orders=sum(r.orders for r in rows)))
        return rows

    def build(self) -> Rollup:
        by_stage = [
            Bucket(key=f"{model}/{stage_id}", name=name, deals=deals, amounts=amounts)
            for (model, _, stage_id), (name, deals, amounts) in sorted(self.stages.items())
        ]
        by_grade = [
            Bucket(key=grade, deals=self.grades[grade][0], amounts=self.grades[grade][1])
            for grade in (*GRADES, "-")
            if grade in self.grades
        ]
        top = sorted(self.risks.items(), key=lambda item: (-item[1], item[0]))[: self.top]
        return Rollup(
            deals_reviewed=self.reviewed,
            deals_failed=self.failed,
            by_stage=by_stage,
            by_grade=by_grade,
            funnel=Bucket(key="funnel", deals=self.funnel[0], amounts=self.funnel[1]),
            below_threshold=Bucket(key="below_threshold", deals=self.small[0], amounts=self.small[1]),
            top_risks=[
                RiskCount(code=code, symbol=self.risk_info[code][0], severity=self.risk_info[code][1], deals=count)
                for code, count in top
            ],
            stuck=sorted(self.stuck, key=lambda d: -d.detail.get("days", 0)),
            ahead_of_customer=sorted(self.ahead, key=lambda d: d.deal_id),
            funnel_by_owner=self._funnel_rows(),
            owners=sorted(
                (OwnerCount(owner=o, deals=v[0], blocking=v[1], deals_blocked=v[2]) for o, v in self.owners.items()),
                key=lambda o: (-o.blocking, o.owner),
            ),
            changes=None if self.previous is None else RollupChanges(
                deals_compared=self.compared,
                new_blocking_risks=self.new_blocking,
                with_new_blocking=self.with_new_blocking,
                moved_forward=self.moved,
                slipped=self.slipped,
            ),
        )
