"""The decision log's tables, as the code reads and writes them (the migrations create them)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),  # review, gate, pipeline
    Column("deal_id", String(200), nullable=False),
    Column("deal_name", Text, nullable=False),
    Column("owner", String(200)),
    Column("as_of", Date, nullable=False),
    Column("stage_model", String(100), nullable=False),
    Column("stage", String(100), nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("buying_step", String(100), nullable=False),
    Column("grade", String(4)),
    Column("amount", Float, nullable=False),
    Column("currency", String(8), nullable=False),
    Column("expected_close", Date),
    Column("to_stage", String(100)),
    Column("allowed", Boolean),
    Column("ruleset_version", String(100), nullable=False),
    Column("playbook_digest", String(64), nullable=False),
    Column("caller", String(200), nullable=False),
    Column("run_id", String(64)),
    Column("deal", Text, nullable=False),  # the deal as evaluated (JSON)
    Column("digest", Text, nullable=False),  # what history and the roll-up read of the report (JSON, engine.rollup.Digest)
)
Index("decisions_deal", decisions.c.deal_id, decisions.c.as_of)
Index("decisions_logged", decisions.c.logged_at)
Index("decisions_run", decisions.c.run_id)

findings = Table(
    "findings",
    metadata,
    Column("decision_id", String(64), ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("code", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("rank", Integer),
    Column("subject", String(200)),
    Column("folded", Boolean, nullable=False),
)
Index("findings_code", findings.c.code)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("deals", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("ruleset_version", String(100), nullable=False),
    Column("caller", String(200), nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("as_of", Date),  # the newest evaluation date among the run's deals (migration 0002)
)
Index("runs_logged", runs.c.logged_at)

outcomes = Table(
    "outcomes",
    metadata,
    Column("deal_id", String(200), primary_key=True),
    Column("result", String(8), nullable=False),  # won, lost
    Column("reason", Text),
    Column("closed_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("source", String(100), nullable=False),
)
