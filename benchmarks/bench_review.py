"""Throughput of one process: review-to-JSON and review-with-text against a bare durable-rules baseline.

The baseline asserts the same facts as the engine (pass 1 and a ledger, trimmed
to the fields rules read) into a ruleset with the same conditions whose actions
do nothing, driven by the same adapter; the ratio shows what dealcoach adds on
top of durable-rules itself.

    python benchmarks/bench_review.py [--deals 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dealcoach  # noqa: E402
from dealcoach.engine import durable_adapter  # noqa: E402
from dealcoach.engine.facts import build_facts, locate  # noqa: E402
from dealcoach.engine.rendering import Renderer  # noqa: E402
from dealcoach.engine.evaluation import compiled  # noqa: E402
from dealcoach.rules import catalog  # noqa: E402

import generate  # noqa: E402


def _best_rate(run, items: list, repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            run(item)
        rates.append(len(items) / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    book = dealcoach.load_playbook()
    raw = generate.deals(args.deals)
    deals = [dealcoach.load_deal(d, book) for d in raw]
    renderer = Renderer(book)
    fact_sets = [build_facts(d, locate(d, book.stage_models[d.stage_model])) for d in deals]

    plan = compiled(catalog(), book.thresholds)
    ledger = plan.slim([{"t": "ledger", "id": "ledger", **dict.fromkeys(plan.ledger_fields, 0)}])
    baseline = durable_adapter.compiled_ruleset("bench-baseline", lambda: plan.ruleset.definition)

    def bare(facts) -> None:
        with baseline.session() as session:
            session.run(plan.slim(facts.facts), lambda name, match: ())
            session.run([dict(f) for f in ledger], lambda name, match: ())

    def to_json(deal) -> None:
        dealcoach.review(deal, playbook=book).model_dump_json()

    def to_text(deal) -> None:
        renderer.render(dealcoach.review(deal, playbook=book), lang="zh", fmt="text")

    def validate_and_json(record) -> None:
        dealcoach.review(record, playbook=book).model_dump_json()

    contacts = [len(d.contacts) for d in deals]
    findings = [len(dealcoach.review(d, playbook=book).findings) for d in deals]
    print(f"deals: {len(deals)}, contacts per deal: {min(contacts)}-{max(contacts)} (mean {statistics.mean(contacts):.1f}), "
          f"findings per deal: mean {statistics.mean(findings):.1f}")
    base = _best_rate(bare, fact_sets, args.repeat)
    rates = {
        "bare durable-rules baseline (same facts, no-op actions)": base,
        "review -> JSON (validated Deal in)": _best_rate(to_json, deals, args.repeat),
        "review -> JSON (dict in, validation included)": _best_rate(validate_and_json, raw, args.repeat),
        "review -> rendered zh text": _best_rate(to_text, deals, args.repeat),
    }
    for name, rate in rates.items():
        print(f"{name:<58} {rate:8.0f} deals/s   {base / rate:5.2f}x baseline time")


if __name__ == "__main__":
    main()
