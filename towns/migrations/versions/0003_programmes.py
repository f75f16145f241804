"""Programmes as data: towns.programme (the rule pack a town belongs to) and pack_files (packs
installed with `towns pack install`).

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
