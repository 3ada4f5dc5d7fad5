"""What the decision log costs a review, side by side in one run: no log, a SQLite file, a PostgreSQL server.

    python benchmarks/decision_log.py                 # 300 deals per round, 5 alternating rounds
    python benchmarks/decision_log.py --no-postgres   # where no PostgreSQL server binaries are installed

For each round, the same deals (the bundled examples under new ids) are
  reviewed                 coach.review only: the baseline
  reviewed + logged        each review written as its own transaction (what `review --store` and the service do)
  reviewed + batch-logged  the reviews written 500 to a transaction (what `pipeline --store` does)
to a fresh SQLite file and a fresh database on a PostgreSQL server started for the run (tests/pg_server.py). Rounds
alternate the variants so a noisy, shared machine slows them alike; the best round of each is reported.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dealcoach.engine import api  # noqa: E402
from dealcoach.engine.loading import read_document  # noqa: E402
from dealcoach.store import decision_of, open_store  # noqa: E402


def deals(count: int) -> list[dict]:
    examples = [read_document(str(path)) for path in sorted((ROOT / "examples").glob("*.yaml"))]
    return [dict(copy.deepcopy(examples[n % len(examples)]), id=f"BENCH-{n}") for n in range(count)]


def run(coach, documents: list[dict], store=None, batch: int = 0) -> float:
    """Seconds to review (and log) every deal."""
    digest = coach.playbook.version_tag
    started = time.perf_counter()
    pending = []
    for document in documents:
        deal = coach.deal(document)
        report = coach.review(deal)
        if store is None:
            continue
        decision = decision_of(report, deal, decision_id=str(uuid.uuid4()), caller="benchmark", playbook_digest=digest)
        if batch:
            pending.append(decision)
            if len(pending) == batch:
                store.record_many(pending)
                pending = []
        else:
            store.record(decision)
    if pending:
        store.record_many(pending)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    coach, documents = api.coach(), deals(options.deals)
    run(coach, documents[:20])  # warm: the rule set is built on the first review
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stores = {"SQLite": lambda name: open_store(str(folder / f"{name}.sqlite3"))}
        if not options.no_postgres:
            from pg_server import binaries, new_database, postgres_server

            if binaries() is None:
                sys.exit("no PostgreSQL server binaries here: install postgresql, or run with --no-postgres")
            server = stack.enter_context(postgres_server())
            stores["PostgreSQL"] = lambda name: open_store(new_database(server, name))
        variants = [("reviewed (baseline)", None, 0)]
        for backend in stores:
            variants += [(f"reviewed + logged, {backend}", backend, 0), (f"reviewed + batch-logged, {backend}", backend, 500)]
        best = {name: float("inf") for name, _, _ in variants}
        for round_number in range(options.rounds):
            for name, backend, batch in variants:
                store = stores[backend](f"r{round_number}_{uuid.uuid4().hex[:6]}") if backend else None
                best[name] = min(best[name], run(coach, documents, store, batch))
                if store is not None:
                    assert store.count()["decisions"] == len(documents)
                    store.close()
        shutil.rmtree(folder, ignore_errors=True)
    base = best["reviewed (baseline)"]
    print(f"{options.deals} deals, best of {options.rounds} alternating rounds")
    print(f"{'variant':40} {'deals/s':>9} {'ms/deal':>8} {'× baseline time':>16}")
    for name, _, _ in variants:
        seconds = best[name]
        print(f"{name:40} {options.deals / seconds:9.0f} {1000 * seconds / options.deals:8.2f} {seconds / base:16.2f}")


if __name__ == "__main__":
    main()
