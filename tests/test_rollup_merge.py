"""RollupBuilder.merge: builders over consecutive parts of a run, each pickled (as a Spark task returns it) and merged
in the parts' order, give the roll-up one builder gives over the whole run, to the byte; what the roll-up keeps
does not depend on the order deals arrive in (but for the failed deals it names: the first ones)."""

from __future__ import annotations

import datetime as dt
import json
import math
import pickle
import random

import pytest

from dealcoach.engine import api
from dealcoach.engine import pipeline as pipeline_run
from dealcoach.engine.report import StagePosition
from dealcoach.engine.rollup import (
    AGENDA_SIZE,
    LIST_LIMIT,
    MAX_CURRENCIES,
    ComparedWith,
    Digest,
    DigestFinding,
    FailedDeal,
    RollupBuilder,
)

from generated import AS_OF, deals

Item = tuple  # (digest or failed deal, result line or None), as `dealcoach pipeline` adds them


# -- the runs ------------------------------------------------------------------------------------------------------


def reviewed(lines: list[str], label: str) -> list[Item]:
    return [(r.digest, r.line if r.ok else None)
            for r in pipeline_run.review_all((pipeline_run.Item(f"{label}:{i}", line=line) for i, line in enumerate(lines, 1)), jobs=1)]


@pytest.fixture(scope="module")
def run() -> list[Item]:
    """Generated deals reviewed as `dealcoach pipeline` reviews them, made to reach every part of the roll-up: four
    currencies, amounts with cents, six owners, evaluation dates a few days apart (the newest on the last deal only),
    the same deal id twice with other content, and more deals that cannot be reviewed than the roll-up names."""
    rng = random.Random(41)
    records = deals(360, seed=8)
    for i, record in enumerate(records):
        record["currency"] = ("CNY", "USD", "EUR", "JPY")[i % 4]
        if i % 3 == 0:
            record["amount"] = round(record["amount"] + rng.uniform(0, 1000), 2)
        if i % 5 == 0:
            record["owner"] = rng.choice(["Anna", "Bo", "Cai", "Dee"])
        record["as_of"] = (AS_OF + dt.timedelta(days=rng.choice([0, 0, 1, 3]) if i else 5)).isoformat()
    twins = []
    for record in rng.sample(records, 24):
        twin = json.loads(json.dumps(record))
        twin["name"] += " (copy)"
        twins.append(twin)
    lines = [json.dumps(r, ensure_ascii=False) for r in records + twins]
    newest = lines.pop(0)
    lines += ["not JSON"] * 14 + ['{"id": "NO-STAGE"}'] * 14
    rng.shuffle(lines)
    return reviewed([*lines, newest], "deals.jsonl")


@pytest.fixture(scope="module")
def previous() -> dict[str, Digest]:
    """The previous run: the same deal ids, other stages, closes and findings."""
    items = reviewed([json.dumps(r, ensure_ascii=False) for r in deals(360, seed=9)], "last.jsonl")
    return {digest.deal_id: digest for digest, _ in items if isinstance(digest, Digest)}


@pytest.fixture(scope="module")
def ask():
    return pipeline_run.question_maker(api.coach(None).renderer)


