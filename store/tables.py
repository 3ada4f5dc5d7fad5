"""The decision log's tables, as the code reads and writes them (the migrations create them). Text columns are
unbounded: a value the deal model accepts is never refused by the database (PostgreSQL's varchar(n) would)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, Table, Text

metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("kind", Text, nullable=False),  # review, gate, pipeline
    Column("deal_id", Text, nullable=False),
    Column("deal_name", Text, nullable=False),
    Column("owner", Text),
    Column("as_of", Date, nullable=False),
    Column("stage_model", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("buying_step", Text, nullable=False),
    Column("grade", Text),
    Column("amount", Float, nullable=False),
    Column("currency", Text, nullable=False),
    Column("expected_close", Date),
    Column("to_stage", Text),
    Column("allowed", Boolean),
    Column("ruleset_version", Text, nullable=False),
    Column("playbook_digest", Text, nullable=False),
    Column("caller", Text, nullable=False),
    Column("run_id", Text),
    Column("deal", Text, nullable=False),  # the deal as evaluated (JSON)
    Column("digest", Text, nullable=False),  # what history and the roll-up read of the report (JSON, engine.rollup.Digest)
)
Index("decisions_deal", decisions.c.deal_id, decisions.c.as_of)
Index("decisions_logged", decisions.c.logged_at)
Index("decisions_run", decisions.c.run_id)

findings = Table(
    "findings",
    metadata,
    Column("decision_id", Text, ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("rank", Integer),
    Column("subject", Text),
    Column("folded", Boolean, nullable=False),
)
Index("findings_code", findings.c.code)

runs = Table(
    "runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("deals", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("ruleset_version", Text, nullable=False),
    Column("caller", Text, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("as_of", Date),  # the newest evaluation date among the run's deals (migration 0002)
)
Index("runs_logged", runs.c.logged_at)

outcomes = Table(
    "outcomes",
    metadata,
    Column("deal_id", Text, primary_key=True),
    Column("result", Text, nullable=False),  # won, lost
    Column("reason", Text),
    Column("closed_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
)
