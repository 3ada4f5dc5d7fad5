"""How deals ended, read against what the coaching showed them: which rules foretold a loss, which do not
separate won from lost, and which thresholds are worth revisiting.

What is counted
    A deal counts once it has an outcome (won or lost) and at least one logged review or gate evaluated on
    or before its close date. A rule was *shown* on a deal when any of those decisions showed it to the
    rep (a finding not folded away). For each rule, the deals with an outcome split in two: shown and not
    shown; the report gives the loss rate of each side, their difference and their ratio (the lift).
    It was *cleared* when an earlier decision showed it and the deal's last decision before the outcome
    did not, while the rule still applied at that stage (a rule whose phases or stages the deal had
    left is "outgrown", not cleared).

Intervals
    A loss rate's interval is Wilson's score interval; the difference of two loss rates has Newcombe's
    hybrid score interval (Newcombe 1998, method 10: built from the two Wilson intervals; it keeps its
    coverage with small or lopsided groups, where the textbook normal interval does not); the ratio has
    Katz's log interval (0.5 added to every cell when a count is 0). Every interval of one report is at
    the same level: 95 % for the report as a whole, i.e. 1 - 0.05 / m for each of the m rules compared
    (Bonferroni). Comparing sixty rules at 95 % each would name three of them "predictive" by chance
    alone; a rule is named only when its interval clears zero at the adjusted level.

Minimums (`Minimums`, each a parameter)
    - 30 deals with an outcome, and at least a third of that (at most 10) won and as many lost. Below
      that the report says "not enough outcomes yet" and shows the counts only: with fewer than 10 deals
      on a side, a Wilson interval of a loss rate is still about ±25 points wide, and no rule could
      honestly be told apart from chance.
    - 10 deals on each side of a rule (shown and not shown) before its verdict is more than "too few
      deals to say": a rule shown on nearly every deal (or on nearly none) leaves nothing to compare.
    - 5 deals cleared and 5 still showing the rule at the end before clearing is judged.
    - A rule "fires on most deals" when it was shown on at least half of them.

Verdicts
    predicts_losses   the difference interval lies above 0: deals that showed it lost more often;
    goes_with_wins    the interval lies below 0 (typically a rule of late stages only won deals reach);
    no_separation     the interval spans 0 although both sides have enough deals;
    too_few           fewer than the per-rule minimum on a side.
    A rule that reads a playbook threshold is worth revisiting when it fires on most deals without
    separating them (the threshold may be too loose), or when deals that cleared it lost at least as
    often as those still showing it at the end (clearing it to that threshold did not help).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine.model import Date
from ..engine.rulebook import looks_at
from ..engine.errors import DealInputError, InputProblem
from .records import RESULTS, Decision, Outcome

CONFIDENCE = 0.95
Verdict = Literal["predicts_losses", "goes_with_wins", "no_separation", "too_few"]
Revisit = Literal["frequent_without_separating", "clearing_did_not_help"]
MAX_REASON = 2000


# -- statistics ------------------------------------------------------------------


def z_value(level: float) -> float:
    """The two-sided normal quantile for a confidence level (1.96 for 0.95)."""
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def wilson(k: int, n: int, level: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for the proportion k/n; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    z = z_value(level)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def newcombe(k1: int, n1: int, k2: int, n2: int, level: float = CONFIDENCE) -> tuple[float, float, float]:
    """The difference k1/n1 - k2/n2 and Newcombe's hybrid score interval (1998, method 10, no continuity correction)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    difference = p1 - p2
    return (difference, difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def katz(k1: int, n1: int, k2: int, n2: int, level: float = CONFIDENCE) -> tuple[float, float, float] | None:
    """The risk ratio (k1/n1) / (k2/n2) and Katz's log interval; 0.5 is added to every cell when k1 or k2 is 0.
    None when neither side has an event (no ratio to speak of)."""
    if k1 == 0 and k2 == 0:
        return None
    a, m1, b, m2 = float(k1), float(n1), float(k2), float(n2)
    if k1 == 0 or k2 == 0:
        a, b, m1, m2 = a + 0.5, b + 0.5, m1 + 1, m2 + 1
    ratio = (a / m1) / (b / m2)
    spread = z_value(level) * math.sqrt(max(0.0, 1 / a - 1 / m1 + 1 / b - 1 / m2))
    return (ratio, ratio * math.exp(-spread), ratio * math.exp(spread))


# -- the report's model ----------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Minimums(_Model):
    """Below these, the report counts instead of concluding (see the module's documentation)."""

    deals: int = Field(30, ge=2, description="deals with an outcome and a logged review")
    per_rule: int = Field(10, ge=1, description="deals on each side of a rule (shown, not shown)")
    cleared: int = Field(5, ge=1, description="deals that cleared a rule, and deals still showing it at the end")
    frequent: float = Field(0.5, gt=0, le=1, description="share of deals a rule is shown on to count as firing on most deals")
    widest: float = Field(0.5, gt=0, le=2, description="widest difference interval (as a share: 0.5 is ±25 points) that may still say "
                                                       "'does not separate'; a wider one says 'too early to tell'")

    @property
    def per_result(self) -> int:
        """Won deals, and lost deals, needed: a third of `deals`, at most 10."""
        return max(1, min(10, math.ceil(self.deals / 3)))


class Interval(_Model):
    low: float
    high: float


class Rate(_Model):
    """Deals on one side and how many of them were lost; the loss rate and its interval (None without deals)."""

    deals: int
    lost: int
    rate: float | None = None
    interval: Interval | None = None

    @property
    def won(self) -> int:
        return self.deals - self.lost


class Difference(_Model):
    """A difference of loss rates (first minus second) with Newcombe's interval."""

    value: float
    interval: Interval


class Ratio(_Model):
    """A ratio of loss rates (the lift) with Katz's log interval."""

    value: float
    interval: Interval


class StageCount(_Model):
    """A stage at which the rule was first shown on a deal, and on how many deals."""

    stage_model: str
    stage: str
    name: dict[str, str]
    deals: int


class Clearing(_Model):
    """Of the deals that showed the rule: those that cleared it before the end, those still showing it at the
    end, and those that outgrew it (the rule no longer applied at the last stage); whether clearing helped."""

    cleared: Rate
    still_shown: Rate
    outgrown: int
    difference: Difference | None = None  # still shown minus cleared
    helped: bool | None = None  # True: clearing lowered the loss rate; False: it did not; None: too few to say


class RuleOutcome(_Model):
    """One rule read against the outcomes."""

    code: str
    symbol: str
    severity: str
    kind: str
    shown: Rate
    not_shown: Rate
    difference: Difference | None = None  # shown minus not shown
    lift: Ratio | None = None
    first_stages: list[StageCount]
    clearing: Clearing
    verdict: Verdict
    thresholds: list[str]  # the playbook thresholds the rule reads
    revisit: list[Revisit]

    @property
    def share(self) -> float:
        """The share of the deals it was shown on."""
        total = self.shown.deals + self.not_shown.deals
        return self.shown.deals / total if total else 0.0


class ThresholdNote(_Model):
    """A playbook threshold worth revisiting, its current value, and the rules that say so (with why)."""

    key: str
    value: Any
    rules: dict[str, list[Revisit]]


class OutcomeReport(_Model):
    """What `dealcoach outcomes` reports."""

    status: Literal["ok", "not_enough_outcomes"]
    since: dt.date | None = None
    minimums: Minimums
    recorded: int  # outcomes in the log (closed on or after `since`)
    deals: int  # of those, deals with a logged review on or before the close
    won: int
    lost: int
    without_review: int
    confidence: float
    level: float  # each interval's own level: the confidence spread over the rules compared
    compared: int  # rules with enough deals on both sides
    rules: list[RuleOutcome]
    thresholds: list[ThresholdNote]

    def named(self, verdict: Verdict) -> list[str]:
        return [rule.code for rule in self.rules if rule.verdict == verdict]

    @property
    def predicts_losses(self) -> list[str]:
        return self.named("predicts_losses")

    def summary(self) -> dict[str, Any]:
        """The counts and each verdict's rule codes, in one small dict (benchmarks, logs)."""
        return {"status": self.status, "deals": self.deals, "won": self.won, "lost": self.lost, "compared": self.compared,
                **{verdict: self.named(verdict) for verdict in ("predicts_losses", "goes_with_wins", "no_separation")},
                "thresholds": [note.key for note in self.thresholds]}


# -- what the analysis knows of each rule ---------------------------------------------


@dataclass(frozen=True)
class RuleFacts:
    """A rule's identity and the traits the analysis reads: the thresholds it reads, the phases and stages where
    it applies (None: not known, e.g. a rule no longer in the playbook)."""

    code: str
    symbol: str
    severity: str
    kind: str
    thresholds: tuple[str, ...] = ()
    phases: frozenset[str] | None = None
    stages: frozenset[str] | None = None

    def applies(self, phase: str, stage: str) -> bool:
        return looks_at(self.phases, self.stages, phase, stage)


class _Recording:
    """Stands in for the playbook's Thresholds while a rule's condition is built, noting each threshold read."""

    def __init__(self, real: Any):
        self._real = real
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._real, name)
        if not name.startswith("_") and name in type(self._real).model_fields:
            self.read.add(name)
        return value


