"""leasing a delivery no longer moves it in the claim index; deliveries leave room on their pages

A claim now leases a delivery by `lease_expires_at` alone (store/deliveries.py): it keeps its
`next_attempt_at`, and claims skip rows whose lease still runs. Rows leased before this
revision hold the lease's end in both columns, which the new rule reads the same way (due
once the lease is over), so no row changes.

On PostgreSQL the lease then changes no indexed column, and the new version of a leased row
can stay on its page as a heap-only tuple (no new entries in the two indexes) when the page
has room: a fill factor of 50 leaves it. The outbox is a queue whose rows live seconds, so the
room costs little; existing pages get it as they are rewritten.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FILLFACTOR = 50  # as store/schema.py creates the table


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE deliveries SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    # Leases written from here on hold the lease's end in lease_expires_at only; the old code
    # would see those rows as due at once, so a downgrade moves it to next_attempt_at too.
    op.execute(
        "UPDATE deliveries SET next_attempt_at = lease_expires_at "
        "WHERE lease_expires_at IS NOT NULL AND lease_expires_at > next_attempt_at"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
