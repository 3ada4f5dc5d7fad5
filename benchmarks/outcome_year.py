"""A generated year of weekly deal reviews with outcomes, where a chosen few rules foretell a loss.

    python benchmarks/outcome_year.py                           # 400 deals, 52 weekly reviews, a temporary SQLite log
    python benchmarks/outcome_year.py --deals 150 --weeks 12    # what tests/test_outcomes.py runs
    python benchmarks/outcome_year.py --store /tmp/year.sqlite3 # keep the log (then: dealcoach outcomes --store ...)

Each deal follows the standard-6 stages from development to negotiation on its own schedule: it gains
people as it goes (the technical gatekeeper and the purchaser at sales entry), reaches the milestones of
each stage it leaves, and closes after negotiation, won or lost. Deals are staggered over the year: some
are already under way at the first review, some are still open at the last. Every week each open deal is
reviewed by the real engine (Coach.review) and the decision logged, as `dealcoach review --store` would.

Risks come and go: each of the LEVERS below appears on some deals at some week (a key person turns
against us, the decision maker drops out, the budget is only our own estimate, the technical gatekeeper
goes unvisited for months, ...) and is cleared on some of them later. The outcome is drawn from the risks
still open at the end: each of the PREDICTIVE rules still shown at the close multiplies the odds of a loss
(by `strength`, 20 by default); a cleared one barely does; every other rule does nothing. The frequent
DC303 (key person not visited within the playbook's key_person_stale_days) is shown on most deals and
predicts nothing: the report should say it does not separate won from lost, and name its threshold.

The run prints the rules made predictive, what the outcomes report found (precision and recall), and the
time taken by each part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dealcoach.engine import api
from dealcoach.store import Outcome, Store, decision_of, open_store
from dealcoach.store.outcomes import Minimums, report

START = dt.date(2026, 1, 5)  # a Monday: week w is reviewed on START + 7w
STAGES = ["development", "sales_entry", "proposal", "bidding", "negotiation"]
STEPS = ["need_and_approval", "supplier_screening", "set_specifications", "tender_evaluation", "purchase_commitment"]
MILESTONES = [["need_confirmed", "opportunity_evaluated", "customer_graded"], ["shortlisted", "org_chart_mapped", "insider_developed"],
              ["specs_influenced", "solution_accepted"], ["bid_submitted", "selected"], ["contract_signed"]]
PREDICTIVE = ("DC304", "DC305", "DC505")
BASE_LOGIT = -1.6  # a deal with no predictive risk open at the end is lost 17 % of the time
CLEARED_LOGIT = 0.3  # a predictive risk cleared before the end leaves a little behind
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "志强", "娜", "敏", "伟", "芳", "磊", "静", "军", "洋", "勇", "艳", "杰", "涛", "明"]
CUSTOMERS = ["华东精工", "鲁南化工", "江淮重工", "岭南制药", "北方电网检修", "西部矿机", "东海船舶", "中原食品", "川渝汽配", "闽江纺织"]
PROJECTS = ["MES 改造", "产线自动化", "能源计量", "仓储物流", "安全仪表系统", "设备联网", "质量追溯", "冷链监控"]


@dataclass(frozen=True)
class Lever:
    """A risk that appears on some deals and is cleared on some of them: what it does to the deal record."""

    code: str
    chance: float  # share of deals it appears on
    cleared: float  # share of those where the rep clears it before the end
    apply: Callable[[dict, dt.date], None]
    needs_stage: int = 0  # appears no earlier than this stage (the person it concerns is known from then)


def _person(deal: dict, person_id: str) -> dict | None:
    return next((c for c in deal["contacts"] if c["id"] == person_id), None)


def _opposed(deal: dict, as_of: dt.date) -> None:
    person = _person(deal, "liu")
    if person:
        person["stance"] = "opposes"


def _hibernating(deal: dict, as_of: dt.date) -> None:
    _person(deal, "chen")["active"] = False


def _estimated_budget(deal: dict, as_of: dt.date) -> None:
    deal["budget"]["evidence"] = "our_estimate"


def _fragile(deal: dict, as_of: dt.date) -> None:
    _person(deal, "wang")["avoids_conflict"] = True


def _credit(deal: dict, as_of: dt.date) -> None:
    deal["customer"]["credit"] = "watch"


def _unconfirmed(deal: dict, as_of: dt.date) -> None:
    deal["objective"]["confirmed_by_customer"] = False


def _rival(deal: dict, as_of: dt.date) -> None:
    deal["competitors"] = [{"name": "德马泰克"}]
    deal.pop("differentiation", None)


def _unvisited(deal: dict, as_of: dt.date) -> None:
    """Handled by the contact's visit dates (see _last_visit): nothing to change here."""


