"""Peak memory of `dealcoach pipeline` as the number of deals grows: the roll-up must not grow with the run.

    python benchmarks/pipeline_memory.py                          # 10,000 and 100,000 deals
    python benchmarks/pipeline_memory.py --sizes 10000,1000000    # the issue's comparison (about 15 minutes on 2 cores)

Each size runs the real command (`dealcoach pipeline - --jobs 2 --output /dev/null`) with generated deals fed
through a pipe as they are generated, so no file of that size is written. The parent's peak resident memory
(VmHWM, read from /proc just before it exits) and the largest worker's (getrusage of the children) are printed,
with each size's ratio to the first.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

_WATCH = r"""
import os, runpy, sys, atexit
def report():
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM"))
    os.write(2, f"PEAK {peak.split()[1]}\n".encode())
atexit.register(report)
sys.argv = ["dealcoach", *sys.argv[1:]]
from dealcoach.cli import main
main()
"""


def _feed(stream, count: int) -> None:
    rng = random.Random(20261124)
    try:
        for index in range(count):
            stream.write((json.dumps(generate.deal(rng, index), ensure_ascii=False) + "\n").encode())
    finally:
        stream.close()


def run(count: int, jobs: int) -> tuple[float, float, float]:
    """(parent peak MB, largest worker peak MB, seconds) for one pipeline run over `count` generated deals."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _WATCH, "pipeline", "-", "--jobs", str(jobs), "--output", "/dev/null", "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    feeder = threading.Thread(target=_feed, args=(process.stdin, count))
    feeder.start()
    stderr = process.stderr.read().decode()
    process.wait()
    feeder.join()
    elapsed = time.perf_counter() - start
    peak = next((int(line.split()[1]) for line in stderr.splitlines() if line.startswith("PEAK ")), None)
    if process.returncode not in (0, 1) or peak is None:  # 1: some deal had an error record (none expected)
        raise SystemExit(f"pipeline failed ({process.returncode}): {stderr[-2000:]}")
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest of any child so far
    return peak / 1024, max(workers, before) / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"pipeline over generated deals, --jobs {args.jobs}, Python {sys.version.split()[0]}")
    first = None
    for count in sizes:
        parent, worker, seconds = run(count, args.jobs)
        first = first or parent
        print(f"  {count:>9,} deals: parent peak {parent:7.1f} MB ({parent / first:4.2f}x the first size), "
              f"largest process (parent or worker) {worker:7.1f} MB, {seconds:6.0f} s ({count / seconds:,.0f} deals/s)", flush=True)


if __name__ == "__main__":
    main()