def _conditions(rule: Any, thresholds: Any) -> tuple[set[str], list[dict]]:
    """The thresholds a rule's condition reads directly, and its durable-rules definitions."""
    recording = _Recording(thresholds)
    try:
        made = rule.when(recording)
        definitions = [branch.define() for branch in (made if isinstance(made, list) else [made])]
    except Exception:  # noqa: BLE001 - a condition that cannot be built on a stand-in: what it read so far
        return recording.read, []
    return recording.read, definitions


def thresholds_read(rulebook: Any, thresholds: Any) -> dict[str, tuple[str, ...]]:
    """Per finding rule, the playbook thresholds it reads: in its own condition, or in a derivation whose fact or
    count it reads (followed to the derivations those read)."""
    from ..engine.rulebook import Derivation

    derived: dict[str, tuple[set[str], set[str]]] = {}  # derivation name -> (thresholds, names it reads)
    for rule in rulebook.rules.values():
        if isinstance(rule, Derivation):
            read, definitions = _conditions(rule, thresholds)
            found = derived.setdefault(rule.name, (set(), set()))
            found[0].update(read)
            found[1].update(_names(definitions))
    result = {}
    for code, rule in rulebook.findings.items():
        read, definitions = _conditions(rule, thresholds)
        pending, seen = list(_names(definitions) & derived.keys()), set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            read |= derived[name][0]
            pending.extend(derived[name][1] & derived.keys())
        result[code] = tuple(sorted(read))
    return result


