"""Seeded generator of valid deals that exercise every part of the record (for meta-tests over many deals)."""

from __future__ import annotations

import datetime as dt
import random

AS_OF = dt.date(2026, 11, 20)
ROLES = ["decision_maker", "technical_gatekeeper", "purchaser", "user", "opinion_leader", "procurement_organiser"]
MODELS = {
    "standard-6": (
        ["development", "sales_entry", "proposal", "bidding", "negotiation", "implementation"],
        ["need_and_approval", "supplier_screening", "set_specifications", "tender_evaluation", "purchase_commitment", "installation"],
        ["need_confirmed", "opportunity_evaluated", "customer_graded", "shortlisted", "org_chart_mapped", "insider_developed",
         "specs_influenced", "solution_accepted", "bid_submitted", "selected", "contract_signed", "accepted", "paid_in_full"],
    ),
    "lead-to-contract-5": (
        ["lead_confirmation", "need_cultivation", "solution_evaluation", "negotiation", "contract"],
        ["need_recognised", "need_confirmed_and_funded", "supplier_comparison", "price_and_terms", "contract_signing"],
        ["lead_qualified", "need_confirmed", "funds_secured", "relationship_built", "solution_preferred", "terms_agreed", "contract_signed"],
    ),
}


def _date(days: int) -> str:
    return (AS_OF + dt.timedelta(days=days)).isoformat()


def _some(rng: random.Random, record: dict, key: str, value, chance: float = 0.5) -> None:
    if rng.random() < chance:
        record[key] = value


def contact(rng: random.Random, index: int) -> dict:
    record: dict = {"id": f"c{index}", "name": f"联系人{index}", "roles": rng.sample(ROLES, rng.choice([0, 1, 1, 2]))}
    _some(rng, record, "title", rng.choice(["总经理", "总工程师", "采购经理", "车间主任", "秘书"]), 0.8)
    _some(rng, record, "power", rng.choice(["unaware", "watcher", "political", "core"]), 0.8)
    _some(rng, record, "stance", rng.choice(["supports", "neutral", "opposes", "unknown"]), 0.8)
    _some(rng, record, "supporter", rng.sample(["insider", "sponsor", "coach"], rng.choice([1, 1, 2])), 0.4)
    conditions = {k: rng.random() < 0.7 for k in ("trusts_our_capability", "trusted_by_organisation", "wants_us_to_win") if rng.random() < 0.6}
    _some(rng, record, "coach_conditions", conditions, 0.5)
    _some(rng, record, "caveats", [rng.choice(["previous_deal_coach", "personal_friend", "public_information_only", "own_agenda"])], 0.15)
    _some(rng, record, "shares_information", rng.random() < 0.6, 0.5)
    _some(rng, record, "avoids_conflict", rng.random() < 0.4, 0.3)
    _some(rng, record, "personal_interest_engaged", rng.random() < 0.5, 0.2)
    _some(rng, record, "last_contact", _date(-rng.randint(0, 200)), 0.8)
    _some(rng, record, "active", rng.random() < 0.85, 0.5)
    return record


