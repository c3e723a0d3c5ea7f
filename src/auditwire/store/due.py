"""Which deliveries a claim may lease: the one rule of both claims (per event,
`store.deliveries.claim`; per batch, `store.batch_claims.claim_batch`) on both backends.

A delivery is due when it is pending, its time has come, no lease on it still runs, and its
destination is active; claims take the oldest due first. A lease is `lease_expires_at`
alone: leasing leaves `next_attempt_at`, so that it moves no row in the claim index
(`deliveries(destination_id, state, next_attempt_at)`; a HOT update on PostgreSQL)."""

from __future__ import annotations


def due_ids(destination: str, now: str, limit: str, *, skip_locked: bool = False) -> str:
    """SQL selecting the ids of up to `limit` due deliveries of `destination`, oldest due
    first. The arguments are SQL expressions: parameters (`$1`, `?2`) or columns.
    `skip_locked` (PostgreSQL) locks the rows and passes over those another claim is
    leasing at this moment."""
    lock = " FOR UPDATE OF d SKIP LOCKED" if skip_locked else ""
    return f"""
        SELECT d.id FROM deliveries d
        WHERE d.destination_id = {destination} AND d.state = 'pending'
          AND d.next_attempt_at <= {now}
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= {now})
          AND EXISTS (
              SELECT 1 FROM streaming_destinations s WHERE s.id = {destination} AND s.active
          )
        ORDER BY d.next_attempt_at
        LIMIT {limit}{lock}"""
