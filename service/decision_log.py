"""The decision log over HTTP: a logged decision, a deal's history, forgetting a deal, how deals ended and what that says of the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ..engine.errors import InputProblem
from ..engine.model import Date
from ..store.history import History, history
from ..store.log import Store
from ..store.outcomes import Minimums, OutcomeReport, OutcomeRequest, record_changed, report
from .limits import Deadline, WorkPool
from .problems import PROBLEM, Problem, problem


class LoggedFindingAnswer(BaseModel):
    code: str
    kind: str
    severity: str
    rank: int | None = None
    subject: str | None = None
    folded: bool


class DecisionAnswer(BaseModel):
    """A logged decision: when, by whom, under which rule set, the deal as evaluated and what was shown."""

    decision_id: str
    logged_at: str
    kind: str
    caller: str
    deal_id: str
    as_of: str
    ruleset_version: str
    playbook_digest: str
    to_stage: str | None = None
    allowed: bool | None = None
    run_id: str | None = None
    deal: dict[str, Any]
    findings: list[LoggedFindingAnswer]


class Forgotten(BaseModel):
    deal_id: str
    decisions: int
    findings: int
    outcomes: int


class OutcomeAnswer(BaseModel):
    """The outcome as recorded; `changed` is false when the same outcome was already in the log."""

    deal_id: str
    result: Literal["won", "lost"]
    closed_on: dt.date
    reason: str | None = None
    source: str
    changed: bool


def install_log_routes(v1: APIRouter, decision_log: Store | None, coach: Any, caller_of: Callable[[Request], str], pool: WorkPool) -> None:
    """Add the decision-log endpoints to the /v1 router (each answers 503 when the service has no log). Each runs on the
    service's work pool, under its time limit (504) and queue (503 Busy), as the reviews do."""
    missing = {code: {"model": Problem, "content": {PROBLEM: {}}} for code in (404, 503, 504)}
    posted = {code: {"model": Problem, "content": {PROBLEM: {}}} for code in (400, 413, 422, 503, 504)}

    def no_log():
        return problem(503, "No decision log", "this service keeps no decision log: start it with --store or DEALCOACH_STORE")

    @v1.get("/log/decisions/{decision_id:path}", response_model=DecisionAnswer, responses=missing, tags=["decision log"])
    async def logged_decision(decision_id: str):
        """A logged review or gate, as it was made: the deal, the rule set, what the rep was shown."""

        def work(_: Deadline):
            if decision_log is None:
                return no_log()
            found = decision_log.decision(decision_id)
            if found is None:
                return problem(404, "Unknown decision", f"no decision {decision_id!r} is logged")
            return DecisionAnswer(
                decision_id=found.id, logged_at=found.logged_at.isoformat(timespec="seconds"), kind=found.kind, caller=found.caller,
                deal_id=found.deal_id, as_of=found.as_of.isoformat(), ruleset_version=found.ruleset_version, playbook_digest=found.playbook_digest,
                to_stage=found.to_stage, allowed=found.allowed, run_id=found.run_id, deal=found.deal,
                findings=[LoggedFindingAnswer(**vars(f)) for f in found.findings],
            )

        return await pool.run(work)

    @v1.get("/log/deals/{deal_id:path}/history", response_model=History, responses=missing, tags=["decision log"])
    async def deal_history(deal_id: str, since: Annotated[Date | None, Query(description="Only decisions evaluated on or after this date.")] = None):
        """A deal's timeline from its logged decisions: moves, risks appearing and clearing, days per stage, outcome."""

        def work(_: Deadline):
            if decision_log is None:
                return no_log()
            decisions = [d for d in decision_log.deal_decisions(deal_id) if since is None or d.as_of >= since]
            if not decisions:
                return problem(404, "Unknown deal", f"no decision of deal {deal_id!r} is logged")
            return history(decisions, decision_log.outcomes().get(deal_id), looks_at=coach.looks_at)

        return await pool.run(work)

    forgetting = {code: {"model": Problem, "content": {PROBLEM: {}}} for code in (404, 405, 503, 504)}

    @v1.delete("/log/deals/{deal_id:path}", response_model=Forgotten, responses=forgetting, tags=["decision log"])
    async def forget_deal(deal_id: str, confirm: Annotated[Literal["true"] | None, Query(description="Must be true: nothing can be undone.")] = None):
        """Remove everything logged of a deal (its decisions with the contacts' names, its findings, its outcome)."""

        def work(_: Deadline):
            if deal_id.endswith("/history"):  # the path form takes slashes, so DELETE .../history lands here: it is not allowed
                answer = problem(405, "Method not allowed", "a deal's history is read (GET), not deleted; DELETE /v1/log/deals/{deal_id} "
                                                            "forgets the deal")
                answer.headers["Allow"] = "GET"
                return answer
            if confirm is None:
                return problem(422, "Invalid parameter", "query.confirm: Field required", [InputProblem("query.confirm", "Field required")])
            if decision_log is None:
                return no_log()
            return Forgotten(deal_id=deal_id, **decision_log.forget(deal_id))

        return await pool.run(work)

    @v1.post("/outcomes", response_model=OutcomeAnswer, responses=posted, tags=["decision log"])
    async def record_outcome(outcome: OutcomeRequest, request: Request):
        """Record how a deal ended (won or lost, when, why); a later outcome of the same deal replaces it."""

        def work(_: Deadline):
            if decision_log is None:
                return no_log()
            recorded, changed = record_changed(decision_log, outcome, source=caller_of(request))
            return OutcomeAnswer(deal_id=recorded.deal_id, result=recorded.result, closed_on=recorded.closed_on, reason=recorded.reason,
                                 source=recorded.source, changed=changed)

        return await pool.run(work)

    @v1.get("/log/outcomes", response_model=OutcomeReport, responses=missing, tags=["decision log"])
    async def outcomes_report(since: Annotated[Date | None, Query(description="Only deals closed on or after this date.")] = None,
                        min_deals: Annotated[int | None, Query(ge=2, le=1_000_000, description="Deals with an outcome needed for "
                                                                "any verdict (default 30).")] = None):
        """Per rule: how often it was shown on deals later won and lost, with intervals and verdicts (see `dealcoach outcomes`)."""

        def work(_: Deadline):
            if decision_log is None:
                return no_log()
            minimums = Minimums(deals=min_deals) if min_deals is not None else None
            return report(decision_log, coach, since=since, minimums=minimums)

        return await pool.run(work)
