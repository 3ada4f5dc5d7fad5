"""dealcoach.spark: the same result lines and the same roll-up as `dealcoach pipeline`, on a local Spark.

The 20,000-deal check reviews the deals twice at once: engine.pipeline.review_all(jobs=1) in a thread of
this process, started once Spark is up (the driver then only waits on the JVM), and Spark's local[2]
workers; on two cores the file takes about 75 s instead of over 90.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import pytest

try:
    import pyarrow as pa
except ImportError:  # the default run leaves these tests out; `pytest -m spark` needs `pip install -e '.[spark]'`
    pa = None

from generated import deals

pytestmark = pytest.mark.spark

COUNT = 20_000
LABEL = "deals.jsonl"  # the pipeline's source label for the same lines: deals.jsonl:<line number>
SCHEMA = pa.schema([("row", pa.int64()), ("deal", pa.string())]) if pa is not None else None


def _bad_deals() -> dict[int, tuple[str, str | None]]:
    """Bad deals by input position: the line, and the deal id its error record names."""
    stage, amount = deals(2, seed=7)
    stage.update(id="BAD-STAGE", stage="no_such_stage")  # valid JSON that fails validation against the playbook
    amount.update(id="BAD-AMOUNT", amount=-5.0)
    return {
        0: ("not JSON at all", None),
        4_999: (json.dumps(stage, ensure_ascii=False), "BAD-STAGE"),
        10_000: ('{"id": "TORN", "name": ', None),
        15_001: ("[1, 2, 3]", None),
        COUNT + 3: (json.dumps(amount, ensure_ascii=False), "BAD-AMOUNT"),
    }


class Batch:
    """The 20,000 good deals with the bad ones among them, and the pipeline's results for them, reviewed in a thread."""

    def __init__(self) -> None:
        from dealcoach.engine import pipeline

        good = iter(json.dumps(d, ensure_ascii=False) for d in deals(COUNT))
        self.bad = _bad_deals()
        self.lines = [self.bad[i][0] if i in self.bad else next(good) for i in range(COUNT + len(self.bad))]
        self.expected: list = []  # the pipeline's Results, in input order
        self.columns: list[dict] = []  # the typed columns each should give, read from its line
        self.rollup = None  # the roll-up built from them as `dealcoach pipeline` builds it
        self.error: BaseException | None = None
        items = [pipeline.Item(f"{LABEL}:{i + 1}", line=line) for i, line in enumerate(self.lines)]

        def run() -> None:
            from dealcoach.engine import api
            from dealcoach.engine.rollup import RollupBuilder

            try:
                builder = RollupBuilder(ask=pipeline.question_maker(api.coach().renderer))  # as cli.py's `pipeline` builds it
                for result in pipeline.review_all(items, jobs=1):
                    self.expected.append(result)
                    self.columns.append(typed(json.loads(result.line)))
                    builder.add(result.digest, result.line if result.ok else None)
                self.rollup = builder.build()
            except BaseException as error:  # noqa: BLE001 - raised again in the test that waits for it
                self.error = error

        self._thread = threading.Thread(target=run, name="pipeline-baseline", daemon=True)
        self._thread.start()

    def pipeline_results(self) -> tuple[list, list[dict], object]:
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert len(self.expected) == len(self.columns) == len(self.lines) and self.rollup is not None
        return self.expected, self.columns, self.rollup


@pytest.fixture(scope="session")
def batch() -> Batch:
    return Batch()


@pytest.fixture(scope="session")
def spark():
    """A local Spark on two cores, quiet, with this interpreter (and so this dealcoach) as the workers' Python."""
    if pa is None:
        pytest.fail("the Spark tests need the spark extra: pip install -e '.[spark]' (and Java 17+)")
    from pyspark.sql import SparkSession

    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]").appName("dealcoach-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        # The JVM only moves Arrow batches here: its quick JIT tier starts it seconds sooner.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if before is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = before


def json_column(spark, lines: list[str | None], partitions: int):
    """One string column `deal`, in input order: parallelize slices the list into contiguous partitions."""
    return spark.sparkContext.parallelize([(line,) for line in lines], partitions).toDF("deal string")


def typed(record: dict) -> dict:
    """The typed columns of a result row, as RESULT_SCHEMA documents them, from the result record."""
    if not record["ok"]:
        return {"ok": False, "grade": None, "stage": None, "phase": None, "blocking": None, "warnings": None, "codes": None,
                "error_kind": record["error"]["kind"]}
    report = record["report"]
    findings = report["findings"]
    shown = sorted((f for f in findings if not f["folded"]), key=lambda f: f["rank"])
    return {"ok": True, "grade": report["grade"], "stage": report["stage"]["id"], "phase": report["phase"],
            "blocking": sum(f["severity"] == "block" for f in findings), "warnings": sum(f["severity"] == "warn" for f in findings),
            "codes": [f["code"] for f in shown], "error_kind": None}


