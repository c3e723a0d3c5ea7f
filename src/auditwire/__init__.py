"""auditwire: audit event streaming that speaks GitLab's API and never loses an event."""

__version__ = "0.1.0"