def _names(definitions: list[dict]) -> set[str]:
    """The fact types and top-level fields a rule's definitions read (derivations appear as either)."""
    from ..engine.rulebook import Rulebook

    names: set[str] = set()
    for definition in definitions:
        for info in Rulebook.aliases({"rule": definition})["rule"].values():
            names.add(info.fact_type or "")
            names.update(field.split(".")[0] for field in info.fields)
    return names


def rule_facts(coach: Any) -> dict[str, RuleFacts]:
    """What the analysis knows of each rule of a Coach's playbook."""
    read = thresholds_read(coach.rulebook, coach.playbook.thresholds)
    return {
        rule.code: RuleFacts(
            code=rule.code, symbol=rule.symbol, severity=rule.severity.value, kind=rule.kind.value, thresholds=read.get(rule.code, ()),
            phases=frozenset(p.value for p in rule.phases), stages=frozenset(rule.stages) if rule.stages is not None else None,
        )
        for rule in coach.rules()
    }


# -- the analysis ---------------------------------------------------------------------


@dataclass
class _Seen:
    """One decision of a deal, as the analysis reads it."""

    as_of: dt.date
    stage_model: str
    stage: Any  # engine.report.StagePosition
    phase: str
    shown: frozenset[str]  # what the rep was shown (not folded away)
    present: frozenset[str] = frozenset()  # every finding, folded included: a folded warning has not been cleared
    gate: bool = False


@dataclass
class _DealRead:
    result: str
    shown: set[str]  # codes shown in any decision
    first: dict[str, _Seen]  # code -> the decision that first showed it
    last: _Seen


