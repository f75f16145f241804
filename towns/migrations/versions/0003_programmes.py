"""Programmes as data: towns.programme (the rule pack a town belongs to), bulletins keyed by
programme and quarter, and pack_files (packs installed with `towns pack install`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a database made by create_all of a build with these (stamped 0002) has them already
    have = sa.inspect(op.get_bind())
    if "programme" not in {c["name"] for c in have.get_columns("towns")}:
        # every town registered before this version belongs to the one programme there was
        op.add_column("towns", sa.Column("programme", sa.String(length=64), nullable=False, server_default="sx2018"))
    if "programme" not in {c["name"] for c in have.get_columns("bulletins")}:
        # the primary key becomes (quarter, programme): a new table, every row copied
        op.create_table(
            "bulletins_programmes",
            sa.Column("quarter", sa.String(length=6), nullable=False),
            sa.Column("programme", sa.String(length=64), server_default="sx2018", nullable=False),
            sa.Column("content", sa.JSON(), nullable=False),
            sa.Column("pack_hash", sa.String(), nullable=False),
            sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("published_by", sa.String(), nullable=False),
            sa.Column("workflow_id", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("quarter", "programme"),
        )
        op.execute(
            "INSERT INTO bulletins_programmes (quarter, programme, content, pack_hash, published_at, published_by, "
            "workflow_id) SELECT quarter, 'sx2018', content, pack_hash, published_at, published_by, workflow_id "
            "FROM bulletins"
        )
        op.drop_table("bulletins")
        op.rename_table("bulletins_programmes", "bulletins")
        if op.get_context().dialect.name == "postgresql":  # the name create_all gives it
            op.execute("ALTER TABLE bulletins RENAME CONSTRAINT bulletins_programmes_pkey TO bulletins_pkey")
    if have.has_table("pack_files"):
        return
    op.create_table(
        "pack_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("extends", sa.String(length=64), nullable=True),
        sa.Column("title_zh", sa.String(), nullable=False),
        sa.Column("title_en", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("installed_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_pack_files_pack_id"), "pack_files", ["pack_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError(
        "the towns schema only moves forward (it holds the decision ledger); "
        "to go back, restore a backup of the database"
    )
