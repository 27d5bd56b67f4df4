"""Topics: what `/ws/` connections follow, as features define them (kinds.py)."""
