"""Use cases: each opens one transaction, checks the rules, changes state and records its events."""
