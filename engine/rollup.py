"""The manager's roll-up of a pipeline run: the deals to talk about this week, the habit to coach per owner,
then where the deals are, what threatens them, who needs help.

Built incrementally from result records (engine.pipeline), so a run of any size needs memory for the totals
and for a bounded number of named deals only (each list keeps its LIST_LIMIT most telling deals, the first
screen its candidates per currency), never for every deal or report.

Parts of a run can be counted apart (one RollupBuilder each, in other processes or on other machines: a builder
pickles) and merged in the parts' order (RollupBuilder.merge): the roll-up is the one a single builder gives over
the whole run. Nothing kept depends on the order deals arrive in but what is meant to (the failed deals named are
the first ones; a stage's name is the first deal's word for it, a risk's symbol and severity the last deal's; each
total lists its currencies in the order first seen): equal keys in a list are ordered by the deal itself, amounts
are summed exactly.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from pydantic import BaseModel, ConfigDict

from .report import StagePosition

BLOCK = "block"
RISK = "risk"
BELOW_FUNNEL, STALLED, AHEAD_OF_CUSTOMER = "below_funnel", "stalled", "ahead_of_customer"  # engine.rulebook.Mark values
AFTER_CONTRACT = "after_contract"  # engine.phases.Phase: signed, so the close date is behind the deal
GRADES = ("A", "B", "C", "D")
LIST_LIMIT = 20  # deals a list of the roll-up names (the most telling ones); the others are counted

# The manager's first screen (METHODOLOGY M1: the manager steps in where a deal is at stake).
AGENDA_SIZE = 5  # deals to talk about in this week's pipeline review
MAX_CURRENCIES = 32  # currencies whose deals compete for the first screen (each keeps AGENDA_SIZE candidates): beyond it,
# the ones whose codes sort first, a choice that does not depend on the order deals arrive in
HABIT_MIN_DEALS = 2  # a risk is an owner's habit when it recurs on at least this many of their deals ...
HABIT_MIN_SHARE = 1 / 3  # ... and on at least this share of them

# The stake score: points a deal earns for each thing that puts it on the list.
AMOUNT_POINTS = 10.0  # per doubling of the amount against the pipeline's average deal (same currency); as many off per halving
CLOSE_POINTS = 40.0  # a deal closing today; falls to nothing at CLOSE_HORIZON_DAYS
CLOSE_HORIZON_DAYS = 180  # M6.4: an A deal closes within six months
CLOSE_SOON_DAYS = 90  # a close nearer than this is given as a reason
CLOSE_PASSED_POINTS = 20.0  # the expected close has passed and the deal is not signed: the forecast is wrong today
BLOCKING_POINTS = 30.0  # a blocking risk
MORE_BLOCKING_POINTS = 5.0  # each further blocking risk, up to three more
WARNING_POINTS = 3.0  # each warning (votes short, budget unfunded, decision maker unseen), up to four: they add up
SLIPPED_POINTS = 25.0  # back by a stage since the last run
PUSHED_POINTS = 15.0  # expected close later than at the last run
NEW_BLOCKING_POINTS = 20.0  # a blocking risk the last run did not show
BIG_DEAL = 1.5  # times the average deal from which the amount itself is a reason


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
    as_of: dt.date | None = None
    expected_close: dt.date | None = None
    phase: str = ""
    findings: list[DigestFinding]  # in the review's priority order


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
    """Against a previous run: new blocking risks, deals that moved forward, deals that slipped.
    The lists name the LIST_LIMIT most telling deals; the counts are of every deal."""

    deals_compared: int
    new_blocking_risks: int
    with_new_blocking: list[DealLine]
    moved_forward: list[DealLine]
    slipped: list[DealLine]
    with_new_blocking_count: int = 0
    moved_count: int = 0
    slipped_count: int = 0


class ComparedWith(_Out):
    """The earlier run the roll-up compares with: a logged run (its date and size), or a results file."""

    kind: str  # "log" or "file"
    label: str  # the run's id, or the file as given
    logged_at: dt.datetime | None = None
    deals: int | None = None
    as_of: dt.date | None = None  # the newest evaluation date among its deals (a logged run)


class Reason(_Out):
    """One thing that puts a deal on the first screen: amount, close, close_passed, blocking, slipped, pushed,
    new_blocking; `params` what its words need."""

    kind: str
    params: dict[str, Any] = {}


class AgendaItem(_Out):
    """A deal to talk about in this week's pipeline review: why it is on the list and the one question to ask its owner."""

    deal_id: str
    name: str
    owner: str | None
    stage: dict[str, str]
    currency: str
    amount: float
    expected_close: dt.date | None = None
    score: float
    reasons: list[Reason]
    focus: DigestFinding  # the finding the question is about: the top blocking one, else the top risk
    question: dict[str, str] = {}  # by language, when the review could be worded (else the renderer words it from the rule)