def deal(rng: random.Random, index: int) -> dict:
    """One valid deal; every optional part present about half the time."""
    model = rng.choice(list(MODELS))
    stages, steps, milestones = MODELS[model]
    stage = rng.randrange(len(stages))
    step = max(0, min(len(steps) - 1, stage + rng.choice([-2, -1, 0, 0, 0, 1])))
    contacts = [contact(rng, i) for i in range(rng.randint(0, 9))]
    record: dict = {
        "id": f"GEN-{index:06d}",
        "name": f"项目{index}",
        "customer": {"name": f"客户{index % 97}"},
        "amount": float(rng.choice([30_000, 80_000, 300_000, 1_200_000, 5_000_000])),
        "stage_model": model,
        "stage": stages[stage],
        "stage_entered": _date(-rng.randint(0, 300)),
        "buying_step": steps[step],
        "as_of": AS_OF.isoformat(),
        "contacts": contacts,
        "milestones": rng.sample(milestones, rng.randint(0, len(milestones))),
    }
    _some(rng, record, "owner", rng.choice(["周凯", "孙丽"]), 0.8)
    customer = record["customer"]
    _some(rng, customer, "state_owned", rng.random() < 0.4)
    _some(rng, customer, "credit", rng.choice(["good", "watch", "poor"]), 0.4)
    _some(rng, customer, "relationship", rng.choice(["outsider", "friend", "supplier", "partner"]), 0.5)
    _some(rng, record, "solution", rng.choice(["standard", "customised"]), 0.6)
    _some(rng, record, "entry_step", steps[rng.randint(0, step)], 0.4)
    _some(rng, record, "customer_state", rng.choice(
        ["selecting_supplier", "new_demand", "waiting_on_decision", "incumbent_failing", "no_urgency",
         "hopeful_about_incumbent", "no_need", "satisfied_with_incumbent", "signed_elsewhere"]), 0.5)
    _some(rng, record, "organisational_value_agreed", rng.random() < 0.5, 0.4)
    _some(rng, record, "expected_close", _date(rng.randint(-60, 800)), 0.85)
    budget: dict = {}
    _some(rng, budget, "amount", float(rng.choice([100_000, 2_000_000, 6_000_000])), 0.6)
    _some(rng, budget, "evidence", rng.choice(["customer_document", "customer_statement", "our_estimate", "none"]), 0.6)
    _some(rng, budget, "plan_approved", rng.random() < 0.5, 0.4)
    _some(rng, budget, "funds_in_place", rng.random() < 0.5, 0.4)
    _some(rng, record, "budget", budget, 0.7)
    objective: dict = {}
    for key, value in (("who", "生产部"), ("what", "系统改造"), ("how_much", 1_000_000.0), ("when", _date(200))):
        _some(rng, objective, key, value, 0.6)
    _some(rng, objective, "confirmed_by_customer", rng.random() < 0.5, 0.6)
    _some(rng, objective, "shaped_by", rng.choice(["us", "competitor", "nobody", "unknown"]), 0.6)
    _some(rng, objective, "meaning_agreed", rng.random() < 0.5, 0.4)
    _some(rng, record, "objective", objective, 0.7)
    rivals = []
    for name in rng.sample(["对手甲", "对手乙"], rng.choice([0, 1, 1, 2])):
        rival: dict = {"name": name, "incumbent": rng.random() < 0.4}
        _some(rng, rival, "shaped_specs", rng.random() < 0.4, 0.5)
        _some(rng, rival, "entered_step", steps[rng.randint(0, step)], 0.4)
        rivals.append(rival)
    _some(rng, record, "competitors", rivals, 1.0 if rivals else 0)
    _some(rng, record, "differentiation", "我方方案能在线对接现有系统", 0.4)
    _some(rng, customer, "relationship_level", rng.choice(["price", "service", "interdependent"]), 0.4)
    _some(rng, customer, "share_of_our_sales", float(rng.choice([5, 20, 40])), 0.3)
    negotiation: dict = {}
    _some(rng, negotiation, "our_quote", float(rng.choice([1_000_000, 1_400_000])), 0.5)
    if "our_quote" in negotiation:
        _some(rng, negotiation, "walk_away", negotiation["our_quote"] * 0.9, 0.5)
    _some(rng, negotiation, "chosen_us", rng.random() < 0.5, 0.5)
    concessions = [{"amount": 50_000.0, **({"gained": "预付款提到三成"} if rng.random() < 0.5 else {})} for _ in range(rng.choice([0, 0, 1, 2]))]
    _some(rng, negotiation, "concessions", concessions, 1.0 if concessions else 0)
    _some(rng, negotiation, "scope_may_change", rng.random() < 0.4, 0.3)
    _some(rng, record, "negotiation", negotiation, 0.6)
    payment = {k: rng.random() < 0.5 for k in ("agreed", "acceptance_criteria_agreed", "payment_signer_known") if rng.random() < 0.5}
    _some(rng, payment, "deposit_percent", float(rng.choice([0, 10, 30])), 0.4)
    _some(rng, record, "payment_terms", payment, 0.6)
    tender = {k: rng.random() < 0.5 for k in ("public", "published", "accompanying_suspected") if rng.random() < 0.5}
    _some(rng, tender, "bid_decision", rng.choice(["bid", "no_bid", "undecided"]), 0.4)
    _some(rng, record, "tender", tender, 0.5)
    implementation: dict = {k: rng.random() < 0.5 for k in ("reference_agreed", "next_purchase_identified") if rng.random() < 0.5}
    _some(rng, implementation, "acceptance", rng.choice(["not_started", "in_progress", "signed", "disputed"]), 0.5)
    _some(rng, record, "implementation", implementation, 0.5)
    mode = rng.choice(["one_person", "collective", "mixed", "unknown"])
    decision: dict = {"mode": mode}
    _some(rng, decision, "last_purchase_known", rng.random() < 0.5)
    if mode == "collective" and contacts:
        members = rng.sample([c["id"] for c in contacts], rng.randint(1, len(contacts)))
        decision.update(rule=rng.choice(["unanimity", "majority", "dominant"]), committee=members,
                        committee_size=len(members) + rng.randint(0, 2))
    record["decision"] = decision
    pressure: dict = {}
    _some(rng, pressure, "ultimatums", rng.randint(0, 4), 0.6)
    _some(rng, pressure, "verified", rng.random() < 0.4, 0.5)
    _some(rng, pressure, "concession_requested", rng.random() < 0.5, 0.6)
    _some(rng, record, "price_pressure", pressure, 0.5)
    receivables = []
    for _ in range(rng.choice([0, 0, 1, 2])):
        amount = float(rng.choice([100_000, 500_000]))
        receivables.append({"amount": amount, "due": _date(rng.randint(-300, 60)), "paid": rng.choice([0.0, amount / 2])})
    _some(rng, record, "receivables", receivables, 0.9 if receivables else 0)
    return record


def deals(count: int, seed: int = 20261124) -> list[dict]:
    rng = random.Random(seed)
    return [deal(rng, i) for i in range(count)]
