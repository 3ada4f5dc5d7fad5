"""Reviewing deals held in a Spark DataFrame: one result row per deal, and the manager's roll-up of them.

    from dealcoach import spark as dealcoach_spark
    results = dealcoach_spark.review(spark.read.parquet("crm_export/"), column="deal_json")
    results.write.parquet("results/")
    rollup = dealcoach_spark.rollup(spark.read.parquet("results/"))

Each executor's Python process loads the playbook and compiles the rule set once, on its first batch, and
reviews every later batch with it (`engine.pipeline._init_worker`). A deal that cannot be reviewed (not JSON,
fails validation) is an error row, never a failed job: the row's `result` is the error record `dealcoach
pipeline` writes for it. The roll-up is counted per partition on the executors and merged on the driver.

Needs pyspark with pandas and pyarrow on the driver, and dealcoach in the executors' Python (PYSPARK_PYTHON):
`pip install 'dealcoach[spark]'`.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import zlib
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

_MISSING = [name for name in ("pyspark", "pyarrow", "pandas") if importlib.util.find_spec(name) is None]
if _MISSING:
    raise ImportError(
        f"dealcoach.spark needs {', '.join(_MISSING)} (not installed here): pip install 'dealcoach[spark]' "
        "(and Java 17 or later for Spark itself)"
    )

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

    from .engine.rollup import Rollup, RollupBuilder

__all__ = ["RESULT_SCHEMA", "review", "rollup"]

RESULT_SCHEMA = (
    "source string, deal_id string, ok boolean, grade string, stage string, phase string, "
    "blocking int, warnings int, codes array<string>, error_kind string, result string"
)
"""The rows `review` gives, one per input row:

source      `{source}:{row id}`, the row id being Spark's monotonically_increasing_id() of the input row
            (partition index * 2**33 + position in the partition): the same for the same DataFrame and partitioning
deal_id     the deal's id; null when the row held no readable deal
ok          whether the deal was reviewed
grade       A/B/C/D, null when ungraded or not reviewed
stage       the stage id; phase: the deal's phase (qualify, entry, ..., after_contract); null when not reviewed
blocking    findings of severity `block`; warnings: findings of severity `warn` (shown or folded); null when not reviewed
codes       the codes of the findings shown (not folded), in rank order, one per finding; null when not reviewed
error_kind  null when ok; else invalid_deal (not JSON, or it does not validate), internal_error, or a dealcoach error's name
result      the exact JSON line `dealcoach pipeline` writes for the deal (the report, or the error record)
"""

_ROW, _DEAL = "row", "deal"  # the two columns handed to the Python workers
_OUT_ROWS = 512  # rows per output batch: a result line is ~15 kB, so a batch stays a few MB whatever Spark hands in
_FAN_IN = 16  # partial roll-ups merged by one task, level by level on the executors, until the driver has this many at most


# -- on the executors -------------------------------------------------------------

_compiled_for: tuple | None = None  # (playbook, lang, coach) this process's rule set was compiled for
_compilations = 0  # how often this process compiled a rule set (once, unless asked for another playbook or lang)


def _ready(playbook: str | None, lang: str | None) -> None:
    """Load the playbook and compile the rule set in this process, unless that is done already for `playbook` and `lang`."""
    global _compiled_for, _compilations
    from .engine import pipeline

    if _compiled_for is not None:
        done_playbook, done_lang, coach = _compiled_for
        current = pipeline._worker_coach is coach and pipeline._worker_lang == lang and not pipeline._worker_keeps_deals
        if current and (done_playbook, done_lang) == (playbook, lang):
            return
    pipeline._init_worker(playbook, lang)
    _compiled_for = (playbook, lang, pipeline._worker_coach)
    _compilations += 1


def _review_batches(batches: Iterator[pa.RecordBatch], *, playbook: str | None, lang: str | None, source: str) -> Iterator[pa.RecordBatch]:
    """The mapInArrow function: (row id, deal JSON) batches in, result batches of at most _OUT_ROWS rows out."""
    import pyarrow as pa

    for batch in batches:
        if batch.num_rows == 0:
            continue
        _ready(playbook, lang)
        rows, deals = batch.column(0).to_pylist(), batch.column(1).to_pylist()
        for start in range(0, len(rows), _OUT_ROWS):
            window = zip(rows[start : start + _OUT_ROWS], deals[start : start + _OUT_ROWS], strict=True)
            results = [_review_row(f"{source}:{row}", deal) for row, deal in window]
            yield pa.RecordBatch.from_pylist(results, schema=_arrow_schema())


def _review_row(label: str, deal: str | None) -> dict[str, Any]:
    """One result row: the deal reviewed as `dealcoach pipeline` reviews a JSON line, and the typed columns read from its result."""
    from .engine.errors import DealInputError, InputProblem
    from .engine.loading import MAX_BYTES
    from .engine.pipeline import Item, review_to_result

    if deal is None:
        item = Item(label, error=DealInputError(label, [InputProblem("", "the deal is null: the row holds no deal")]))
    elif len(deal) * 4 > MAX_BYTES and (size := len(deal.encode("utf-8"))) > MAX_BYTES:  # as the pipeline refuses a long line
        item = Item(label, error=DealInputError(label, [InputProblem("", f"the deal is {size} bytes; the limit is {MAX_BYTES}")]))
    else:
        item = Item(label, line=deal)
    result = review_to_result(item)
    record = json.loads(result.line)
    row = {"source": record["source"], "deal_id": record.get("deal_id"), "ok": record["ok"], "grade": None, "stage": None,
           "phase": None, "blocking": None, "warnings": None, "codes": None, "error_kind": None, "result": result.line}
    if not record["ok"]:
        row["error_kind"] = record["error"]["kind"]
        return row
    report = record["report"]
    findings = report["findings"]
    shown = sorted((f for f in findings if not f.get("folded")), key=lambda f: (f.get("rank") is None, f.get("rank") or 0))
    row.update(
        grade=report.get("grade"), stage=report["stage"]["id"], phase=report.get("phase"),
        blocking=sum(1 for f in findings if f["severity"] == "block"), warnings=sum(1 for f in findings if f["severity"] == "warn"),
        codes=[f["code"] for f in shown],
    )
    return row


_SCHEMA: Any = None


def _arrow_schema() -> pa.Schema:
    global _SCHEMA
    if _SCHEMA is None:
        import pyarrow as pa

        text, flag, count = pa.string(), pa.bool_(), pa.int32()
        _SCHEMA = pa.schema([
            ("source", text), ("deal_id", text), ("ok", flag), ("grade", text), ("stage", text), ("phase", text),
            ("blocking", count), ("warnings", count), ("codes", pa.list_(text)), ("error_kind", text), ("result", text),
        ])
    return _SCHEMA


def _count_partition(part: int, rows: Iterator, *, top: int) -> Iterator[tuple[int, bytes]]:
    """The function `rollup` maps over the partitions of the `result` column: its rows in, one at a time (as Spark
    streams them to Python, in small batches), and one pair out, the partition's index and its roll-up, packed."""
    yield part, _pack(_partial_rollup((row[0] for row in rows), part, top))


