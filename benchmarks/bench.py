"""dealcoach performance, every figure from one run on deterministic generated deals.

    python benchmarks/bench.py                       # all sections, 100,000-evaluation memory run
    python benchmarks/bench.py --memory-evaluations 1000000
    python benchmarks/bench.py --only throughput,scaling

Sections:
  throughput  deals/s on one core: review -> JSON, review -> rendered text, and a
              bare durable-rules baseline (the same trimmed facts and ledger, the
              same conditions, actions that do nothing) to show the engine's overhead
  scaling     the pipeline with 1 and 2 worker processes, and the speed-up
  memory      resident memory over many evaluations in one process
  cold        `dealcoach gate` on one deal, against importing the dependencies alone
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import dealcoach  # noqa: E402
from dealcoach.engine import durable_adapter, pipeline  # noqa: E402
from dealcoach.engine.evaluation import compiled  # noqa: E402
from dealcoach.engine.facts import build_facts, locate  # noqa: E402
from dealcoach.engine.rendering import Renderer  # noqa: E402
from dealcoach.engine.rulebook import Rulebook  # noqa: E402
from dealcoach.rules import catalog  # noqa: E402

EXAMPLE = HERE.parent / "examples" / "example-deal.zh.yaml"


def best_rate(run, items: list, repeat: int) -> float:
    """Items per second, the best of `repeat` passes (the least disturbed by the machine)."""
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            run(item)
        rates.append(len(items) / (time.perf_counter() - start))
    return max(rates)


def throughput(raw: list[dict], repeat: int) -> None:
    book = dealcoach.load_playbook()
    deals = [dealcoach.load_deal(d, book) for d in raw]
    renderer = Renderer(book)
    plan = compiled(catalog(), book.thresholds)
    fact_sets = [build_facts(d, locate(d, book.stage_models[d.stage_model])) for d in deals]
    baseline = durable_adapter.compiled_ruleset("bench-baseline", lambda: plan.definition)
    every_field = Rulebook.fields_read(plan.definition)

    def slim(facts: list[dict]) -> list[dict]:
        return [{k: v for k, v in f.items() if k in every_field[f["t"]]} for f in facts if f["t"] in every_field]

    ledger = slim([{"t": "ledger", "id": "ledger", **dict.fromkeys(plan.ledger_fields, 0)}])

    def bare(facts) -> None:
        with baseline.session() as session:
            session.run(slim(facts.facts), lambda name, match: ())
            session.run([dict(f) for f in ledger], lambda name, match: ())

    contacts = [len(d.contacts) for d in deals]
    findings = [len(dealcoach.review(d, playbook=book).findings) for d in deals]
    print(f"deals: {len(deals)}; contacts per deal {min(contacts)}-{max(contacts)} (mean {statistics.mean(contacts):.1f}); "
          f"findings per deal: mean {statistics.mean(findings):.1f}; rules: {len(catalog().rules)}")
    base = best_rate(bare, fact_sets, repeat)
    rows = {
        "bare durable-rules baseline": base,
        "review -> JSON (validated Deal in)": best_rate(lambda d: dealcoach.review(d, playbook=book).model_dump_json(), deals, repeat),
        "review -> JSON (dict in, validation included)": best_rate(lambda d: dealcoach.review(d, playbook=book).model_dump_json(), raw, repeat),
        "review -> rendered zh text": best_rate(lambda d: renderer.render(dealcoach.review(d, playbook=book), lang="zh", fmt="text"), deals, repeat),
    }
    for name, rate in rows.items():
        print(f"  {name:<48} {rate:8.0f} deals/s per core   {base / rate:5.2f}x the baseline's time per deal")


def scaling(raw: list[dict]) -> None:
    # As `pipeline` reads a JSON-Lines file: the parent hands out lines, workers parse and review.
    items = [pipeline.Item(f"deals.jsonl:{i}", line=json.dumps(d, ensure_ascii=False)) for i, d in enumerate(raw)]
    timings, steady = {}, {}
    for jobs in (1, 2):
        start = time.perf_counter()
        first = None
        count = 0
        for _ in pipeline.review_all(items, jobs=jobs):
            count += 1
            first = first or time.perf_counter()
        end = time.perf_counter()
        timings[jobs], steady[jobs] = end - start, (count - 1) / (end - first)
        print(f"  pipeline --jobs {jobs}: {count} deals in {timings[jobs]:.2f} s = {count / timings[jobs]:.0f} deals/s with process start; "
              f"{steady[jobs]:.0f} deals/s once the first result is out")
    print(f"  speed-up 1 -> 2 workers: {timings[1] / timings[2]:.2f}x with process start, {steady[2] / steady[1]:.2f}x steady "
          f"(cores: {pipeline.default_jobs()})")


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(raw: list[dict], evaluations: int) -> None:
    book = dealcoach.load_playbook()
    deals = [dealcoach.load_deal(d, book) for d in raw]
    warm = min(10_000, evaluations // 10)
    for i in range(warm):
        dealcoach.review(deals[i % len(deals)], playbook=book).model_dump_json()
    start_mb = resident_mb()
    samples = []
    step = max(1, evaluations // 10)
    began = time.perf_counter()
    for i in range(evaluations):
        dealcoach.review(deals[i % len(deals)], playbook=book).model_dump_json()
        if (i + 1) % step == 0:
            samples.append(resident_mb())
    elapsed = time.perf_counter() - began
    print(f"  {evaluations:,} evaluations after {warm:,} warm-up, {elapsed:.0f} s ({evaluations / elapsed:.0f}/s)")
    print("  resident MB at each tenth: " + ", ".join(f"{mb:.1f}" for mb in samples))
    print(f"  growth: {samples[-1] - start_mb:+.1f} MB (from {start_mb:.1f} MB after warm-up; peak {max(samples):.1f} MB)")


def _median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold(runs: int) -> None:
    cli = str(Path(sys.executable).with_name("dealcoach"))
    gate = _median_seconds([cli, "gate", str(EXAMPLE), "--to", "bidding"], runs)
    floor = _median_seconds([sys.executable, "-c", "import durable.lang, pydantic, click, jinja2"], runs)
    fair = _median_seconds([sys.executable, "-c", "from pydantic import BaseModel; import durable.lang, click, jinja2, yaml"], runs)
    print(f"  dealcoach gate (one deal, text): {gate * 1000:.0f} ms median of {runs}")
    print(f"  floor `import durable.lang, pydantic, click, jinja2`: {floor * 1000:.0f} ms -> ratio {gate / floor:.2f}x")
    print(f"  with pydantic.BaseModel and yaml really loaded: {fair * 1000:.0f} ms -> ratio {gate / fair:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-evaluations", type=int, default=100_000)
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--only", default="throughput,scaling,memory,cold")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    raw = generate.deals(args.deals)
    print(f"dealcoach {dealcoach.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if "throughput" in sections:
        print("throughput (one process, one core):")
        throughput(raw, args.repeat)
    if "scaling" in sections:
        print("scaling:")
        scaling(generate.deals(max(args.deals, 4000), seed=7))
    if "memory" in sections:
        print("memory:")
        memory(raw, args.memory_evaluations)
    if "cold" in sections:
        print("cold start:")
        cold(args.cold_runs)


if __name__ == "__main__":
    main()