def _read_deal(seen: list[_Seen], outcome: Outcome) -> _DealRead | None:
    """A deal as its reviews before the close day saw it (a review on the close day may already be the CRM's
    closed record: a won deal at implementation, where a lost one is not reviewed at all)."""
    before = [s for s in seen if s.as_of < outcome.closed_on]
    if not before:
        return None
    first: dict[str, _Seen] = {}
    for decision in before:
        for code in decision.shown:
            first.setdefault(code, decision)
    reviews = [s for s in before if not s.gate] or before  # a gate's deal may stand at the stage a move left
    return _DealRead(outcome.result, set(first), first, reviews[-1])


def _by_deal(decisions: Iterable[Decision]) -> Iterable[tuple[str, list[_Seen]]]:
    """Decisions grouped by deal, each deal's oldest first (the log gives them ordered by deal, then date)."""
    groups: dict[str, list[_Seen]] = {}
    for decision in decisions:
        digest = decision.digest
        groups.setdefault(decision.deal_id, []).append(
            _Seen(decision.as_of, digest.stage_model, digest.stage, digest.phase, frozenset(decision.shown()),
                  frozenset(f.code for f in decision.findings), decision.kind == "gate")
        )
    for deal_id, seen in groups.items():
        seen.sort(key=lambda s: s.as_of)  # stable: decisions of one day keep the log's order
        yield deal_id, seen


def _rate(deals: int, lost: int, level: float) -> Rate:
    if not deals:
        return Rate(deals=0, lost=0)
    low, high = wilson(lost, deals, level)
    return Rate(deals=deals, lost=lost, rate=lost / deals, interval=Interval(low=low, high=high))


def _difference(first: Rate, second: Rate, level: float) -> Difference | None:
    if not first.deals or not second.deals:
        return None
    value, low, high = newcombe(first.lost, first.deals, second.lost, second.deals, level)
    return Difference(value=value, interval=Interval(low=low, high=high))