class Habit(_Out):
    """The risk that recurs across an owner's deals: the habit to coach."""

    owner: str
    code: str
    symbol: str
    severity: str
    deals: int  # the owner's deals that show it
    of: int  # the owner's deals


class Rollup(_Out):
    """The summary a sales director reads: the first screen (what to talk about, what to coach), then the totals."""

    deals_reviewed: int
    as_of: dt.date | None = None  # the newest evaluation date among the deals: what the roll-up is "as of"
    deals_failed: list[FailedDeal]  # the first LIST_LIMIT; failed_count counts them all
    failed_count: int = 0
    compared_with: ComparedWith | None = None
    agenda: list[AgendaItem] = []
    habits: list[Habit] = []
    by_stage: list[Bucket]
    by_grade: list[Bucket]
    funnel: Bucket
    below_threshold: Bucket
    top_risks: list[RiskCount]
    stuck: list[DealLine]  # the LIST_LIMIT longest stuck; stuck_count counts them all
    stuck_count: int = 0
    ahead_of_customer: list[DealLine]  # the LIST_LIMIT furthest ahead; ahead_count counts them all
    ahead_count: int = 0
    owners: list[OwnerCount]
    funnel_by_owner: list[FunnelRow] = []  # the 10-5-3-1 funnel per owner, the whole pipeline last ("*")
    changes: RollupChanges | None = None


Amounts = dict[str, list[float]]  # currency -> its exact sum so far, as non-overlapping partials (see _add_exact)


def _add(amounts: Amounts, currency: str, amount: float) -> None:
    _add_exact(amounts.setdefault(currency, []), amount)


def _add_exact(partials: list[float], x: float) -> None:
    """Add `x` to the exact sum that `partials` hold (Shewchuk's non-overlapping partials, the algorithm of math.fsum):
    the total is the same to the last bit whatever order the amounts are added or merged in."""
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            partials[i] = low
            i += 1
        x = high
    partials[i:] = [x]


def _merge_exact(into: list[float], partials: list[float]) -> None:
    """Add the exact sum `partials` hold to the one `into` holds."""
    for part in partials:
        _add_exact(into, part)


def _merge_amounts(into: Amounts, other: Amounts) -> None:
    """Add `other`'s sums to `into`'s: currencies new to `into` come after its own, in `other`'s order."""
    for currency, partials in other.items():
        _merge_exact(into.setdefault(currency, []), partials)


def _totals(amounts: Amounts) -> dict[str, float]:
    """The sums as floats: each the exact sum, rounded once."""
    return {currency: math.fsum(partials) for currency, partials in amounts.items()}


