"""The decision log: decisions and their findings, pipeline runs, outcomes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("deal_id", sa.Text, nullable=False),
        sa.Column("deal_name", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("stage_model", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("stage_index", sa.Integer, nullable=False),
        sa.Column("buying_step", sa.Text, nullable=False),
        sa.Column("grade", sa.Text),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("expected_close", sa.Date),
        sa.Column("to_stage", sa.Text),
        sa.Column("allowed", sa.Boolean),
        sa.Column("ruleset_version", sa.Text, nullable=False),
        sa.Column("playbook_digest", sa.Text, nullable=False),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("deal", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
    )
    op.create_index("decisions_deal", "decisions", ["deal_id", "as_of"])
    op.create_index("decisions_logged", "decisions", ["logged_at"])
    op.create_index("decisions_run", "decisions", ["run_id"])
    op.create_table(
        "findings",
        sa.Column("decision_id", sa.Text, sa.ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer),
        sa.Column("subject", sa.Text),
        sa.Column("folded", sa.Boolean, nullable=False),
    )
    op.create_index("findings_code", "findings", ["code"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("deals", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("ruleset_version", sa.Text, nullable=False),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
    )
    op.create_index("runs_logged", "runs", ["logged_at"])
    op.create_table(
        "outcomes",
        sa.Column("deal_id", sa.Text, primary_key=True),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("closed_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("outcomes", "runs", "findings", "decisions"):
        op.drop_table(table)
