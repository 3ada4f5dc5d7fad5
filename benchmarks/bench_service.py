"""Load test of `dealcoach serve` on this machine (loopback only, bounded in time).

Starts the service with N worker processes on 127.0.0.1, then drives it from
one client process with C concurrent connections for S seconds per endpoint,
and prints requests/s, p50/p99 latency and errors for review and gate.

    python benchmarks/bench_service.py [--workers 2] [--concurrency 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_service(workers: int):
    """`dealcoach serve` on a free loopback port, up and answering /v1/health; yields (process, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cli = str(Path(sys.executable).with_name("dealcoach"))
    server = subprocess.Popen([cli, "serve", "--port", str(port), "--workers", str(workers)])
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=10)


async def drive(base: str, path: str, params: dict, deals: list[dict], concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker(offset: int) -> None:
            nonlocal errors
            index = offset
            while time.perf_counter() < deadline:
                body = deals[index % len(deals)]
                started = time.perf_counter()
                try:
                    answer = await client.post(path, params=params, json=body)
                    if answer.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)
                index += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


WRK_SCRIPT = """
local bodies = {}
local counter = 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
function request()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[(counter % #bodies) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %.1f %.2f %.2f %d %d\\n", summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def drive_wrk(url: str, deals: list[dict], connections: int, seconds: float) -> dict:
    """Load from wrk (C, one thread): the client costs the server's cores far less than a Python client."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        script, bodies = Path(folder) / "post.lua", Path(folder) / "bodies.jsonl"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        bodies.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in deals) + "\n", encoding="utf-8")
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(script), url, "--", str(bodies)],
            capture_output=True, text=True, check=True,
        ).stdout
    requests, per_second, p50, p99, errors, _ = next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]
    return {"requests": int(requests), "per_second": float(per_second), "p50_ms": float(p50), "p99_ms": float(p99), "errors": int(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx",
                        help="wrk (Debian package wrk) loads the server far more cheaply than the Python client.")
    args = parser.parse_args()
    with running_service(args.workers) as (_, base):
        deals = generate.deals(500, seed=11)
        targets = list(deals)
        print(f"server: {args.workers} workers; client: {args.client}, {args.concurrency} connections, {args.seconds:.0f} s per endpoint")
        asyncio.run(drive(base, "/v1/review", {}, targets, args.concurrency, 2))  # warm-up
        for name, path, params in (("review", "/v1/review", {}), ("gate", "/v1/gate", {"to": "proposal"})):
            if name == "gate":
                targets = [d for d in deals if d["stage_model"] == "standard-6"]
            if args.client == "wrk":
                query = "&".join(f"{k}={v}" for k, v in params.items())
                result = drive_wrk(f"{base}{path}" + (f"?{query}" if query else ""), targets, args.concurrency, args.seconds)
            else:
                result = asyncio.run(drive(base, path, params, targets, args.concurrency, args.seconds))
            print(f"  {name:<7} {result['requests']:6d} requests  {result['per_second']:6.0f}/s  "
                  f"p50 {result['p50_ms']:5.1f} ms  p99 {result['p99_ms']:5.1f} ms  errors {result['errors']}")


if __name__ == "__main__":
    main()