@total_ordering
class _Earlier:
    """A deal id that ranks higher the earlier it sorts: ties between equal keys go to the smaller id, whatever
    the order deals arrive in."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Earlier) and self.value == other.value

    def __lt__(self, other: _Earlier) -> bool:
        return self.value > other.value

    def __hash__(self) -> int:
        return hash(self.value)


def _stable_text(item: Any) -> str:
    """A text of a kept item that orders items with equal keys (the same deal offered twice): its whole content."""
    if isinstance(item, _Candidate):
        return f"{item.item.model_dump_json()}\n{item.points!r}\n{item.line or ''}"
    if isinstance(item, BaseModel):
        return item.model_dump_json()
    return repr(item)


class _Kept:
    """An item a TopList keeps, ranked by its key, then (equal keys) by its content, the smaller text ranking higher:
    a total order, so the items kept and their order never depend on the order they were offered in."""

    __slots__ = ("_content", "item", "key")

    def __init__(self, key: Any, item: Any):
        self.key, self.item, self._content = key, item, None

    def content(self) -> str:
        if self._content is None:
            self._content = _stable_text(self.item)
        return self._content

    def __lt__(self, other: _Kept) -> bool:
        """Ranks below `other`."""
        if self.key != other.key:
            return self.key < other.key
        return self.content() > other.content()


class TopList:
    """The `size` items with the greatest keys among all offered, and how many were offered: memory for `size`
    items however many are offered. `make` builds an item only when it is kept. Two TopLists merge into the one
    that would have been offered both's items."""

    def __init__(self, size: int):
        self.size = size
        self.count = 0
        self._heap: list[_Kept] = []

    def offer(self, key: Any, make: Callable[[], Any]) -> None:
        self.count += 1
        if self.would_keep(key):
            self._keep(_Kept(key, make()))

    def would_keep(self, key: Any) -> bool:
        """Whether an item of this key may be kept (an equal key: it depends on the item)."""
        return len(self._heap) < self.size or (self.size > 0 and key >= self._heap[0].key)

    def _keep(self, entry: _Kept) -> None:
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, entry)
        elif self.size and self._heap[0] < entry:
            heapq.heapreplace(self._heap, entry)

    def merge(self, other: TopList) -> None:
        """Count and keep what `other` did, as if its items had been offered here."""
        if other.size != self.size:
            raise ValueError(f"cannot merge a list of the top {other.size} into one of the top {self.size}")
        self.count += other.count
        for entry in other._heap:
            self._keep(entry)

    def __len__(self) -> int:
        return len(self._heap)

    def ranked(self) -> list:
        """The kept items, greatest key first (equal keys: by content, whatever order they were offered in)."""
        return [entry.item for entry in sorted(self._heap, reverse=True)]


def focus_finding(digest: Digest) -> DigestFinding | None:
    """The finding a manager asks the owner about: the deal's top blocking finding, else its top risk."""
    blocking = next((f for f in digest.findings if f.severity == BLOCK), None)
    return blocking or next((f for f in digest.findings if f.kind == RISK), None)


@dataclass(frozen=True)
class Movement:
    """How a deal moved since the last run."""

    back_steps: int = 0  # stages back
    pushed: tuple[dt.date, dt.date] | None = None  # expected close, before and now, when later now
    new_blocking: int = 0  # blocking risks the last run did not show


@dataclass(frozen=True)
class _Candidate:
    """A deal that may make the first screen: what its line says, and the result line to word its question from."""

    item: AgendaItem
    points: float  # the stake score but for the amount's part against the pipeline average
    line: str | None


