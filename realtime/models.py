"""The library's model (realtime/auth/models.py), where Django looks for it."""

from __future__ import annotations

from realtime.auth.models import TokenRevocation

__all__ = ["TokenRevocation"]
