"""Deterministic, realistic deal records for benchmarks (5-15 contacts each, Chinese names).

    python benchmarks/generate.py --count 1000 -o deals.jsonl     # one deal per line
    python benchmarks/generate.py --count 50 --as-dir -o deals/   # one JSON file per deal
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

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


DEFAULT_SEED = 20261122


def deals(count: int, seed: int = DEFAULT_SEED) -> list[dict]:
    """`count` deals; the same seed gives the same deals."""
    rng = random.Random(seed)
    return [deal(rng, i) for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write deterministic test deals for `dealcoach pipeline` and the benchmarks.")
    parser.add_argument("--count", type=int, default=100, help="how many deals (default 100)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed; the same seed gives the same deals (default {DEFAULT_SEED})")
    parser.add_argument("-o", "--output", default="-", help="a .jsonl file, a directory with --as-dir, or - for standard output (default)")
    parser.add_argument("--as-dir", action="store_true", help="write one <id>.json file per deal into the --output directory")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be 0 or more")
    records = deals(args.count, args.seed)
    if args.as_dir:
        if args.output == "-":
            parser.error("--as-dir needs --output DIRECTORY")
        folder = Path(args.output)
        folder.mkdir(parents=True, exist_ok=True)
        for record in records:
            (folder / f"{record['id']}.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        return 0
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if args.output == "-":
        sys.stdout.write(lines)
    else:
        Path(args.output).write_text(lines, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
