"""Review throughput now against an earlier commit, side by side in one run, with the bare engine and Python floors.

    python benchmarks/throughput.py --against b03bf73            # the commit before the base-fact rules moved to Python
    python benchmarks/throughput.py --against b03bf73 --deals 2000 --rounds 7

The earlier commit is checked out once as a git worktree under build/bench-trees/. Each round runs one child
process per tree, alternating (the machine is shared and noisy: the best round of each is kept). A child
reviews the same generated deals (validated Deal in, report -> JSON out) and, in the current tree, also:
- the bare durable-rules baseline: every rule's conditions in the engine, the same trimmed facts and
  ledger, actions that do nothing;
- the Python floor: building the facts and answering the compiled tests and joins of the rules over base
  facts, with no action run (what no implementation of those rules can go below).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import generate
import dealcoach
count, repeat, extra = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "extra"
book = dealcoach.load_playbook()
deals = [dealcoach.load_deal(d, book) for d in generate.deals(count)]

def best(run, items):
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            run(item)
        rates.append(len(items) / (time.perf_counter() - start))
    return max(rates)

for deal in deals[:50]:
    dealcoach.review(deal, playbook=book).model_dump_json()
found = {"review": best(lambda d: dealcoach.review(d, playbook=book).model_dump_json(), deals), "package": dealcoach.__file__}
if extra:
    from dealcoach.engine import durable_adapter
    from dealcoach.engine.evaluation import compiled
    from dealcoach.engine.facts import build_facts, locate
    from dealcoach.engine.rulebook import Rulebook
    from dealcoach.rules import catalog
    plan = compiled(catalog(), book.thresholds)
    every_field = Rulebook.fields_read(plan.definition)
    baseline = durable_adapter.compiled_ruleset("bench-baseline", lambda: plan.definition)
    slim = lambda facts: [{k: v for k, v in f.items() if k in every_field[f["t"]]} for f in facts if f["t"] in every_field]
    ledger = slim([{"t": "ledger", "id": "ledger", **dict.fromkeys(plan.ledger_fields, 0)}])
    fact_sets = [build_facts(d, locate(d, book.stage_models[d.stage_model])) for d in deals]

    def bare(facts):
        with baseline.session() as session:
            session.run(slim(facts.facts), lambda name, match: ())
            session.run([dict(f) for f in ledger], lambda name, match: ())

    def floor(deal):
        facts = build_facts(deal, locate(deal, book.stage_models[deal.stage_model]))
        by_type = {}
        for fact in facts.facts:
            by_type.setdefault(fact["t"], []).append(fact)
        for fact in facts.facts:
            tests = plan.in_python.tests.get(fact["t"])
            if tests is not None:
                tests.answers(fact)
        for join in plan.in_python.joins:
            join.combinations(by_type)

    found["bare"] = best(bare, fact_sets)
    found["floor"] = best(floor, deals)
    split = plan.in_python
    found["rules_in_python"] = sum(len(t.rules) for t in split.tests.values()) + len(split.joins) + len(split.joins_after_ledger)
    found["rules_in_engine"] = len(plan.ruleset.definition) if plan.ruleset else 0
print(json.dumps(found))
"""


def worktree(ref: str) -> Path:
    """The earlier commit checked out (once) under build/bench-trees/, importable as `dealcoach` from the returned folder."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], capture_output=True, text=True, check=True).stdout.strip()
    base = ROOT / "build" / "bench-trees" / commit
    tree = base / "dealcoach"
    if not tree.is_dir():
        base.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(tree), commit], capture_output=True, check=True)
    return base


def child(import_root: Path | None, deals: int, repeat: int, extra: bool) -> dict:
    environment = dict(os.environ)
    if import_root is not None:  # an earlier tree found before the installed one
        environment["PYTHONPATH"] = os.pathsep.join([str(import_root), environment.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", _CHILD, str(HERE), str(deals), str(repeat), "extra" if extra else "-"],
                         capture_output=True, text=True, env=environment, check=False)
    if run.returncode != 0:
        raise SystemExit(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="b03bf73", help="the earlier commit (default: before the base-fact rules moved to Python)")
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the deals inside each child (best kept)")
    args = parser.parse_args()
    earlier = worktree(args.against)
    best: dict[str, float] = {}
    facts: dict = {}
    started = time.perf_counter()
    for _ in range(args.rounds):
        for name, root, extra in (("earlier", earlier, False), ("now", None, True)):
            found = child(root, args.deals, args.repeat, extra)
            if (root is not None) != str(found["package"]).startswith(str(earlier)):
                raise SystemExit(f"the {name} child imported {found['package']}: not the tree it was meant to measure")
            best[f"{name} review"] = max(best.get(f"{name} review", 0), found["review"])
            for key in ("bare", "floor"):
                if key in found:
                    best[key] = max(best.get(key, 0), found[key])
            facts.update({k: v for k, v in found.items() if k.startswith("rules_")})
    now, before, bare, floor = best["now review"], best["earlier review"], best["bare"], best["floor"]
    print(f"{args.deals} generated deals, best of {args.rounds} alternating rounds x {args.repeat} passes, "
          f"{time.perf_counter() - started:.0f} s; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"rules evaluated in Python: {facts.get('rules_in_python')}; left to durable-rules: {facts.get('rules_in_engine')}")
    rows = [
        (f"review -> JSON at {args.against} (before)", before),
        ("review -> JSON now", now),
        ("bare durable-rules baseline (every rule, no actions)", bare),
        ("Python floor (facts + compiled base-fact tests, no actions)", floor),
    ]
    for label, rate in rows:
        print(f"  {label:<62} {rate:8.0f} deals/s   {bare / rate:5.2f}x the bare baseline's time")
    print(f"  speed-up now vs before: {now / before:.2f}x; now vs bare: {bare / now:.2f}x the time; "
          f"now vs the Python floor: {floor / now:.2f}x the time")


if __name__ == "__main__":
    main()
