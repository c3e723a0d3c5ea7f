"""The only place that touches the database."""

from auditwire.store.database import Store

__all__ = ["Store"]