def with_source(line: str, old: str, new: str) -> str:
    """A result line with its `source` (the record's first field) changed from `old` to `new`, the rest byte for byte."""
    before, after = f'{{"source": {json.dumps(old, ensure_ascii=False)}, ', f'{{"source": {json.dumps(new, ensure_ascii=False)}, '
    assert line.startswith(before), line[:80]
    return after + line[len(before):]


def test_the_same_lines_and_roll_up_as_the_pipeline(spark, batch):
    from pyspark import StorageLevel

    from dealcoach import spark as dealcoach_spark

    frame = json_column(spark, batch.lines, partitions=6)
    assert frame.rdd.getNumPartitions() >= 4
    results = dealcoach_spark.review(frame, column="deal").persist(StorageLevel.DISK_ONLY)  # read twice: lines, then the roll-up
    try:
        assert results.count() == len(batch.lines)
        compiled = once_per_process(spark)
        assert compiled and set(compiled.values()) == {1}, compiled  # every worker that reviewed compiled the rule set once

        rows = results.toArrow().to_pylist()  # in partition order, so in input order
        assert len(rows) == len(batch.lines)
        assert_row_ids([row["source"] for row in rows], "spark", partitions=6)
        expected, columns, from_pipeline = batch.pipeline_results()
        wrong, sources = [], {}
        for position, row in enumerate(rows):
            theirs = f"{LABEL}:{position + 1}"
            sources[theirs] = row["source"]
            found = {k: v for k, v in row.items() if k not in ("source", "deal_id", "result")}
            if row["deal_id"] != expected[position].digest.deal_id:
                wrong.append((position, "deal id", row["deal_id"], expected[position].digest.deal_id))
            elif row["result"] != with_source(expected[position].line, theirs, row["source"]):  # so the Spark line's JSON is the pipeline's
                wrong.append((position, "result line", row["result"][:200], expected[position].line[:200]))
            elif found != columns[position]:
                wrong.append((position, "typed columns", found, columns[position]))
            if position in batch.bad and (row["ok"] or row["error_kind"] != "invalid_deal" or row["deal_id"] != batch.bad[position][1]):
                wrong.append((position, "bad deal", row))
        assert not wrong, f"{len(wrong)} rows differ from the pipeline's; the first: {wrong[:3]}"
        assert [i for i, r in enumerate(expected) if not r.ok] == sorted(batch.bad)
        del rows

        built = dealcoach_spark.rollup(results)
        # The one field that differs by construction: a failed deal's source label (deals.jsonl:N against spark:<row id>).
        from_pipeline = from_pipeline.model_copy(
            update={"deals_failed": [f.model_copy(update={"source": sources[f.source]}) for f in from_pipeline.deals_failed]}
        )
        assert built.deals_reviewed == COUNT and built.failed_count == len(batch.bad) and built.agenda
        assert built.model_dump() == from_pipeline.model_dump()
    finally:
        results.unpersist()


def test_many_partitions_are_merged_level_by_level_in_their_order(spark, monkeypatch):
    """More partitions than the driver takes at once (_FAN_IN, made 2 here): consecutive partial roll-ups are merged
    on the executors, level by level, in partition order (the failed deals named are the first ones)."""
    from dealcoach import spark as dealcoach_spark
    from dealcoach.engine import api, pipeline
    from dealcoach.engine.rollup import RollupBuilder

    lines = [json.dumps(d, ensure_ascii=False) for d in deals(40, seed=5)] + ["not JSON"] * 25
    lines = [lines[(i * 29) % len(lines)] for i in range(len(lines))]  # the failed deals spread among the others
    results = [r.line for r in pipeline.review_all((pipeline.Item(f"d:{i}", line=line) for i, line in enumerate(lines)), jobs=1)]
    builder = RollupBuilder(ask=pipeline.question_maker(api.coach().renderer))
    for line in results:
        record = json.loads(line)
        builder.add(pipeline.digest(record), line if record["ok"] else None)
    monkeypatch.setattr(dealcoach_spark, "_FAN_IN", 2)
    frame = spark.sparkContext.parallelize([(line,) for line in results], 9).toDF("result string")  # some partitions hold 7, some 8
    built = dealcoach_spark.rollup(frame)
    assert built.failed_count == 25 and built.model_dump_json() == builder.build().model_dump_json()
    broken = spark.sparkContext.parallelize([(line,) for line in [*results[:20], '{"ok": true}', *results[20:]]], 3).toDF("result string")
    with pytest.raises(ValueError, match=r"row 21 of partition 0 of `results`: its `result` is not a record dealcoach wrote"):
        dealcoach_spark.rollup(broken)


def assert_row_ids(sources: list[str], label: str, partitions: int) -> None:
    """The labels are `label:<monotonically_increasing_id()>`: partition index * 2**33 + position in the partition, in order."""
    ids = [int(s.removeprefix(f"{label}:")) for s in sources]
    assert all(s == f"{label}:{i}" for s, i in zip(sources, ids, strict=True))
    parts = [i >> 33 for i in ids]
    assert parts == sorted(parts) and set(parts) <= set(range(partitions))
    for part in set(parts):
        assert [i & ((1 << 33) - 1) for i in ids if i >> 33 == part] == list(range(parts.count(part)))


