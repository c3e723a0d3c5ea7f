"""a delivery attempt may carry a batch: its event count and last event id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("event_count", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column(
                "last_event_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("last_event_id")
        batch.drop_column("event_count")