def stake_points(digest: Digest, movement: Movement) -> tuple[float, list[Reason]]:
    """A deal's stake score, leaving out the amount (scored once the pipeline's average deal is known), and the
    reasons behind it: closeness to the expected close, blocking risks, what moved since the last run."""
    points, reasons = 0.0, []
    if digest.expected_close is not None and digest.as_of is not None and digest.phase != AFTER_CONTRACT:
        days = (digest.expected_close - digest.as_of).days
        if days < 0:
            points += CLOSE_PASSED_POINTS
            reasons.append(Reason(kind="close_passed", params={"days": -days}))
        else:
            points += CLOSE_POINTS * max(0.0, 1 - days / CLOSE_HORIZON_DAYS)
            if days <= CLOSE_SOON_DAYS:
                reasons.append(Reason(kind="close", params={"days": days}))
    blocking = sum(1 for f in digest.findings if f.severity == BLOCK)
    if blocking:
        points += BLOCKING_POINTS + MORE_BLOCKING_POINTS * min(blocking - 1, 3)
        reasons.append(Reason(kind="blocking", params={"count": blocking}))
    warnings = sum(1 for f in digest.findings if f.kind == "risk" and f.severity == "warn")
    points += WARNING_POINTS * min(warnings, 4)
    if movement.back_steps:
        points += SLIPPED_POINTS
        reasons.append(Reason(kind="slipped", params={"steps": movement.back_steps}))
    if movement.pushed is not None:
        points += PUSHED_POINTS
        reasons.append(Reason(kind="pushed", params={"old": movement.pushed[0].isoformat(), "new": movement.pushed[1].isoformat()}))
    if movement.new_blocking:
        points += NEW_BLOCKING_POINTS
        reasons.append(Reason(kind="new_blocking", params={"count": movement.new_blocking}))
    return points, reasons


def amount_points(amount: float, average: float) -> float:
    """The amount's part of the stake score: AMOUNT_POINTS per doubling against the pipeline's average deal."""
    return AMOUNT_POINTS * (math.log2(max(amount, 1.0)) - math.log2(max(average, 1.0)))


Ask = Callable[[str, str, "str | None"], dict[str, str]]  # (result line, finding code, subject) -> question by language


PreviousFor = Callable[[dt.date | None], "tuple[dict[str, Digest], ComparedWith] | None"]


class _LeftOut(dict):
    """The previous run's digests in a pickled builder: left out. The copy merges; it cannot compare more deals."""

    def __contains__(self, deal_id: object) -> bool:
        raise RuntimeError("this roll-up was pickled without the previous run's digests: merge it into a builder that has them, "
                           "and add deals to that one")


