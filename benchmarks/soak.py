"""Soak tests, each bounded in time, on this machine only (loopback):

  pipeline-kill  review a generated JSON-Lines batch with 2 workers, SIGKILL the run after
                 a few seconds, check every complete line parses, resume, and check the
                 result is one record per deal in input order
  http           sustained concurrent load on `dealcoach serve` for --minutes, sampling the
                 workers' resident memory; reports errors and memory growth

    python benchmarks/soak.py --only pipeline-kill
    python benchmarks/soak.py --only http --minutes 3

(One process reviewing a million deals with flat memory: bench.py --only memory
--memory-evaluations 1000000.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from bench_service import drive, running_service  # noqa: E402

CLI = str(Path(sys.executable).with_name("dealcoach"))


def pipeline_kill(deals: int, kill_after: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "deals.jsonl", Path(folder) / "out.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for deal in generate.deals(deals, seed=3):
                handle.write(json.dumps(deal, ensure_ascii=False) + "\n")
        run = subprocess.Popen([CLI, "pipeline", str(source), "-o", str(out), "-j", "2", "-q"], stderr=subprocess.DEVNULL)
        time.sleep(kill_after)
        workers = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
        run.send_signal(signal.SIGKILL)
        run.wait()
        time.sleep(3)
        orphans = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        raw = out.read_bytes()
        lines = raw.split(b"\n")
        complete = lines[:-1]
        torn = len(lines[-1])
        parsed = sum(1 for line in complete if json.loads(line))
        print(f"  killed after {kill_after:.0f} s: {parsed} complete lines, all parse; torn tail: {torn} bytes; "
              f"worker processes left running 3 s later: {len(orphans)} of {len(workers)}")
        started = time.perf_counter()
        done = subprocess.run([CLI, "pipeline", str(source), "-o", str(out), "-j", "2", "-q", "--resume", "--summary", os.devnull])
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        in_order = [r["source"] for r in records] == [f"{source}:{i}" for i in range(1, deals + 1)]
        print(f"  resumed in {time.perf_counter() - started:.1f} s, exit {done.returncode}: {len(records)} records for {deals} deals, "
              f"input order kept: {in_order}")


def worker_rss_mb(server: subprocess.Popen) -> float:
    """Resident memory of the server and all its worker processes."""
    total = 0
    pids = [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def http(minutes: float, concurrency: int) -> None:
    with running_service(2) as (server, base):
        deals = generate.deals(400, seed=5)
        asyncio.run(drive(base, "/v1/review", {}, deals, concurrency, 5))  # warm-up
        samples = [worker_rss_mb(server)]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(max(1.0, minutes * 6)):
                samples.append(worker_rss_mb(server))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = asyncio.run(drive(base, "/v1/review", {}, deals, concurrency, minutes * 60))
        stop.set()
        samples.append(worker_rss_mb(server))
        print(f"  {minutes:g} min at {concurrency} connections: {result['requests']} requests, {result['per_second']:.0f}/s, "
              f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, errors {result['errors']}")
        print("  server + workers resident MB: " + ", ".join(f"{mb:.0f}" for mb in samples)
              + f"  (growth {samples[-1] - samples[0]:+.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="pipeline-kill,http")
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--kill-after", type=float, default=6.0)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sections = set(args.only.split(","))
    if "pipeline-kill" in sections:
        print("pipeline killed mid-run, then resumed:")
        pipeline_kill(args.deals, args.kill_after)
    if "http" in sections:
        print("HTTP service under sustained load:")
        http(args.minutes, args.concurrency)


if __name__ == "__main__":
    main()