def _partial_rollup(lines: Iterable[str | None], part: int, top: int) -> RollupBuilder | str:
    """The roll-up of one partition's result lines, as `dealcoach pipeline` counts them; or, for a line that is not
    a record dealcoach wrote, the message saying which (the driver raises it)."""
    from pydantic import ValidationError

    from .engine import pipeline
    from .engine.rollup import RollupBuilder

    builder = RollupBuilder(top=top)
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
            summary = pipeline.digest(record)
        except (TypeError, KeyError, ValueError, ValidationError) as error:  # ValidationError and JSONDecodeError are ValueErrors
            return (f"row {number} of partition {part} of `results`: its `result` is not a record dealcoach wrote "
                    f"({type(error).__name__}: {error})")
        builder.add(summary, line if record["ok"] else None)
    return builder


def _pack(state: RollupBuilder | str) -> bytes:
    """A partial roll-up as bytes: pickled (the result lines of its first-screen candidates are most of it), compressed."""
    return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _merge_in_order(states: Iterable[tuple[int, bytes]], into: RollupBuilder) -> RollupBuilder | str:
    """The partial roll-ups merged into `into` in partition order; the first unreadable line's message, if any."""
    for _, packed in sorted(states, key=lambda state: state[0]):
        state = pickle.loads(zlib.decompress(packed))
        if isinstance(state, str):
            return state
        into.merge(state)
    return into


def _grouped(state: tuple[int, bytes], *, fan_in: int) -> tuple[int, tuple[int, bytes]]:
    """A partial roll-up keyed by its group at the next merge level: `fan_in` consecutive ones a group."""
    return state[0] // fan_in, state


def _identity(group: int) -> int:
    """The partition a group goes to at the next merge level: its own."""
    return group


def _merge_group(states: Iterator[tuple[int, tuple[int, bytes]]], *, top: int) -> Iterator[tuple[int, bytes]]:
    """One task of a merge level: the consecutive partial roll-ups of one group (its index, (part, state)) merged into one."""
    from .engine.rollup import RollupBuilder

    keyed = list(states)
    if keyed:
        yield keyed[0][0], _pack(_merge_in_order([member for _, member in keyed], RollupBuilder(top=top)))


# -- on the driver ----------------------------------------------------------------