def once_per_process(spark) -> dict[int, int]:
    """Per Python worker process that compiled a rule set: how many times it did (probed on the reused workers)."""

    def probe(batches):
        from dealcoach import spark as dealcoach_spark

        for _ in batches:
            pass
        yield pa.RecordBatch.from_pylist([{"pid": os.getpid(), "compiled": dealcoach_spark._compilations}])

    rows = spark.range(0, 16, numPartitions=16).mapInArrow(probe, "pid long, compiled long").collect()
    return {r.pid: r.compiled for r in rows if r.compiled}


def test_deal_fields_as_columns_give_the_same_findings(spark, tmp_path):
    from dealcoach import spark as dealcoach_spark

    lines = [json.dumps(d, ensure_ascii=False) for d in deals(50, seed=11)]
    (tmp_path / "deals.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = spark.read.json(str(tmp_path / "deals.jsonl"))  # nested structs and arrays; a field a deal lacks is null
    assert {"contacts", "customer", "budget"} <= set(fields.columns)
    as_columns = {r.deal_id: r for r in dealcoach_spark.review(fields, source="crm").collect()}
    as_json = {r.deal_id: r for r in dealcoach_spark.review(json_column(spark, lines, 3), column="deal").collect()}
    assert len(as_columns) == len(as_json) == 50 and all(r.ok for r in as_columns.values())
    for deal_id, row in as_json.items():
        other = as_columns[deal_id]
        assert other.source.startswith("crm:")
        assert (other.grade, other.stage, other.phase, other.blocking, other.warnings, other.codes) == (
            row.grade, row.stage, row.phase, row.blocking, row.warnings, row.codes)
        assert json.loads(other.result)["report"] == json.loads(row.result)["report"], deal_id


def test_a_null_or_oversized_deal_is_an_error_row(spark):
    from dealcoach import spark as dealcoach_spark
    from dealcoach.engine.loading import MAX_BYTES

    good = json.dumps(deals(1)[0], ensure_ascii=False)
    huge = '{"id": "HUGE", "name": "' + "x" * MAX_BYTES + '"}'  # the pipeline skips a line this long unread
    rows = dealcoach_spark.review(json_column(spark, [good, None, huge], 1), column="deal").collect()
    assert [(r.ok, r.error_kind) for r in rows] == [(True, None), (False, "invalid_deal"), (False, "invalid_deal")]
    messages = [json.loads(r.result)["error"]["problems"][0]["message"] for r in rows[1:]]
    assert messages[0].startswith("the deal is null") and messages[1] == f"the deal is {len(huge)} bytes; the limit is {MAX_BYTES}"


def test_columns_a_user_gets_wrong_are_named(spark):
    from dealcoach import spark as dealcoach_spark

    frame = spark.createDataFrame([("{}", 1)], "deal_json string, amount int")
    with pytest.raises(ValueError, match=r"no column 'deal'.*'deal_json', 'amount'"):
        dealcoach_spark.review(frame, column="deal")
    with pytest.raises(ValueError, match=r"column 'amount' is int, not string"):
        dealcoach_spark.review(frame, column="amount")
    with pytest.raises(ValueError, match=r"not deal fields: 'deal_json'"):
        dealcoach_spark.review(frame)
    with pytest.raises(ValueError, match=r"lang='fr'"):
        dealcoach_spark.review(frame, column="deal_json", lang="fr")
    with pytest.raises(ValueError, match=r"`results` has no column 'result'"):
        dealcoach_spark.rollup(frame)


def test_the_rule_set_is_compiled_once_per_process_not_per_batch(monkeypatch):
    """The mapInArrow function itself, run here: many batches over two partitions, one compilation."""
    from dealcoach import spark as dealcoach_spark
    from dealcoach.engine import pipeline

    calls = []
    real = pipeline._init_worker

    def counted(*args):
        calls.append(args)
        real(*args)

    monkeypatch.setattr(pipeline, "_init_worker", counted)
    monkeypatch.setattr(dealcoach_spark, "_compiled_for", None)
    monkeypatch.setattr(dealcoach_spark, "_OUT_ROWS", 2)
    lines = [json.dumps(d, ensure_ascii=False) for d in deals(9, seed=3)] + ["{"]

    def partition(first: int):
        """Three batches (5, 0 and 5 rows), the last row a torn deal."""
        rows = [{"row": first + i, "deal": line} for i, line in enumerate(lines)]
        return iter([pa.RecordBatch.from_pylist(part, schema=SCHEMA) for part in (rows[:5], [], rows[5:])])

    out = [b for p in (0, 1 << 33) for b in dealcoach_spark._review_batches(partition(p), playbook=None, lang=None, source="t")]
    assert calls == [(None, None)]
    assert [b.num_rows for b in out] == [2, 2, 1, 2, 2, 1] * 2
    last = out[-1].to_pylist()[0]
    assert last["source"] == f"t:{(1 << 33) + 9}" and last["error_kind"] == "invalid_deal"