class RollupBuilder:
    """Accumulates result records; `build()` gives the Rollup. Builders over consecutive parts of a run merge
    (`merge`) into the builder of the whole run; a builder pickles, for merging (see __getstate__)."""

    def __init__(self, top: int = 10, previous: dict[str, Digest] | None = None, *, compared_with: ComparedWith | None = None,
                 ask: Ask | None = None, agenda_size: int = AGENDA_SIZE, previous_for: PreviousFor | None = None):
        """`previous`: last run's digests by deal id, to compare against (`compared_with` says which run they are);
        or `previous_for`, asked once with the first deal's evaluation date for the run to compare with (a logged
        run of an earlier date). `ask` words the question for a deal on the first screen from its result line
        (engine.pipeline.question_maker)."""
        self.top = top
        self.previous = previous
        self.compared_with = compared_with
        self.previous_for = previous_for
        self.ask = ask
        self.agenda_size = agenda_size
        self.compared = 0
        self.new_blocking = 0
        self.with_new_blocking = TopList(LIST_LIMIT)
        self.moved = TopList(LIST_LIMIT)
        self.slipped = TopList(LIST_LIMIT)
        self.reviewed = 0
        self.first_as_of: dt.date | None = None  # the first reviewed deal's evaluation date (what previous_for is asked with)
        self.as_of: dt.date | None = None
        self.failed: list[FailedDeal] = []
        self.failed_count = 0
        self.stages: dict[tuple[str, int, str], tuple[dict, int, Amounts]] = {}  # (model, index, id) -> name, deals, amounts
        self.grades: dict[str, list] = {}  # grade -> deals, amounts
        self.funnel: list = [0, {}]  # deals, amounts
        self.small: list = [0, {}]
        self.risks: Counter = Counter()
        self.risk_info: dict[str, tuple[str, str]] = {}  # code -> symbol, severity (of the last deal that showed it)
        self.stuck = TopList(LIST_LIMIT)
        self.ahead = TopList(LIST_LIMIT)
        self.owners: dict[str, list[int]] = {}  # owner -> deals, blocking risks, deals blocked
        self.owner_risks: dict[str, Counter] = defaultdict(Counter)  # owner -> risk code -> their deals showing it
        self.levels: dict[str, list[int]] = {}  # owner -> leads, qualified, proposals, orders
        self.currencies: dict[str, list] = {}  # currency -> deals, amount (its exact partials)
        self.candidates: dict[str, TopList] = {}  # currency -> the deals with most at stake

    def add(self, item: Digest | FailedDeal, line: str | None = None) -> None:
        """Count one reviewed deal (its digest, and its result line to word a question from) or one deal that could not be reviewed."""
        if isinstance(item, FailedDeal):
            self.failed_count += 1
            if len(self.failed) < LIST_LIMIT:
                self.failed.append(item)
            return
        self.reviewed += 1
        if self.reviewed == 1:
            self.first_as_of = item.as_of
        if self.previous_for is not None:
            found, self.previous_for = self.previous_for(item.as_of), None
            if found is not None:
                self.previous, self.compared_with = found
        if item.as_of is not None and (self.as_of is None or item.as_of > self.as_of):
            self.as_of = item.as_of
        currency, amount, stage = item.currency, item.amount, item.stage
        key = (item.stage_model, stage.index, stage.id)
        name, deals, amounts = self.stages.get(key, (stage.name, 0, {}))
        _add(amounts, currency, amount)
        self.stages[key] = (name, deals + 1, amounts)
        bucket = self.grades.setdefault(item.grade or "-", [0, {}])
        bucket[0] += 1
        _add(bucket[1], currency, amount)
        totals = self.currencies.setdefault(currency, [0, []])
        totals[0] += 1
        _add_exact(totals[1], amount)
        marks = {f.mark for f in item.findings}
        target = self.small if BELOW_FUNNEL in marks else self.funnel
        target[0] += 1
        _add(target[1], currency, amount)
        for finding in item.findings:
            if finding.kind == RISK:
                self.risk_info[finding.code] = (finding.symbol, finding.severity)
        codes = {f.code for f in item.findings if f.kind == RISK}
        self.risks.update(codes)
        self.owner_risks[item.owner or "-"].update(codes)
        line_of = {"deal_id": item.deal_id, "name": item.deal_name, "owner": item.owner, "stage": stage.name}
        earlier = _Earlier(item.deal_id)
        for finding in item.findings:
            if finding.mark == STALLED:
                days = finding.params.get("days", 0)
                self.stuck.offer((days, earlier), lambda finding=finding: DealLine(**line_of, detail=finding.params))
            elif finding.mark == AHEAD_OF_CUSTOMER:
                self.ahead.offer((stage.index - item.buying_step.index, earlier),
                                 lambda: DealLine(**line_of, detail={"buying_step": item.buying_step.name}))
        movement = Movement()
        if self.previous is not None and item.deal_id in self.previous:
            movement = self._compare(self.previous[item.deal_id], item, line_of)
        self._consider(item, movement, line)
        level = FUNNEL_LEVEL.get(item.phase)
        if level is not None:
            counts = self.levels.setdefault(item.owner or "-", [0, 0, 0, 0])
            for reached in range(level + 1):
                counts[reached] += 1
        owner = self.owners.setdefault(item.owner or "-", [0, 0, 0])
        blocking = sum(1 for f in item.findings if f.severity == BLOCK)
        owner[0] += 1
        owner[1] += blocking
        owner[2] += 1 if blocking else 0

    def merge(self, other: RollupBuilder) -> RollupBuilder:
        """Count here what `other` counted, as if its deals had been added to this builder after its own: builders over
        consecutive parts of a run, merged in the parts' order, give the roll-up of one builder over the whole run
        (the failed deals named are the first ones of the run; all else is the same in any order). Both must compare
        with the same previous run, if any (a part with `previous_for` finds it from its first deal; merged into a
        builder that has seen no deal yet, `previous_for` is asked with `other`'s first). Returns this builder."""
        if other.agenda_size != self.agenda_size:
            raise ValueError(f"cannot merge a roll-up with {other.agenda_size} deals on its first screen into one with {self.agenda_size}")
        if other.reviewed:
            self._same_comparison(other)
            if not self.reviewed:
                self.first_as_of = other.first_as_of
        self.reviewed += other.reviewed
        if other.as_of is not None and (self.as_of is None or other.as_of > self.as_of):
            self.as_of = other.as_of
        self.failed.extend(other.failed[: LIST_LIMIT - len(self.failed)])
        self.failed_count += other.failed_count
        for key, (name, deals, amounts) in other.stages.items():
            mine_name, mine_deals, mine_amounts = self.stages.get(key, (name, 0, {}))
            _merge_amounts(mine_amounts, amounts)
            self.stages[key] = (mine_name, mine_deals + deals, mine_amounts)
        for grade, (deals, amounts) in other.grades.items():
            mine = self.grades.setdefault(grade, [0, {}])
            mine[0] += deals
            _merge_amounts(mine[1], amounts)
        for currency, (deals, partials) in other.currencies.items():
            mine = self.currencies.setdefault(currency, [0, []])
            mine[0] += deals
            _merge_exact(mine[1], partials)
        for mine, theirs in ((self.funnel, other.funnel), (self.small, other.small)):
            mine[0] += theirs[0]
            _merge_amounts(mine[1], theirs[1])
        self.risks.update(other.risks)
        self.risk_info.update(other.risk_info)  # the last deal's word, as `add` leaves it
        for owner, codes in other.owner_risks.items():
            self.owner_risks[owner].update(codes)
        for counted, into in ((other.owners, self.owners), (other.levels, self.levels)):
            for owner, counts in counted.items():
                mine = into.setdefault(owner, [0] * len(counts))
                for i, count in enumerate(counts):
                    mine[i] += count
        self.stuck.merge(other.stuck)
        self.ahead.merge(other.ahead)
        self.compared += other.compared
        self.new_blocking += other.new_blocking
        self.with_new_blocking.merge(other.with_new_blocking)
        self.moved.merge(other.moved)
        self.slipped.merge(other.slipped)
        for currency, heap in other.candidates.items():
            mine = self._candidates_for(currency)
            if mine is not None:
                mine.merge(heap)
        if self.ask is None:
            self.ask = other.ask
        return self

    def _same_comparison(self, other: RollupBuilder) -> None:
        """Resolve this builder's `previous_for` as its first deal would have (`other`'s first), then check that
        `other`'s deals were compared with the same run."""
        if not self.reviewed and self.previous_for is not None:
            found, self.previous_for = self.previous_for(other.first_as_of), None
            if found is not None:
                self.previous, self.compared_with = found
        if (self.previous is None) != (other.previous is None) or (self.previous is not None and self.compared_with != other.compared_with):
            mine = "no run" if self.previous is None else repr(self.compared_with.label if self.compared_with else "previous digests")
            theirs = "no run" if other.previous is None else repr(other.compared_with.label if other.compared_with else "previous digests")
            raise ValueError(f"cannot merge roll-ups that compare with different runs ({mine} here, {theirs} in the part merged)")

    def __getstate__(self) -> dict:
        """What a pickle keeps: every count and kept deal, for merging. Not the functions (`ask`, `previous_for`), often
        not picklable, nor the previous run's digests (as many as the deals): the builder a copy is merged into has them."""
        state = self.__dict__.copy()
        state.update(ask=None, previous_for=None, previous=None if self.previous is None else _LeftOut())
        return state

    def _compare(self, before: Digest, after: Digest, line: dict) -> Movement:
        self.compared += 1
        earlier = _Earlier(after.deal_id)
        blocking = lambda digest: {(f.code, f.subject) for f in digest.findings if f.severity == BLOCK}  # noqa: E731
        new = sorted(blocking(after) - blocking(before), key=lambda item: (item[0], item[1] or ""))
        if new:
            self.new_blocking += len(new)
            self.with_new_blocking.offer((len(new), earlier), lambda: DealLine(**line, detail={"codes": [code for code, _ in new]}))
        if before.stage_model == after.stage_model:
            moved = after.stage.index - before.stage.index
            detail = {"from": before.stage.name, "steps": moved}
            if moved > 0:
                self.moved.offer((moved, earlier), lambda: DealLine(**line, detail=detail))
            elif moved < 0:
                self.slipped.offer((-moved, 0, earlier), lambda: DealLine(**line, detail=detail))
                return Movement(back_steps=-moved, new_blocking=len(new))
        if before.expected_close and after.expected_close and after.expected_close > before.expected_close:
            old, now = before.expected_close, after.expected_close
            detail = {"close_from": old.isoformat(), "close_to": now.isoformat()}
            self.slipped.offer((0, (now - old).days, earlier), lambda: DealLine(**line, detail=detail))
            return Movement(pushed=(old, now), new_blocking=len(new))
        return Movement(new_blocking=len(new))

    def _consider(self, digest: Digest, movement: Movement, line: str | None) -> None:
        """Keep the deal among its currency's candidates for the first screen if it is among the most at stake so far.
        Within one currency the amount's part against the average only shifts every score alike, so the candidates
        kept now are the ones that rank first once the average is known."""
        focus = focus_finding(digest)
        if focus is None:
            return  # no risk to talk about
        heap = self._candidates_for(digest.currency)
        if heap is None:
            return
        points, reasons = stake_points(digest, movement)
        key = (points + amount_points(digest.amount, 1.0), _Earlier(digest.deal_id))
        if not heap.would_keep(key):
            return
        item = AgendaItem(
            deal_id=digest.deal_id, name=digest.deal_name, owner=digest.owner, stage=digest.stage.name, currency=digest.currency,
            amount=digest.amount, expected_close=digest.expected_close, score=0.0, reasons=reasons, focus=focus,
        )
        heap.offer(key, lambda: _Candidate(item, points, line))

    def _candidates_for(self, currency: str) -> TopList | None:
        """The currency's candidates for the first screen; None when MAX_CURRENCIES currencies whose codes sort before
        it have theirs (a bound on memory: the same currencies whatever order the deals arrive in)."""
        heap = self.candidates.get(currency)
        if heap is None:
            if len(self.candidates) >= MAX_CURRENCIES:
                last = max(self.candidates)
                if currency > last:
                    return None
                del self.candidates[last]  # it never comes back: every currency kept from now on sorts before it
            heap = self.candidates[currency] = TopList(self.agenda_size)
        return heap

    def _agenda(self) -> list[AgendaItem]:
        ranked = []
        for currency, heap in self.candidates.items():
            deals, amount = self.currencies[currency]
            average = math.fsum(amount) / deals if deals else 0.0
            for candidate in heap.ranked():
                score = candidate.points + amount_points(candidate.item.amount, average)
                times = candidate.item.amount / average if average > 0 else 0.0
                amount = Reason(kind="amount", params={"amount": candidate.item.amount, "currency": currency,
                                                        "times": round(times, 1) if times >= BIG_DEAL else None})
                ranked.append((score, candidate, amount))
        ranked.sort(key=lambda entry: (-entry[0], entry[1].item.deal_id, entry[1].item.currency))
        agenda = []
        for score, candidate, amount in ranked[: self.agenda_size]:
            item = candidate.item
            question = {}
            if self.ask is not None and candidate.line is not None:
                question = self.ask(candidate.line, item.focus.code, item.focus.subject)
            agenda.append(item.model_copy(update={"score": round(score, 1), "reasons": [amount, *item.reasons], "question": question}))
        return agenda

    def _habits(self) -> list[Habit]:
        """Per owner, the risk on most of their deals (at least HABIT_MIN_DEALS and HABIT_MIN_SHARE of them); among
        equals the one most particular to them (their share of it against the whole pipeline's), blocking first."""
        habits = []
        for owner, counts in self.owner_risks.items():
            deals = self.owners[owner][0]
            if owner == "-" or not counts:
                continue

            def rank(code: str, counts: Counter = counts) -> tuple:
                lift = self.risks[code] / self.reviewed if self.reviewed else 1.0
                return (-counts[code], lift, 0 if self.risk_info[code][1] == BLOCK else 1, code)

            code = min(counts, key=rank)
            if counts[code] >= HABIT_MIN_DEALS and counts[code] >= HABIT_MIN_SHARE * deals:
                symbol, severity = self.risk_info[code]
                habits.append(Habit(owner=owner, code=code, symbol=symbol, severity=severity, deals=counts[code], of=deals))
        return sorted(habits, key=lambda h: (-h.deals, -h.deals / h.of, h.owner))

    def _funnel_rows(self) -> list[FunnelRow]:
        """Per owner, then for the whole pipeline ("*"): leads, qualified, proposals, orders."""
        rows = [FunnelRow(owner=o, leads=v[0], qualified=v[1], proposals=v[2], orders=v[3]) for o, v in sorted(self.levels.items())]
        if rows:
            rows.append(FunnelRow(owner="*", leads=sum(r.leads for r in rows), qualified=sum(r.qualified for r in rows),
                                  proposals=sum(r.proposals for r in rows), orders=sum(r.orders for r in rows)))
        return rows

    def build(self) -> Rollup:
        by_stage = [
            Bucket(key=f"{model}/{stage_id}", name=name, deals=deals, amounts=_totals(amounts))
            for (model, _, stage_id), (name, deals, amounts) in sorted(self.stages.items())
        ]
        by_grade = [
            Bucket(key=grade, deals=self.grades[grade][0], amounts=_totals(self.grades[grade][1]))
            for grade in (*GRADES, "-")
            if grade in self.grades
        ]
        top = sorted(self.risks.items(), key=lambda item: (-item[1], item[0]))[: self.top]
        return Rollup(
            deals_reviewed=self.reviewed,
            as_of=self.as_of,
            deals_failed=self.failed,
            failed_count=self.failed_count,
            compared_with=self.compared_with if self.previous is not None else None,
            agenda=self._agenda(),
            habits=self._habits(),
            by_stage=by_stage,
            by_grade=by_grade,
            funnel=Bucket(key="funnel", deals=self.funnel[0], amounts=_totals(self.funnel[1])),
            below_threshold=Bucket(key="below_threshold", deals=self.small[0], amounts=_totals(self.small[1])),
            top_risks=[
                RiskCount(code=code, symbol=self.risk_info[code][0], severity=self.risk_info[code][1], deals=count)
                for code, count in top
            ],
            stuck=self.stuck.ranked(),
            stuck_count=self.stuck.count,
            ahead_of_customer=self.ahead.ranked(),
            ahead_count=self.ahead.count,
            funnel_by_owner=self._funnel_rows(),
            owners=sorted(
                (OwnerCount(owner=o, deals=v[0], blocking=v[1], deals_blocked=v[2]) for o, v in self.owners.items()),
                key=lambda o: (-o.blocking, o.owner),
            ),
            changes=None if self.previous is None else RollupChanges(
                deals_compared=self.compared,
                new_blocking_risks=self.new_blocking,
                with_new_blocking=self.with_new_blocking.ranked(),
                moved_forward=self.moved.ranked(),
                slipped=self.slipped.ranked(),
                with_new_blocking_count=self.with_new_blocking.count,
                moved_count=self.moved.count,
                slipped_count=self.slipped.count,
            ),
        )
