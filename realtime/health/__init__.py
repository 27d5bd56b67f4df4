"""Liveness and readiness (PROTOCOL.md, "Observing it"): `/healthz` and `/readyz`."""