def review(deals: DataFrame, *, column: str | None = None, playbook: str | None = None, lang: str | None = None,
           source: str = "spark") -> DataFrame:
    """One result row per row of `deals` (RESULT_SCHEMA), computed lazily with mapInArrow.

    `column`: the string column holding one deal as a JSON object per row (a CRM export). None: every column
    of `deals` is a deal field (nested structs and arrays allowed), and each row becomes the deal's JSON with
    to_json(struct(...)); null fields are left out, which the deal model reads as unknown.
    `playbook`: a company playbook directory, readable at the same path on every executor (None: the shipped one).
    `lang`: fill in each finding's text in this language, as `dealcoach pipeline --with-text --lang` does.
    `source`: the label before each row's id in `source` and in error records.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    from .engine import api
    from .engine.playbook import LANGUAGES

    if not hasattr(deals, "mapInArrow") or not hasattr(deals, "schema"):
        raise TypeError(f"`deals` must be a Spark DataFrame, not {type(deals).__name__}")
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not a language dealcoach writes; use one of {', '.join(LANGUAGES)}, or None for no text")
    if not isinstance(source, str) or not source:
        raise ValueError(f"source={source!r}: give a non-empty label, such as the input's table or path")
    if playbook is not None:
        playbook = str(Path(playbook).resolve())
    api.load_playbook(playbook)  # a playbook that cannot be loaded is refused here, before any task starts
    fields = deals.schema.fields
    if column is not None:
        field = _column(fields, column)
        if not isinstance(field.dataType, StringType):
            raise ValueError(
                f"column {column!r} is {field.dataType.simpleString()}, not string: `column` names a string column holding one deal "
                "as a JSON object per row; to read every column as a deal field, give column=None"
            )
        deal = F.col(_quoted(column))
    else:
        _check_deal_fields([f.name for f in fields])
        deal = F.to_json(F.struct(*[F.col(_quoted(f.name)) for f in fields]), {"ignoreNullFields": "true"})
    framed = deals.select(F.monotonically_increasing_id().alias(_ROW), deal.alias(_DEAL))
    return framed.mapInArrow(partial(_review_batches, playbook=playbook, lang=lang, source=source), RESULT_SCHEMA)


def rollup(results: DataFrame, *, playbook: str | None = None, top: int = 10) -> Rollup:
    """The manager's roll-up of `results` (what `review` gave, or a copy of it read back): the one `dealcoach pipeline`
    builds over the same result lines. Render it with `engine.api.coach(playbook).render(rollup, lang=..., fmt=...)`.

    Counted where the results are: each partition's `result` lines become one partial roll-up on an executor
    (engine.rollup.RollupBuilder: totals and bounded lists, pickled and compressed, tens of kB), and the driver
    receives those, not the rows. With more than _FAN_IN partitions they are first merged in groups of _FAN_IN
    consecutive partitions on the executors, level by level. The driver merges what is left in partition order
    (RollupBuilder.merge) and words the first screen's questions. The partitions' order decides only which failed
    deals the roll-up names (the first LIST_LIMIT): read back from files, Spark may order partitions differently.

    A `result` that is not a record dealcoach wrote is a ValueError naming its partition and row.
    """
    from .engine import api, pipeline
    from .engine.rollup import RollupBuilder

    if not hasattr(results, "rdd") or not hasattr(results, "schema"):
        raise TypeError(f"`results` must be a Spark DataFrame, not {type(results).__name__}")
    _column(results.schema.fields, "result", what="`results` has no column 'result': give the DataFrame dealcoach.spark.review returned")
    coach = api.coach(str(Path(playbook).resolve()) if playbook is not None else None)
    states = results.select("result").rdd.mapPartitionsWithIndex(partial(_count_partition, top=top))
    count = states.getNumPartitions()
    while count > _FAN_IN:
        count = -(-count // _FAN_IN)
        states = (states.map(partial(_grouped, fan_in=_FAN_IN)).partitionBy(count, _identity)
                  .mapPartitions(partial(_merge_group, top=top), preservesPartitioning=True))
    collected = states.collect()
    merged = _merge_in_order(collected, RollupBuilder(top=top, ask=pipeline.question_maker(coach.renderer)))
    if isinstance(merged, str):
        raise ValueError(merged)
    return merged.build()


def _quoted(name: str) -> str:
    """A column name as Spark reads it literally (dots, spaces, backticks)."""
    return "`" + name.replace("`", "``") + "`"


def _column(fields: list, name: Any, what: str | None = None):
    """The field of that name, or ValueError saying which columns there are."""
    if not isinstance(name, str):
        raise ValueError(f"column={name!r}: give the name of the string column holding the deals' JSON, or None")
    names = [f.name for f in fields]
    for field in fields:
        if field.name == name:
            return field
    shown = ", ".join(repr(n) for n in names[:20]) + (f", ... ({len(names)} columns)" if len(names) > 20 else "")
    near = [n for n in names if n.lower() == name.lower()]
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ValueError(f"{what or f'no column {name!r} in the DataFrame'}; its columns are: {shown or '(none)'}{hint}")


def _check_deal_fields(names: list[str]) -> None:
    """Every column a deal field, each once (else every row would fail validation alike): ValueError naming the others."""
    from .engine.model import Deal

    known = set(Deal.model_fields)
    unknown = [n for n in names if n not in known]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if not names:
        raise ValueError("the DataFrame has no columns: give deal fields as columns, or `column` naming a JSON string column")
    if unknown or repeated:
        problem = (f"columns that are not deal fields: {', '.join(map(repr, unknown))}" if unknown
                   else f"repeated columns: {', '.join(map(repr, repeated))}")
        raise ValueError(
            f"with column=None every column is a deal field, and the DataFrame has {problem}. Select the deal fields "
            f"({', '.join(sorted(known))}), or give `column` naming a string column holding each deal as JSON"
        )