def cuts(n: int) -> dict[str, list[int]]:
    """Ways to split n items into consecutive parts: each a list of part sizes."""
    rng = random.Random(n)
    seven = sorted(rng.randint(0, n) for _ in range(6))
    return {
        "one part": [n],
        "halves": [n // 2, n - n // 2],
        "uneven": [1, n // 2, n - n // 2 - 1],
        "empty parts": [0, 0, n // 3, 0, n - n // 3, 0],
        "seven at random": [b - a for a, b in zip([0, *seven], [*seven, n], strict=True)],
        "one deal each, then the rest": [1] * 25 + [n - 25],
        "all in the last": [0, 0, 0, n],
    }


def split(items: list[Item], sizes: list[int]) -> list[list[Item]]:
    assert sum(sizes) == len(items)
    start, parts = 0, []
    for size in sizes:
        parts.append(items[start:start + size])
        start += size
    return parts


def whole(items: list[Item], **config) -> RollupBuilder:
    builder = RollupBuilder(**config)
    for item in items:
        builder.add(*item)
    return builder


def merged(parts: list[list[Item]], into: RollupBuilder, **config) -> RollupBuilder:
    """One builder per part (without `ask`, as on a Spark executor), each through pickle, merged in order into `into`."""
    for part in parts:
        into.merge(pickle.loads(pickle.dumps(whole(part, **config))))
    return into


def merged_in_tree(parts: list[list[Item]], into: RollupBuilder, fan_in: int = 3, **config) -> RollupBuilder:
    """As dealcoach.spark.rollup merges many partitions: groups of `fan_in` consecutive parts merged into one builder
    each (pickled in and out), level by level, then the last level into `into`."""
    level = [pickle.dumps(whole(part, **config)) for part in parts]
    while len(level) > fan_in:
        groups = [level[i:i + fan_in] for i in range(0, len(level), fan_in)]
        level = [pickle.dumps(merged_states(group, RollupBuilder(**config))) for group in groups]
    return merged_states(level, into)


def merged_states(states: list[bytes], into: RollupBuilder) -> RollupBuilder:
    for state in states:
        into.merge(pickle.loads(state))
    return into


def reaches_every_part(rollup, run: list[Item]) -> None:
    """The run overflows every list and has several currencies in every total: the comparisons compare something."""
    assert rollup.failed_count == 28 > LIST_LIMIT == len(rollup.deals_failed)
    assert rollup.stuck_count > LIST_LIMIT and rollup.ahead_count > LIST_LIMIT
    changes = rollup.changes
    assert min(changes.with_new_blocking_count, changes.moved_count, changes.slipped_count) > LIST_LIMIT
    assert len(rollup.agenda) == AGENDA_SIZE and rollup.habits and len(rollup.funnel_by_owner) > 4
    assert len(rollup.funnel.amounts) == 4 and len({d.as_of for d, _ in run if isinstance(d, Digest)}) == 4
    assert len(rollup.by_stage) > 8 and len(rollup.by_grade) >= 4 and rollup.below_threshold.deals


def same(one: RollupBuilder, other: RollupBuilder, *, in_order: bool = True) -> None:
    """The same roll-up, byte for byte as JSON (dicts in the same order, floats to the last bit). Not `in_order`: the
    deals came in another order, so each total's currencies may be listed in another (the order they were first seen)."""
    a, b = one.build(), other.build()
    if in_order:
        assert a.model_dump_json() == b.model_dump_json(), first_difference(a.model_dump(), b.model_dump())
    else:
        assert a.model_dump() == b.model_dump(), first_difference(a.model_dump(), b.model_dump(), ordered=False)


def first_difference(a, b, path: str = "", ordered: bool = True) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        if (list(a) if ordered else sorted(a)) != (list(b) if ordered else sorted(b)):
            return f"{path or 'the roll-up'}: keys {list(a)} != {list(b)}"
        return next((d for k in a if (d := first_difference(a[k], b[k], f"{path}.{k}", ordered))), "")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := first_difference(x, y, f"{path}[{i}]", ordered))), "")
    return "" if a == b else f"{path}: {a!r} != {b!r}"


# -- generated runs, split every way -------------------------------------------------------------------------------


@pytest.mark.parametrize("way", list(cuts(412)))
def test_parts_merged_in_order_give_the_roll_up_of_the_whole_run(run, previous, ask, way) -> None:
    parts = split(run, cuts(len(run))[way])
    same(whole(run, ask=ask), merged(parts, RollupBuilder(ask=ask)))
    compared = {"previous": previous, "compared_with": ComparedWith(kind="file", label="last.jsonl")}
    expected = whole(run, ask=ask, **compared)
    reaches_every_part(expected.build(), run)
    same(expected, merged(parts, RollupBuilder(ask=ask, **compared), **compared))
    same(expected, merged_in_tree(parts, RollupBuilder(ask=ask, **compared), **compared))


def test_the_merged_roll_up_renders_as_the_whole_runs(run, previous, ask) -> None:
    compared = {"previous": previous, "compared_with": ComparedWith(kind="file", label="last.jsonl")}
    one = whole(run, ask=ask, **compared).build()
    other = merged(split(run, cuts(len(run))["seven at random"]), RollupBuilder(ask=ask, **compared), **compared).build()
    coach = api.coach(None)
    for lang in ("zh", "en"):
        for fmt in ("text", "markdown", "json"):
            assert coach.render(other, lang=lang, fmt=fmt) == coach.render(one, lang=lang, fmt=fmt), (lang, fmt)


