"""What logs and metrics cost the service: `dealcoach serve` with them on and off, side by side, in one run.

Starts two real services on free loopback ports (subprocesses, the same workers each): one as shipped (a JSON
access line per request, Prometheus metrics), one with `--no-access-log --no-metrics`. Then drives them in
alternating rounds (on/off, off/on, ...: a shared, noisy machine drifts, and both see the same drift) with C
concurrent keep-alive connections posting the example deal to /v1/review, a fixed number of requests per
round, and prints requests/s and p50/p99 latency of each and the ratios on/off: of the totals, and the median
of each round's pair (two neighbours in time share the machine's mood). The target: p99 and requests/s within
10% with observability on. The access lines go to a file, as a log collector would take them.

    python benchmarks/service_observability.py [--workers 1] [--concurrency 8] [--requests 400] [--rounds 20]

One worker by default: with several, each round's connections land on the workers as the kernel hands them
out (seen with 2 workers and 8 connections: 8/0 in some rounds, 4/4 in others), which moves requests/s far
more than what is measured here. `--on '--no-metrics'` (or '--no-access-log') measures one part alone.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams: a full client library would cost the
two-core machine more CPU than the service's own logging does, and blur the difference being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEAL = ROOT / "examples" / "example-deal.en.yaml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_service(workers: int, options: list[str], log_file: Path):
    """`dealcoach serve` on a free loopback port until the block ends, ready (/v1/ready 200); yields the port."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("dealcoach")), "serve", "--port", str(port), "--workers", str(workers), *options]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALCOACH_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    with open(log_file, "wb") as log:
        server = subprocess.Popen(command, stderr=log, env=env)
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/ready", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"the service did not become ready: {' '.join(command)}")
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def review_request(port: int, body: bytes) -> bytes:
    head = (f"POST /v1/review HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


async def one_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer (Content-Length framed, as the service sends them); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def drive(port: int, request: bytes, concurrency: int, count: int) -> tuple[list[float], float, int]:
    """`count` requests over `concurrency` keep-alive connections; (latencies in s, elapsed s, errors)."""
    latencies: list[float] = []
    errors = 0
    remaining = count

    async def client() -> None:
        nonlocal remaining, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                writer.write(request)
                status = await one_answer(reader)
                latencies.append(time.perf_counter() - started)
                errors += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each service (2+: metrics in multiprocess mode)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="requests per round and service")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--on", default="", metavar="OPTIONS",
                        help="serve options of the 'on' service, e.g. '--no-metrics' to measure the logs alone")
    args = parser.parse_args()
    from dealcoach.engine.coach import Coach

    body = json.dumps(Coach.document(str(DEAL)), ensure_ascii=False, default=str).encode("utf-8")
    variants = {"on": args.on.split(), "off": ["--no-access-log", "--no-metrics"]}
    results = {name: {"latencies": [], "elapsed": 0.0, "errors": 0, "rates": [], "p99s": []} for name in variants}
    with tempfile.TemporaryDirectory() as folder, ExitStack() as services:
        ports = {name: services.enter_context(running_service(args.workers, options, Path(folder) / f"{name}.log"))
                 for name, options in variants.items()}
        requests = {name: review_request(port, body) for name, port in ports.items()}
        for name in variants:  # warm-up, not measured
            asyncio.run(drive(ports[name], requests[name], args.concurrency, args.requests))
        for round_number in range(args.rounds):
            order = list(variants) if round_number % 2 == 0 else list(reversed(variants))
            for name in order:
                latencies, elapsed, errors = asyncio.run(drive(ports[name], requests[name], args.concurrency, args.requests))
                result = results[name]
                result["latencies"] += latencies
                result["elapsed"] += elapsed
                result["errors"] += errors
                result["rates"].append(len(latencies) / elapsed)
                result["p99s"].append(percentile(latencies, 0.99))
        services.close()  # the services stop: every line they logged is written
        logged = sum(1 for _ in open(Path(folder) / "on.log", encoding="utf-8"))
    print(f"dealcoach serve --workers {args.workers} {args.on}; {args.concurrency} connections; {args.rounds} rounds of {args.requests} "
          f"POST /v1/review per service, alternating; {logged} log lines written with observability on")
    print(f"{'observability':<14}{'req/s':>8}{'median round req/s':>20}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    summary = {}
    for name, result in results.items():
        rate = len(result["latencies"]) / result["elapsed"]
        p50, p99 = percentile(result["latencies"], 0.50) * 1000, percentile(result["latencies"], 0.99) * 1000
        summary[name] = (rate, p50, p99)
        print(f"{name:<14}{rate:>8.0f}{statistics.median(result['rates']):>20.0f}{p50:>9.2f}{p99:>9.2f}{result['errors']:>8}")
    (on_rate, on_p50, on_p99), (off_rate, off_p50, off_p99) = summary["on"], summary["off"]
    on, off = results["on"], results["off"]
    paired_rate = statistics.median(a / b for a, b in zip(on["rates"], off["rates"], strict=True))
    paired_p99 = statistics.median(a / b for a, b in zip(on["p99s"], off["p99s"], strict=True))
    print(f"on/off, totals:            req/s {on_rate / off_rate:.3f}, p50 {on_p50 / off_p50:.3f}, p99 {on_p99 / off_p99:.3f}")
    print(f"on/off, median round pair: req/s {paired_rate:.3f}, p99 {paired_p99:.3f}   (target: req/s >= 0.90, p99 <= 1.10)")


if __name__ == "__main__":
    main()
