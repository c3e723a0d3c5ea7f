"""the destinations' revision: one counter that every write of a destination increments

A worker keeps a copy of the destinations' sending settings and must send each event with the
settings it was recorded after (the event saying that a header was added carries it). Each
claim reads this revision in its transaction and the worker loads the destinations again when
its copy is of another one. A counter in one row, rather than the latest `updated_at`, sees
changes that commit in another order than their clocks read: the row's lock orders them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "streaming_destination_revision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    op.drop_table("streaming_destination_revision")