def test_the_run_to_compare_with_is_found_from_the_first_deal_as_the_whole_run_finds_it(run, previous, ask) -> None:
    def finder(asked: list):
        def previous_for(as_of):
            asked.append(as_of)
            return previous, ComparedWith(kind="log", label="run-1", as_of=AS_OF - dt.timedelta(days=7))

        return previous_for

    first = next(d.as_of for d, _ in run if isinstance(d, Digest))
    asked: list = []
    expected = whole(run, ask=ask, previous_for=finder(asked))
    assert asked == [first]
    for merge in (merged, merged_in_tree):
        asked, by_parts = [], []
        parts = split(run, cuts(len(run))["one deal each, then the rest"])
        builder = merge(parts, RollupBuilder(ask=ask, previous_for=finder(asked)), previous_for=finder(by_parts))
        assert asked == [first]  # the merged builder asks once, with the first part's first deal
        same(expected, builder)
        assert builder.build().compared_with.label == "run-1"


def test_parts_compared_with_different_runs_do_not_merge(run, previous) -> None:
    half = len(run) // 2
    alone, compared = whole(run[:half]), whole(run[half:], previous=previous)
    with pytest.raises(ValueError, match="compare with different runs"):
        alone.merge(compared)
    one = whole(run[:half], previous=previous, compared_with=ComparedWith(kind="file", label="a.jsonl"))
    with pytest.raises(ValueError, match="compare with different runs"):
        one.merge(whole(run[half:], previous=previous, compared_with=ComparedWith(kind="file", label="b.jsonl")))
    with pytest.raises(ValueError, match="first screen"):
        RollupBuilder(agenda_size=3).merge(whole(run[:half]))
    RollupBuilder(previous=previous).merge(whole([item for item in run if isinstance(item[0], FailedDeal)]))  # compared nothing


def test_a_pickled_builder_keeps_what_it_counted_not_its_functions_nor_the_previous_runs_digests(run, previous, ask) -> None:
    builder = whole(run[:100], ask=ask)
    copy = pickle.loads(pickle.dumps(builder))
    assert copy.ask is None and copy.previous_for is None
    for item in run[100:]:  # without a previous run, a copy goes on counting
        builder.add(*item)
        copy.add(*item)
    copy.ask = ask
    same(builder, copy)
    compared = whole(run[:100], previous=previous)
    copy = pickle.loads(pickle.dumps(compared))
    assert copy.previous is not None and len(copy.previous) == 0  # a roll-up that compares, without the digests
    same(compared, copy)
    with pytest.raises(RuntimeError, match="pickled without the previous run's digests"):
        copy.add(*next(item for item in run[100:] if isinstance(item[0], Digest)))


# -- what must not depend on the order deals arrive in --------------------------------------------------------------


def stage(index: int) -> StagePosition:
    return StagePosition(index=index, id=f"s{index}", name={"zh": f"第{index}阶段", "en": f"Stage {index}"})


def digest(deal_id: str, name: str, *, at: int = 3, step: int = 3, stalled: int | None = None, close_in: int = 60,
           amount: float = 1_000_000, currency: str = "CNY", blocking: tuple[str, ...] = ("DC304",)) -> Digest:
    findings = [DigestFinding(code=code, symbol=code.lower(), kind="risk", severity="block") for code in blocking]
    if stalled is not None:
        findings.append(DigestFinding(code="DC105", symbol="stalled", kind="risk", severity="warn", mark="stalled",
                                      params={"days": stalled, "limit": 30}))
    if at > step:
        findings.append(DigestFinding(code="DC201", symbol="ahead", kind="risk", severity="warn", mark="ahead_of_customer"))
    return Digest(deal_id=deal_id, deal_name=name, owner="周凯", currency=currency, amount=amount, stage_model="standard-6",
                  stage=stage(at), buying_step=stage(step), as_of=AS_OF, phase="proposal",
                  expected_close=AS_OF + dt.timedelta(days=close_in), findings=findings)


def tied() -> tuple[list[Item], dict[str, Digest]]:
    """Deals whose keys tie in every list: one deal id seen many times with other content (its name, its line), with
    exactly the same standing (days stalled, steps ahead, stake, steps moved or slipped, new blocking risks), and more
    of them than a list names; and the previous run that makes them move."""
    items, before = [], {}
    for group, (at, step) in enumerate(((4, 1), (2, 2), (3, 3))):
        for copy in range(LIST_LIMIT + 6):
            deal_id = f"TIE-{group}"
            name = f"tied {group} copy {copy:02d}"
            items.append((digest(deal_id, name, at=at, step=step, stalled=120), json.dumps({"copy": copy})))
        before[f"TIE-{group}"] = digest(f"TIE-{group}", "before", at=3, step=3, blocking=(), close_in=30)
    items += [(digest(f"D{n}", f"other {n}", stalled=90 - n % 3, at=3 + n % 2), None) for n in range(30)]
    return items, before


