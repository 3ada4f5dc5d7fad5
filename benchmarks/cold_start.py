"""`dealcoach gate` on one deal from a cold process, against the import floor and an earlier commit, side by side.

    python benchmarks/cold_start.py --against b03bf73
    python benchmarks/cold_start.py --against b03bf73 --rounds 15

Each round runs every command once, in turn (the machine is shared and noisy: medians are compared). The commands:
- floor: `import durable.lang, pydantic, click, jinja2` (what the gate cannot avoid importing);
- floor with pydantic in use: the same, plus `from pydantic import BaseModel` and one small model. `import pydantic`
  alone loads next to nothing (its names load on first use); validating anything costs this much more;
- gate now, and gate at the earlier commit (checked out once as a worktree under build/bench-trees/).
The template and rule-code cache (engine.code_cache) is warmed once per tree, as on a machine that ran dealcoach before.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from throughput import ROOT, worktree

DEAL = ROOT / "examples" / "example-deal.en.yaml"
FLOOR = "import durable.lang, pydantic, click, jinja2"
PYDANTIC_IN_USE = FLOOR + "\nfrom pydantic import BaseModel\nclass Probe(BaseModel):\n    x: int\nProbe(x=1)"
GATE = "from dealcoach.entry import main; main()"


def run(code: str, arguments: list[str], environment: dict[str, str]) -> float:
    """Wall time of one fresh interpreter running `code`, in milliseconds."""
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-c", code, *arguments], env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if finished.returncode not in (0, 1):  # gate: 1 = may not advance
        raise SystemExit(f"{code!r} {arguments} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="b03bf73", help="the earlier commit (default: before this work on speed)")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    earlier = worktree(args.against)
    gate_arguments = ["gate", str(DEAL), "--to", "negotiation"]
    with tempfile.TemporaryDirectory() as cache:
        base = {**os.environ, "DEALCOACH_CACHE_DIR": cache}
        base.pop("PYTHONDONTWRITEBYTECODE", None)  # a real install has its bytecode compiled
        at_earlier = {**base, "PYTHONPATH": os.pathsep.join([str(earlier), base.get("PYTHONPATH", "")])}
        commands = {
            "floor": (FLOOR, [], base),
            "floor, pydantic in use": (PYDANTIC_IN_USE, [], base),
            f"gate at {args.against} (before)": (GATE, gate_arguments, at_earlier),
            "gate now": (GATE, gate_arguments, base),
        }
        for code, arguments, environment in commands.values():  # bytecode and caches written, files in the page cache
            run(code, arguments, environment)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, (code, arguments, environment) in commands.items():
                times[name].append(run(code, arguments, environment))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor, in_use = medians["floor"], medians["floor, pydantic in use"]
    print(f"one deal ({DEAL.name}), medians of {args.rounds} alternating rounds; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for name, value in medians.items():
        print(f"  {name:<32} {value:7.0f} ms   {value / floor:5.2f}x the floor   {value / in_use:5.2f}x the floor with pydantic in use")


if __name__ == "__main__":
    main()
