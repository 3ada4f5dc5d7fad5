"""dealcoach.spark on one and two cores, against `dealcoach pipeline` (engine.pipeline.review_all) in the same run.

    python benchmarks/spark_scaling.py                 # 20,000 deals
    python benchmarks/spark_scaling.py --deals 100000
    python benchmarks/spark_scaling.py --repeat 3      # each figure the best of three rounds (a shared machine)
    python benchmarks/spark_scaling.py --deals 20000 --rollup-only   # the local[2] run and its roll-ups only

The deals (benchmarks/generate.py) are written as a JSON-Lines file, the CRM export Spark reads with
spark.read.text (--partitions splits of it). Each Spark run is a fresh Python process with its own JVM, so
its JVM start and a first small job (the JIT, the Python workers and their rule sets) are measured apart from
the job: review every deal and write the results as Parquet. The
local[2] run then builds the roll-up from that Parquet twice, side by side: dealcoach.spark.rollup (a partial
roll-up per partition on the executors, merged on the driver) and the way it was built before, every result
streamed to the driver (streamed_rollup below); both must give the same roll-up. The baseline reviews the same
lines with review_all, jobs=1 and jobs=2, in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def streamed_rollup(results):
    """The roll-up as dealcoach.spark.rollup built it before per-partition roll-ups: every `result` streamed to the
    driver (toLocalIterator, one partition at a time) and added to one RollupBuilder there."""
    from dealcoach.engine import api, pipeline
    from dealcoach.engine.rollup import RollupBuilder

    builder = RollupBuilder(ask=pipeline.question_maker(api.coach().renderer))
    for row in results.select("result").toLocalIterator():
        record = json.loads(row[0])
        builder.add(pipeline.digest(record), row[0] if record["ok"] else None)
    return builder.build()


def spark_run(master: str, path: str, output: str, partitions: int, with_rollup: bool) -> dict:
    """In a fresh process: JVM start, then the review job (results written as Parquet), then maybe the roll-up."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.perf_counter()
    from pyspark.sql import SparkSession

    size = os.path.getsize(path)
    session = (
        SparkSession.builder.master(master).appName("dealcoach-spark-scaling")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.files.maxPartitionBytes", str(-(-size // partitions)))  # the file in `partitions` splits
        # Reading the results back, Parquet's vectorized reader takes 4,096 rows at a time: ~100 MB of `result` column
        # (lines of ~25 kB), more than the default 1 GB heap of a local driver leaves free.
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    jvm = time.perf_counter() - started

    from dealcoach import spark as dealcoach_spark

    export = session.read.text(path).withColumnRenamed("value", "deal_json")
    started = time.perf_counter()  # the first job: the JVM's JIT, the Python workers, their rule sets
    dealcoach_spark.review(export.limit(64).repartition(8), column="deal_json").write.format("noop").mode("overwrite").save()
    warm = time.perf_counter() - started
    started = time.perf_counter()
    dealcoach_spark.review(export, column="deal_json", source="deals.jsonl").write.mode("overwrite").parquet(output)
    job = time.perf_counter() - started
    figures = {"jvm": jvm, "warm": warm, "job": job, "partitions": export.rdd.getNumPartitions()}
    if with_rollup:
        reviewed = session.read.parquet(output)
        times: dict[str, list[float]] = {"rollup": [], "streamed": []}
        for _ in range(2):  # each way twice, alternating, the faster kept: a first Python job of a kind starts its workers
            for way, build in (("rollup", dealcoach_spark.rollup), ("streamed", streamed_rollup)):
                started = time.perf_counter()
                built = build(reviewed)
                times[way].append(time.perf_counter() - started)
                if way == "rollup":
                    merged = built
                elif built.model_dump_json() != merged.model_dump_json():
                    figures["same_rollup"] = False
        figures.update({way: min(seconds) for way, seconds in times.items()}, first_rollup=times["rollup"][0], first_streamed=times["streamed"][0],
                       rolled_up=merged.deals_reviewed + merged.failed_count, rollup_partitions=reviewed.rdd.getNumPartitions())
    session.stop()
    return figures


def baseline(lines: list[str], jobs: int) -> float:
    """Seconds for review_all over the lines, worker processes' start included."""
    from dealcoach.engine import pipeline

    items = [pipeline.Item(f"deals.jsonl:{i}", line=line) for i, line in enumerate(lines, 1)]
    started = time.perf_counter()
    count = sum(1 for _ in pipeline.review_all(items, jobs=jobs))
    assert count == len(lines)
    return time.perf_counter() - started


def parquet_bytes(directory: str) -> int:
    return sum(p.stat().st_size for p in Path(directory).glob("*.parquet"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=20_000, help="how many deals (default 20,000)")
    parser.add_argument("--partitions", type=int, default=8, help="splits of the input file (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each figure is the best of them (default 1)")
    parser.add_argument("--rollup-only", action="store_true", help="only the local[2] run and its two roll-ups, no local[1] and no baseline")
    parser.add_argument("--child", nargs=4, metavar=("MASTER", "INPUT", "OUTPUT", "ROLLUP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        master, path, output, rollup = args.child
        print(json.dumps(spark_run(master, path, output, args.partitions, rollup == "yes")))
        return 0

    lines = [json.dumps(d, ensure_ascii=False) for d in generate.deals(args.deals)]
    with tempfile.TemporaryDirectory(prefix="dealcoach-spark-") as tmp:
        path = os.path.join(tmp, "deals.jsonl")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        deal_bytes = os.path.getsize(path) / len(lines)
        from dealcoach import spark as dealcoach_spark  # noqa: F401 - the same import check as the Spark runs
        from dealcoach.engine import pipeline

        pipeline._init_worker(None, None)
        sample = lines[: min(len(lines), 2000)]
        result_bytes = sum(len(pipeline.review_to_result(pipeline.Item(f"deals.jsonl:{i}", line=line)).line.encode()) + 1
                           for i, line in enumerate(sample, 1)) / len(sample)
        runs: dict[int, dict] = {}
        base: dict[int, float] = {}
        load = [os.getloadavg()[0]]
        for _ in range(args.repeat):  # each figure the best of the rounds: the one least disturbed by other work on the machine
            for cores in (2,) if args.rollup_only else (1, 2):
                output = os.path.join(tmp, f"results-{cores}")
                child = [sys.executable, __file__, "--partitions", str(args.partitions), "--child", f"local[{cores}]", path, output,
                         "yes" if cores == 2 else "no"]
                done = subprocess.run(child, capture_output=True, text=True)
                if done.returncode:
                    sys.exit(f"the local[{cores}] run failed:\n{done.stderr[-3000:]}")
                run = json.loads(done.stdout.strip().splitlines()[-1])
                run["written"] = parquet_bytes(output)
                if not run.get("same_rollup", True):
                    sys.exit(f"the local[{cores}] run: the merged roll-up differs from the streamed one")
                runs[cores] = {k: min(v, runs[cores][k]) if k in ("jvm", "warm", "job", "rollup", "streamed") else v
                               for k, v in run.items()} if cores in runs else run
            for jobs in () if args.rollup_only else (1, 2):
                base[jobs] = min(baseline(lines, jobs), base.get(jobs, float("inf")))
            load.append(os.getloadavg()[0])

    n = len(lines)
    print(f"deals: {n} (benchmarks/generate.py), {deal_bytes:.0f} bytes of JSON each; cores: {os.cpu_count()}; "
          f"input split in {runs[2]['partitions']} partitions")
    print(f"result line (JSON Lines, the `result` column): {result_bytes:.0f} bytes per deal; "
          f"as Parquet (snappy, all columns): {runs[2]['written'] / n:.0f} bytes per deal")
    print(f"best of {args.repeat} round(s); 1-minute load average at the start and after each round: {', '.join(f'{x:.1f}' for x in load)}")
    print()
    print(f"  {'run':<22} {'JVM start':>10} {'warm-up':>8} {'job':>8} {'deals/s':>8} {'speed-up':>9}")
    for cores in sorted(runs):
        run = runs[cores]
        speed = f"{runs[1]['job'] / run['job']:.2f}x" if cores == 2 and 1 in runs else ""
        print(f"  {f'spark local[{cores}]':<22} {run['jvm']:>9.1f}s {run['warm']:>7.1f}s {run['job']:>7.1f}s {n / run['job']:>8.0f} {speed:>9}")
    for jobs in sorted(base):
        speed = f"{base[1] / base[jobs]:.2f}x" if jobs == 2 else ""
        print(f"  {f'review_all jobs={jobs}':<22} {'-':>10} {'-':>8} {base[jobs]:>7.1f}s {n / base[jobs]:>8.0f} {speed:>9}")
    print("  (JVM start: SparkSession.getOrCreate in a fresh process; warm-up: a first 64-deal job; job: every deal reviewed and\n"
          "   written as Parquet; review_all: worker processes' start included)")
    print()
    if base:
        print(f"  Spark against the pipeline: local[1] {base[1] / runs[1]['job']:.2f}x the speed of jobs=1, "
              f"local[2] {base[2] / runs[2]['job']:.2f}x the speed of jobs=2")
    rolled = runs[2]
    rows = rolled["rolled_up"]
    print(f"  roll-up of the {rows} Parquet results ({rolled['rollup_partitions']} partitions), local[2], the same roll-up both ways "
          "(each the faster of two, alternating):")
    print(f"    {'streamed to the driver (before)':<40} {rolled['streamed']:>6.1f}s {rows / rolled['streamed']:>7.0f} rows/s")
    print(f"    {'per partition, merged on the driver':<40} {rolled['rollup']:>6.1f}s {rows / rolled['rollup']:>7.0f} rows/s"
          f"   {rolled['streamed'] / rolled['rollup']:.2f}x the speed")
    print(f"    (the first of each: streamed {rolled['first_streamed']:.1f}s, per partition {rolled['first_rollup']:.1f}s, "
          "which starts the Python workers of its kind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
