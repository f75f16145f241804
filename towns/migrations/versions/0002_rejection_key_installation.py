"""rejections.key (a retried write leaves one quarantine row) and the installation table (the
database's id, which workers carry in their Temporal identity).

Builds between fc68257 and f064f68 made ``installation`` (by create_all) but not
``rejections.key``; such a database is stamped 0001 (see ``towns.models.db``), so each half
is made only when it is missing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    have = sa.inspect(op.get_bind())
    has_key = "key" in {c["name"] for c in have.get_columns("rejections")}
    has_installation = have.has_table("installation")
    if not has_key:
        if op.get_context().dialect.name == "sqlite":
            # SQLite cannot add a UNIQUE column: batch mode rebuilds the table, copying every
            # row, with the column after id and an unnamed UNIQUE ("key"), as create_all makes it
            with op.batch_alter_table(
                "rejections", recreate="always", table_args=(sa.UniqueConstraint("key"),)
            ) as batch:
                batch.add_column(sa.Column("key", sa.String(length=300), nullable=True), insert_after="id")
        else:  # ADD COLUMN, then ADD UNIQUE (key), named by PostgreSQL as create_all's is
            op.add_column("rejections", sa.Column("key", sa.String(length=300), nullable=True, unique=True))
    if not has_installation:
        op.create_table(
            "installation",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),  # default 1 in the model: no SERIAL
            sa.Column("installation_id", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )


def downgrade() -> None:
    raise NotImplementedError(
        "the towns schema only moves forward (it holds the decision ledger); "
        "to go back, restore a backup of the database"
    )