def test_ties_in_every_list_break_on_the_deal_not_on_the_order_it_arrived_in() -> None:
    items, before = tied()
    expected = whole(items, previous=before)
    rollup = expected.build()
    assert [line.deal_id for line in rollup.stuck[:3]] == ["TIE-0"] * 3 and rollup.ahead_of_customer[0].deal_id == "TIE-0"
    assert {line.deal_id for line in rollup.changes.slipped} == {"TIE-1"} and {line.deal_id for line in rollup.changes.moved_forward} == {"TIE-0"}
    assert len(rollup.changes.with_new_blocking) == LIST_LIMIT and [i.deal_id for i in rollup.agenda][:2] == ["TIE-1", "TIE-1"]
    names = [line.name for line in rollup.stuck if line.deal_id == "TIE-0"]
    assert names == sorted(names)  # the tied copies kept, in the order of their content
    rng = random.Random(7)
    for _ in range(6):
        shuffled = rng.sample(items, len(items))
        same(expected, whole(shuffled, previous=before))
        sizes = [rng.randint(0, 40) for _ in range(4)]
        same(expected, merged(split(shuffled, [*sizes, len(items) - sum(sizes)]), RollupBuilder(previous=before), previous=before))


def test_more_currencies_than_the_first_screen_ranks_keep_the_ones_that_sort_first() -> None:
    codes = [f"C{n:02d}" for n in range(MAX_CURRENCIES + 8)]
    items = [(digest(f"{code}-{n}", f"deal {n}", currency=code, amount=1_000 + n, close_in=10 + n), None)
             for code in codes for n in range(AGENDA_SIZE + 2)]
    expected = whole(items)
    assert sorted(expected.candidates) == codes[:MAX_CURRENCIES]
    rng = random.Random(3)
    for _ in range(4):
        shuffled = rng.sample(items, len(items))
        same(expected, whole(shuffled), in_order=False)
        same(expected, merged(split(shuffled, [60, 0, 100, len(items) - 160]), RollupBuilder()), in_order=False)


def test_amounts_are_summed_exactly_in_any_order_and_any_parts() -> None:
    amounts = [0.1, 0.2, 0.3, 1e15, 0.07, 123456.78, 1e-3, 999999.99] * 9
    items = [(digest(f"A{n}", "a", amount=amount, blocking=()), None) for n, amount in enumerate(amounts)]
    expected = whole(items)
    assert expected.build().funnel.amounts == {"CNY": math.fsum(amounts)}
    rng = random.Random(5)
    for _ in range(5):
        shuffled = rng.sample(items, len(items))
        same(expected, whole(shuffled))
        same(expected, merged(split(shuffled, [7, 0, 30, len(items) - 37]), RollupBuilder()))


def test_what_the_roll_up_takes_from_the_first_or_the_last_deal_is_taken_so_when_merged_in_order() -> None:
    """The failed deals named are the first ones; a stage's name is the first deal's word for it, a risk's symbol and
    severity the last deal's; each total lists its currencies in the order they were first seen."""
    items: list[Item] = []
    for n in range(60):
        if n % 2:
            items.append((FailedDeal(source=f"deals.jsonl:{n}", deal_id=None, problems=[f"problem {n}"]), None))
            continue
        item = digest(f"D{n:02d}", f"deal {n}", currency=("EUR", "CNY", "USD")[n % 3], stalled=n, blocking=("DC304",))
        renamed = item.stage.model_copy(update={"name": {"zh": f"名称{n}", "en": f"Name {n}"}})
        severity = ("block", "warn")[n // 20 % 2]
        findings = [f.model_copy(update={"severity": severity}) if f.code == "DC304" else f for f in item.findings]
        items.append((item.model_copy(update={"stage": renamed, "findings": findings}), None))
    expected = whole(items)
    rollup = expected.build()
    assert [f.source for f in rollup.deals_failed] == [f"deals.jsonl:{n}" for n in range(1, 2 * LIST_LIMIT, 2)]
    assert rollup.by_stage[0].name["en"] == "Name 0" and list(rollup.funnel.amounts) == ["EUR", "USD", "CNY"]
    assert next(r.severity for r in rollup.top_risks if r.code == "DC304") == "block"  # deal 58's: 58 // 20 is 2
    for sizes in ([1, 2, 57], [0, 31, 29], [13, 13, 13, 21]):
        same(expected, merged(split(items, sizes), RollupBuilder()))
        same(expected, merged_in_tree(split(items, sizes + [0, 0]), RollupBuilder(), fan_in=2))