def analyse(
    decisions: Iterable[Decision], outcomes: Mapping[str, Outcome], rules: Mapping[str, RuleFacts], *,
    minimums: Minimums | None = None, confidence: float = CONFIDENCE, since: dt.date | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> OutcomeReport:
    """The outcomes report from logged decisions and outcomes (pure: no log, no clock). `since` keeps the
    outcomes closed on or after it; `thresholds` are the playbook's current values, quoted in the report."""
    minimums = minimums or Minimums()
    chosen = {deal_id: o for deal_id, o in outcomes.items() if since is None or o.closed_on >= since}
    read: list[_DealRead] = []
    for deal_id, seen in _by_deal(d for d in decisions if d.deal_id in chosen):
        deal = _read_deal(seen, chosen[deal_id])
        if deal is not None:
            read.append(deal)
    lost = sum(1 for deal in read if deal.result == "lost")
    won = len(read) - lost
    enough = len(read) >= minimums.deals and won >= minimums.per_result and lost >= minimums.per_result
    common = {"since": since, "minimums": minimums, "recorded": len(chosen), "deals": len(read), "won": won, "lost": lost,
              "without_review": len(chosen) - len(read), "confidence": confidence}
    if not enough:
        return OutcomeReport(status="not_enough_outcomes", level=confidence, compared=0, rules=[], thresholds=[], **common)
    codes = sorted({code for deal in read for code in deal.shown if _warns(rules.get(code))})
    counts = {}
    for code in codes:
        shown_deals = [deal for deal in read if code in deal.shown]
        shown_lost = sum(1 for deal in shown_deals if deal.result == "lost")
        counts[code] = (shown_deals, shown_lost, len(read) - len(shown_deals), lost - shown_lost)
    compared = sum(1 for s, _, n, _ in counts.values() if len(s) >= minimums.per_rule and n >= minimums.per_rule)
    level = 1 - (1 - confidence) / max(1, compared)
    results = [
        _rule(code, *counts[code], rules.get(code) or RuleFacts(code=code, symbol="", severity="", kind=""), minimums, level)
        for code in codes
    ]
    order = {"predicts_losses": 0, "no_separation": 1, "goes_with_wins": 2, "too_few": 3}
    results.sort(key=lambda r: (order[r.verdict], -(r.difference.value if r.difference else 0), r.code))
    return OutcomeReport(status="ok", level=level, compared=compared, rules=results, thresholds=_notes(results, thresholds or {}), **common)


def _warns(facts: RuleFacts | None) -> bool:
    """A rule that warns of something (a risk, or a gap at warn or block severity), not plain advice (grade A: go all in;
    the milestones of this stage), which cannot foretell a loss. A code the rule set no longer has is kept."""
    return facts is None or facts.kind == "risk" or facts.severity in ("warn", "block")


def _rule(code: str, shown_deals: list[_DealRead], shown_lost: int, other: int, other_lost: int, facts: RuleFacts,
          minimums: Minimums, level: float) -> RuleOutcome:
    shown = _rate(len(shown_deals), shown_lost, level)
    not_shown = _rate(other, other_lost, level)
    difference = _difference(shown, not_shown, level)
    ratio = katz(shown.lost, shown.deals, not_shown.lost, not_shown.deals, level) if shown.deals and not_shown.deals else None
    if shown.deals < minimums.per_rule or not_shown.deals < minimums.per_rule or difference is None:
        verdict: Verdict = "too_few"
    elif difference.interval.low > 0:
        verdict = "predicts_losses"
    elif difference.interval.high < 0:
        verdict = "goes_with_wins"
    elif difference.interval.high - difference.interval.low > minimums.widest:
        verdict = "too_few"  # spans zero, but too wide to say the rule makes no difference
    else:
        verdict = "no_separation"
    stages: Counter = Counter()
    names: dict[tuple[str, str], dict[str, str]] = {}
    cleared = still = outgrown = cleared_lost = still_lost = 0
    for deal in shown_deals:
        first = deal.first[code]
        key = (first.stage_model, first.stage.id)
        stages[key] += 1
        names.setdefault(key, dict(first.stage.name))
        lost = deal.result == "lost"
        if code in deal.last.present:
            still += 1
            still_lost += lost
        elif facts.applies(deal.last.phase, deal.last.stage.id):
            cleared += 1
            cleared_lost += lost
        else:
            outgrown += 1
    cleared_rate, still_rate = _rate(cleared, cleared_lost, level), _rate(still, still_lost, level)
    clearing_difference = _difference(still_rate, cleared_rate, level)
    helped = None
    if cleared >= minimums.cleared and still >= minimums.cleared:  # either verdict needs enough deals on both sides
        if clearing_difference is not None and clearing_difference.interval.low > 0:
            helped = True
        elif (cleared_rate.rate or 0) >= (still_rate.rate or 0):
            helped = False
    first_stages = [StageCount(stage_model=model, stage=stage, name=names[(model, stage)], deals=n)
                    for (model, stage), n in sorted(stages.items(), key=lambda item: (-item[1], item[0]))]
    result = RuleOutcome(
        code=code, symbol=facts.symbol, severity=facts.severity, kind=facts.kind, shown=shown, not_shown=not_shown,
        difference=difference, lift=Ratio(value=ratio[0], interval=Interval(low=ratio[1], high=ratio[2])) if ratio else None,
        first_stages=first_stages,
        clearing=Clearing(cleared=cleared_rate, still_shown=still_rate, outgrown=outgrown, difference=clearing_difference, helped=helped),
        verdict=verdict, thresholds=list(facts.thresholds), revisit=[],
    )
    revisit: list[Revisit] = []
    if facts.thresholds:
        if verdict == "no_separation" and result.share >= minimums.frequent:
            revisit.append("frequent_without_separating")
        if helped is False:
            revisit.append("clearing_did_not_help")
    return result.model_copy(update={"revisit": revisit}) if revisit else result


def _notes(results: list[RuleOutcome], values: Mapping[str, Any]) -> list[ThresholdNote]:
    by_key: dict[str, dict[str, list[Revisit]]] = {}
    for rule in results:
        for key in rule.thresholds if rule.revisit else ():
            by_key.setdefault(key, {})[rule.code] = list(rule.revisit)
    return [ThresholdNote(key=key, value=values.get(key), rules=found) for key, found in sorted(by_key.items())]


def report(store: Any, coach: Any, *, since: dt.date | None = None, minimums: Minimums | None = None,
           confidence: float = CONFIDENCE) -> OutcomeReport:
    """The outcomes report of a decision log, with a Coach's rules (their traits and thresholds). StoreError (exit 9)
    when the log cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    from .log import StoreError

    outcomes = store.outcomes()
    facts = rule_facts(coach)
    try:
        decisions = (d for d in store.all_decisions(with_outcome=True) if d.deal_id in outcomes)
        return analyse(decisions, outcomes, facts, minimums=minimums, confidence=confidence, since=since,
                       thresholds=coach.playbook.thresholds.model_dump())
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise StoreError(f"cannot read the decision log {store.url}: {reason}") from None


# -- recording -----------------------------------------------------------------------


class OutcomeRequest(_Model):
    """How a deal ended, as a caller sends it (POST /v1/outcomes, the CLI, a CRM import)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"deal_id": "SH-2026-031", "result": "lost", "closed_on": "2026-12-18",
                                                               "reason": "价格高于对手 12%，客户最后选了本地集成商"}]})

    deal_id: str = Field(min_length=1, max_length=200, description="the deal's id, as its reviews were logged")
    result: Literal["won", "lost"]
    closed_on: Date = Field(description="the day the deal was won or lost (YYYY-MM-DD)")  # a written date, never a number
    reason: str | None = Field(None, max_length=MAX_REASON, description="why it was won or lost, in the rep's words")


