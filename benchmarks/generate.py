"""Deterministic, realistic deal records for benchmarks (5-15 contacts each, Chinese names)."""

from __future__ import annotations

import datetime as dt
import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "志强", "娜", "敏", "伟", "芳", "磊", "静", "军", "洋", "勇", "艳", "杰", "涛", "明"]
TITLES = ["总经理", "副总经理", "总工程师", "设备部部长", "采购部经理", "财务总监", "车间主任", "信息中心主任", "总经办秘书", "项目工程师"]
ROLES = ["decision_maker", "technical_gatekeeper", "purchaser", "user", "opinion_leader", "procurement_organiser"]
POWER = ["unaware", "watcher", "political", "core"]
STANCE = ["supports", "neutral", "opposes", "unknown"]
STAGES = {
    "standard-6": (
        ["development", "sales_entry", "proposal", "bidding", "negotiation", "implementation"],
        ["need_and_approval", "supplier_screening", "set_specifications", "tender_evaluation", "purchase_commitment", "installation"],
        ["need_confirmed", "opportunity_evaluated", "customer_graded", "shortlisted", "org_chart_mapped", "insider_developed",
         "specs_influenced", "solution_accepted", "bid_submitted", "selected", "contract_signed"],
    ),
    "lead-to-contract-5": (
        ["lead_confirmation", "need_cultivation", "solution_evaluation", "negotiation", "contract"],
        ["need_recognised", "need_confirmed_and_funded", "supplier_comparison", "price_and_terms", "contract_signing"],
        ["lead_qualified", "need_confirmed", "funds_secured", "relationship_built", "solution_preferred", "terms_agreed"],
    ),
}
AS_OF = dt.date(2026, 11, 20)


def _maybe(rng: random.Random, value, chance: float = 0.5):
    return value if rng.random() < chance else None


def contact(rng: random.Random, index: int) -> dict:
    record = {
        "id": f"c{index}",
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "title": rng.choice(TITLES),
        "roles": rng.sample(ROLES, rng.choice([0, 1, 1, 1, 2])),
        "power": rng.choice(POWER),
        "stance": rng.choice(STANCE),
        "supporter": rng.sample(["insider", "sponsor", "coach"], rng.choice([0, 0, 0, 1, 1, 2])),
        "coach_conditions": {
            key: value
            for key in ("trusts_our_capability", "trusted_by_organisation", "wants_us_to_win")
            if (value := _maybe(rng, rng.random() < 0.7, 0.7)) is not None
        },
        "active": rng.random() < 0.9,
    }
    if rng.random() < 0.1:
        record["caveats"] = [rng.choice(["previous_deal_coach", "personal_friend", "own_agenda"])]
    for key in ("shares_information", "avoids_conflict"):
        if (value := _maybe(rng, rng.random() < 0.6, 0.6)) is not None:
            record[key] = value
    if rng.random() < 0.85:
        record["last_contact"] = (AS_OF - dt.timedelta(days=rng.randint(0, 200))).isoformat()
    return record


def deal(rng: random.Random, index: int) -> dict:
    """One deal as a CRM would send it (JSON types only)."""
    model = rng.choice(list(STAGES))
    stages, steps, milestones = STAGES[model]
    stage = rng.randrange(len(stages))
    step = max(0, min(len(steps) - 1, stage + rng.choice([-1, 0, 0, 0, 1])))
    contacts = [contact(rng, i) for i in range(rng.randint(5, 15))]
    record = {
        "id": f"BENCH-{index:07d}",
        "name": f"项目{index}",
        "owner": rng.choice(["周凯", "孙丽", "Anna Keller", "吴磊"]),
        "customer": {"name": f"客户{index % 997}", "state_owned": rng.random() < 0.3},
        "amount": float(rng.randrange(50_000, 20_000_000, 10_000)),
        "stage_model": model,
        "stage": stages[stage],
        "stage_entered": (AS_OF - dt.timedelta(days=rng.randint(0, 300))).isoformat(),
        "buying_step": steps[step],
        "as_of": AS_OF.isoformat(),
        "expected_close": (AS_OF + dt.timedelta(days=rng.randint(-30, 700))).isoformat(),
        "contacts": contacts,
        "milestones": rng.sample(milestones, rng.randint(0, len(milestones))),
    }
    mode = rng.choice(["one_person", "collective", "mixed", "unknown"])
    decision: dict = {"mode": mode, "last_purchase_known": rng.random() < 0.5}
    if mode == "collective":
        members = rng.sample([c["id"] for c in contacts], rng.randint(1, min(7, len(contacts))))
        decision.update(rule=rng.choice(["unanimity", "majority", "dominant"]), committee=members,
                        committee_size=len(members) + rng.randint(0, 2))
    record["decision"] = decision
    return record


def deals(count: int, seed: int = 20261122) -> list[dict]:
    rng = random.Random(seed)
    return [deal(rng, i) for i in range(count)]