LEVERS = {
    "DC304": Lever("DC304", 0.35, 0.30, _opposed, needs_stage=1),  # the technical gatekeeper opposes us
    "DC305": Lever("DC305", 0.35, 0.30, _hibernating),  # the decision maker drops out of the project
    "DC505": Lever("DC505", 0.35, 0.30, _estimated_budget),  # the budget is only our own estimate
    "DC303": Lever("DC303", 0.75, 0.50, _unvisited, needs_stage=1),  # the technical gatekeeper not visited for months
    "DC306": Lever("DC306", 0.35, 0.40, _fragile),  # the sponsor avoids conflict
    "DC608": Lever("DC608", 0.25, 0.40, _credit),  # the customer's credit is on watch
    "DC502": Lever("DC502", 0.35, 0.50, _unconfirmed),  # the customer has not confirmed the objective
    "DC511": Lever("DC511", 0.40, 0.40, _rival, needs_stage=1),  # a rival, and our difference not worked out
}


@dataclass
class Plan:
    """One deal's year: when it starts and closes (in weeks from START), its stage schedule, and each risk's weeks."""

    index: int
    start: int
    length: int
    stage_weeks: list[int]  # week (from the deal's start) each stage begins
    risks: dict[str, tuple[int, int | None]]  # code -> (week it appears, week it is cleared or None), from the deal's start
    base: dict = field(default_factory=dict)

    @property
    def close(self) -> int:
        return self.start + self.length

    def stage_at(self, week: int) -> int:
        return max(i for i, begins in enumerate(self.stage_weeks) if begins <= week - self.start)

    def open_at(self, code: str, week: int) -> bool:
        appears, cleared = self.risks.get(code, (None, None))
        return appears is not None and appears <= week - self.start and (cleared is None or week - self.start < cleared)