class OutcomeInputError(DealInputError):
    """An outcome that cannot be recorded: each problem names its field."""


def validated(payload: Mapping[str, Any] | OutcomeRequest, source: str = "outcome") -> OutcomeRequest:
    """The request, or OutcomeInputError naming every field that is wrong."""
    if isinstance(payload, OutcomeRequest):
        return payload
    if not isinstance(payload, Mapping):
        raise OutcomeInputError(source, [InputProblem("", f"an outcome is an object with deal_id, result, closed_on and reason, "
                                                          f"not {type(payload).__name__}")])
    try:
        request = OutcomeRequest.model_validate(dict(payload))
    except ValidationError as error:
        raise OutcomeInputError(source, [InputProblem(".".join(str(p) for p in e["loc"]), _message(e)) for e in error.errors()]) from None
    problems = []
    if any(not ch.isprintable() for ch in request.deal_id):
        problems.append(InputProblem("deal_id", "holds a control character; send the deal's id as its reviews were logged"))
    if request.reason is not None and any(not ch.isprintable() and ch not in "\n\t" for ch in request.reason):
        problems.append(InputProblem("reason", "holds a control character"))
    if problems:
        raise OutcomeInputError(source, problems)
    return request


def _message(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "literal_error":
        return f"must be {' or '.join(RESULTS)}, not {error.get('input')!r}"
    if kind.startswith("date"):
        return f"{error.get('input')!r} is not a calendar date written YYYY-MM-DD"
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_too_long":
        return f"is longer than {error.get('ctx', {}).get('max_length')} characters"
    if kind == "extra_forbidden":
        return "is not a field of an outcome (deal_id, result, closed_on, reason)"
    return str(error.get("msg", "is not valid"))


def record(store: Any, payload: Mapping[str, Any] | OutcomeRequest, *, source: str = "api") -> Outcome:
    """Validate an outcome and write it to the decision log (replacing the deal's earlier outcome).
    OutcomeInputError (exit 3, HTTP 422) names each field that is wrong; StoreError (exit 9) when the log fails."""
    return record_changed(store, payload, source=source)[0]


def record_changed(store: Any, payload: Mapping[str, Any] | OutcomeRequest, *, source: str = "api") -> tuple[Outcome, bool]:
    """As `record`, and whether the log changed (False: the same outcome was already recorded)."""
    request = validated(payload)
    outcome = Outcome(deal_id=request.deal_id, result=request.result, closed_on=request.closed_on, reason=request.reason or None,
                      source=source[:100])
    return outcome, store.record_outcome(outcome)
