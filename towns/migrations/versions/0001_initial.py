"""The schema as create_all made it up to commit 1a60b62 (the build before migrations), and the
ledger's append-only trigger on PostgreSQL.

Spelled out table by table from that build's models (sqlmodel 0.0.45 or later: datetimes are
DateTime(timezone=True), i.e. TIMESTAMP WITH TIME ZONE on PostgreSQL); it never imports them.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the ledger refuses UPDATE and DELETE (as towns.models.ledger.PG_TRIGGER had it at 1a60b62;
# run through the driver as it was, where '%%' reaches PostgreSQL as '%')
PG_TRIGGER = """
CREATE OR REPLACE FUNCTION towns_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the decision ledger is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ledger_append_only ON ledger;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
  FOR EACH ROW EXECUTE FUNCTION towns_ledger_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("pack_hash", sa.String(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("quarter"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("proposed_grade", sa.String(), nullable=False),
        sa.Column("final_grade", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("pack_version", sa.String(), nullable=False),
        sa.Column("pack_hash", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "code", name="uq_decision"),
    )
    op.create_index("ix_decisions_code", "decisions", ["code"], unique=False)
    op.create_index("ix_decisions_round_id", "decisions", ["round_id"], unique=False)
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("submission_id", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("clause", sa.String(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("reason_zh", sa.String(), nullable=False),
        sa.Column("reason_en", sa.String(), nullable=False),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("pack_version", sa.String(), nullable=False),
        sa.Column("pack_hash", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_findings_code", "findings", ["code"], unique=False)
    op.create_index("ix_findings_submission_id", "findings", ["submission_id"], unique=False)
    op.create_table(
        "ledger",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("round_id", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_ledger_code", "ledger", ["code"], unique=False)
    op.create_index("ix_ledger_kind", "ledger", ["kind"], unique=False)
    op.create_index("ix_ledger_round_id", "ledger", ["round_id"], unique=False)
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),  # default 1 in the model: no SERIAL
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("clause", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_measures_code", "measures", ["code"], unique=False)
    op.create_table(
        "monthly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("fai", sa.Float(), nullable=False),
        sa.Column("industry_fai", sa.Float(), nullable=False),
        sa.Column("nongov_fai", sa.Float(), nullable=False),
        sa.Column("tax", sa.Float(), nullable=True),
        sa.Column("new_enterprises", sa.Integer(), nullable=True),
        sa.Column("high_tech_enterprises", sa.Integer(), nullable=True),
        sa.Column("high_end_talents", sa.Integer(), nullable=True),
        sa.Column("tourists_10k", sa.Float(), nullable=True),
        sa.Column("scenic_level", sa.Integer(), nullable=True),
        sa.Column("correction", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "period", "revision", name="uq_report_revision"),
        sa.UniqueConstraint("submission_id"),
    )
    op.create_index("ix_monthly_reports_code", "monthly_reports", ["code"], unique=False)
    op.create_index("ix_monthly_reports_period", "monthly_reports", ["period"], unique=False)
    op.create_table(
        "packs",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_used", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "code", name="uq_proposal"),
    )
    op.create_index("ix_proposals_code", "proposals", ["code"], unique=False)
    op.create_index("ix_proposals_round_id", "proposals", ["round_id"], unique=False)
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=20), nullable=True),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("submitted_by", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rejections_code", "rejections", ["code"], unique=False)
    op.create_table(
        "rounds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("pack_version", sa.String(), nullable=False),
        sa.Column("pack_hash", sa.String(), nullable=False),
        sa.Column("started_by", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("city_tax_growth", sa.Float(), nullable=True),
        sa.Column("city", sa.JSON(), nullable=False),
        sa.Column("approved_by", sa.String(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "towns",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("industry", sa.String(), nullable=False),
        sa.Column("batch", sa.String(), nullable=True),
        sa.Column("listed_year", sa.Integer(), nullable=True),
        sa.Column("creation_years", sa.Integer(), nullable=False),
        sa.Column("planned_investment", sa.Float(), nullable=True),
        sa.Column("annual_fai_target", sa.Float(), nullable=True),
        sa.Column("planned_area_km2", sa.Float(), nullable=True),
        sa.Column("core_area_km2", sa.Float(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("last_grade", sa.String(), nullable=True),
        sa.Column("acceptance_failures", sa.Integer(), nullable=False),
        sa.Column("applying_for", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_towns_district", "towns", ["district"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(PG_TRIGGER)


def downgrade() -> None:
    raise NotImplementedError(
        "the towns schema only moves forward (it holds the decision ledger); "
        "to go back, restore a backup of the database"
    )