def _plan(rng: random.Random, index: int, weeks: int) -> Plan:
    length = rng.randint(max(5, weeks // 4), max(6, int(weeks * 0.6)))
    start = rng.randint(-length // 2, max(-length // 2, weeks - int(length * 0.75)))
    cuts = sorted(rng.sample(range(1, length), 4)) if length > 5 else [1, 2, 3, 4]
    stage_weeks = [0, *cuts]
    risks: dict[str, tuple[int, int | None]] = {}
    for code, lever in LEVERS.items():  # in shares of the deal's life, so that a risk's fate does not hang on the deal's length
        if rng.random() >= lever.chance:
            continue
        appears = max(stage_weeks[lever.needs_stage], int(rng.uniform(0.15, 0.8) * length))
        cleared = max(appears + 1, int(rng.uniform(0.3, 1.0) * length)) if rng.random() < lever.cleared else None
        risks[code] = (appears, cleared if cleared is not None and cleared < length else None)
    return Plan(index, start, length, stage_weeks, risks, base=_base(rng, index))


def _base(rng: random.Random, index: int) -> dict:
    """What does not change over a deal's life: names, customer, amount."""
    customer = rng.choice(CUSTOMERS)
    return {
        "id": f"Y-{index:05d}",
        "name": f"{customer}{rng.choice(PROJECTS)}",
        "owner": rng.choice(["周凯", "孙丽", "赵敏", "钱峰"]),
        "customer": {"name": f"{customer}{'集团' if rng.random() < 0.5 else '有限公司'}",
                     "relationship": rng.choice(["friend", "partner", "supplier"]),
                     **({"state_owned": rng.random() < 0.4} if rng.random() < 0.8 else {})},
        "amount": float(rng.choice([600_000, 1_200_000, 1_500_000, 3_000_000])),
        "names": [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(4)],
    }


def _date(week: int) -> dt.date:
    return START + dt.timedelta(weeks=week)


def _last_visit(plan: Plan, week: int, as_of: dt.date) -> dt.date:
    """The technical gatekeeper's last visit: every week or two, except while DC303's risk is open (no visit since
    61 days before it opened); after it is cleared, visited again."""
    appears, cleared = plan.risks.get("DC303", (None, None))
    usual = as_of - dt.timedelta(days=12)
    if appears is None:
        return usual
    opened = _date(plan.start + appears)
    stopped = opened - dt.timedelta(days=61)
    if cleared is not None and week - plan.start >= cleared:
        return max(_date(plan.start + cleared) - dt.timedelta(days=3), usual)
    return min(usual, stopped)


def snapshot(plan: Plan, week: int) -> dict:
    """The deal record as it stood at the review of `week`."""
    as_of = _date(week)
    stage = plan.stage_at(week)
    base = plan.base
    names = base["names"]
    close = _date(plan.close)
    contacts = [
        {"id": "chen", "name": names[0], "title": "总经理", "roles": ["decision_maker"], "power": "core", "stance": "supports",
         "last_contact": (as_of - dt.timedelta(days=10)).isoformat()},
        {"id": "wang", "name": names[1], "title": "设备部部长", "roles": ["user", "opinion_leader"], "power": "political", "stance": "supports",
         "supporter": ["insider", "sponsor", "coach"], "shares_information": True, "last_contact": (as_of - dt.timedelta(days=3)).isoformat(),
         "coach_conditions": {"trusts_our_capability": True, "trusted_by_organisation": True, "wants_us_to_win": True}},
    ]
    if stage >= 1:
        contacts += [
            {"id": "liu", "name": names[2], "title": "总工程师", "roles": ["technical_gatekeeper"], "power": "political", "stance": "supports",
             "last_contact": _last_visit(plan, week, as_of).isoformat()},
            {"id": "li", "name": names[3], "title": "采购部经理", "roles": ["purchaser", "procurement_organiser"], "power": "political",
             "stance": "supports", "last_contact": (as_of - dt.timedelta(days=15)).isoformat()},
        ]
    deal = {
        "id": base["id"], "name": base["name"], "owner": base["owner"], "customer": dict(base["customer"]), "amount": base["amount"],
        "stage_model": "standard-6", "stage": STAGES[stage], "buying_step": STEPS[stage],
        "stage_entered": _date(plan.start + plan.stage_weeks[stage]).isoformat(), "as_of": as_of.isoformat(),
        "expected_close": close.isoformat(), "solution": "standard", "customer_state": "new_demand", "contacts": contacts,
        "budget": {"amount": base["amount"] * 1.1, "evidence": "customer_document", "plan_approved": True, "funds_in_place": True},
        "objective": {"who": "生产部", "what": base["name"], "how_much": base["amount"], "when": close.isoformat(),
                      "confirmed_by_customer": True, "shaped_by": "us", "meaning_agreed": True},
        "organisational_value_agreed": True, "decision": {"mode": "one_person", "last_purchase_known": True},
        "differentiation": "节拍快两成，本地两小时到场服务",
        "milestones": [m for earlier in MILESTONES[:stage] for m in earlier],
    }
    for code, lever in LEVERS.items():
        if plan.open_at(code, week):
            lever.apply(deal, as_of)
    return deal


def outcome(plan: Plan, rng: random.Random, predictive: tuple[str, ...], strength: float) -> Outcome:
    """Won or lost, from the predictive risks still open at the last review (and, a little, those cleared)."""
    last = plan.close - 1
    logit = BASE_LOGIT
    for code in predictive:
        if plan.open_at(code, last):
            logit += math.log(strength)
        elif code in plan.risks:
            logit += CLEARED_LOGIT
    lost = rng.random() < 1 / (1 + math.exp(-logit))
    return Outcome(deal_id=plan.base["id"], result="lost" if lost else "won", closed_on=_date(plan.close) - dt.timedelta(days=2),
                   reason=("客户选了对手" if lost else None), source="generator")


def generate(store: Store, deals: int = 400, weeks: int = 52, seed: int = 20261124, predictive: tuple[str, ...] = PREDICTIVE,
             strength: float = 20.0) -> dict:
    """Review `deals` deals every week for `weeks` weeks into `store`, and record the outcome of each deal that
    closes within them. The counts and seconds spent."""
    unknown = [code for code in predictive if code not in LEVERS]
    if unknown:
        raise ValueError(f"no lever makes {', '.join(unknown)} fire; choose among {', '.join(LEVERS)}")
    rng = random.Random(seed)
    coach = api.coach()
    plans = [_plan(rng, index, weeks) for index in range(deals)]
    outcome_rng = random.Random(seed + 1)
    reviewing = logging = 0.0
    reviews = 0
    batch = []
    for week in range(weeks):
        for plan in plans:
            if not (plan.start <= week < plan.close):
                continue
            began = time.perf_counter()
            deal = coach.deal(snapshot(plan, week))
            decision = decision_of(coach.review(deal), deal, decision_id=f"year-{seed}-{plan.index:05d}-{week:02d}", caller="generator",
                                   playbook_digest=coach.playbook.version_tag)
            reviewing += time.perf_counter() - began
            batch.append(decision)
            reviews += 1
        began = time.perf_counter()
        store.record_many(batch)
        logging += time.perf_counter() - began
        batch = []
    closed = [plan for plan in plans if plan.close < weeks]
    results = {"won": 0, "lost": 0}
    began = time.perf_counter()
    for plan in closed:
        ended = outcome(plan, outcome_rng, predictive, strength)
        store.record_outcome(ended)
        results[ended.result] += 1
    logging += time.perf_counter() - began
    return {"deals": deals, "weeks": weeks, "reviews": reviews, "outcomes": len(closed), **results, "open": deals - len(closed),
            "predictive": list(predictive), "review_seconds": reviewing, "log_seconds": logging}


def check(store: Store, predictive: tuple[str, ...], minimums: Minimums | None = None) -> dict:
    """Run the outcomes report on the log: which rules it found predictive, against those made so."""
    began = time.perf_counter()
    found = report(store, api.coach(), minimums=minimums)
    seconds = time.perf_counter() - began
    named = set(found.predicts_losses)
    hits = named & set(predictive)
    return {"report": found, "found": sorted(named), "precision": len(hits) / len(named) if named else 0.0,
            "recall": len(hits) / len(predictive) if predictive else 1.0, "report_seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=400)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--predictive", default=",".join(PREDICTIVE), help="rules to make predictive, comma-separated")
    parser.add_argument("--strength", type=float, default=20.0, help="odds ratio of a loss per predictive risk open at the end")
    parser.add_argument("--store", help="the decision log to fill (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    predictive = tuple(code.strip() for code in args.predictive.split(",") if code.strip())
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(args.store or str(Path(folder) / "year.sqlite3"), retention_days=0)
        began = time.perf_counter()
        made = generate(store, deals=args.deals, weeks=args.weeks, seed=args.seed, predictive=predictive, strength=args.strength)
        generated = time.perf_counter() - began
        checked = check(store, predictive)
        store.close()
    found = checked["report"]
    print(f"made predictive: {', '.join(predictive)} (odds of a loss x{args.strength:g} per one still shown at the close)")
    print(f"generated: {made['deals']} deals x {made['weeks']} weeks = {made['reviews']} reviews; {made['outcomes']} outcomes "
          f"({made['won']} won, {made['lost']} lost), {made['open']} deals still open")
    print(f"report: {found.status}; {found.deals} deals compared on {found.compared} rules, each interval at "
          f"{found.level:.2%} (95 % for all together)")
    for rule in found.rules:
        if rule.verdict in ("predicts_losses", "no_separation"):
            d = rule.difference
            print(f"  {rule.code} {rule.verdict:<16} shown on {rule.shown.deals:>4} deals: lost {rule.shown.rate:.0%} vs {rule.not_shown.rate:.0%}"
                  f" without, difference {d.value:+.0%} [{d.interval.low:+.0%}, {d.interval.high:+.0%}]"
                  + (f"  thresholds to revisit: {', '.join(rule.thresholds)}" if rule.revisit else ""))
    print(f"found predictive: {', '.join(checked['found']) or 'none'}")
    print(f"precision {checked['precision']:.2f}, recall {checked['recall']:.2f}"
          + ("  (exactly the rules made predictive)" if set(checked["found"]) == set(predictive) else ""))
    print(f"thresholds worth revisiting: {', '.join(note.key for note in found.thresholds) or 'none'}")
    print(f"time: {generated:.1f} s to generate ({made['review_seconds']:.1f} s reviewing, {made['log_seconds']:.1f} s logging), "
          f"{checked['report_seconds']:.1f} s for the report")
    return 0 if set(checked["found"]) == set(predictive) else 1


if __name__ == "__main__":
    sys.exit(main())
