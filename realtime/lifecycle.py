"""
Whether this process is stopping: set when the server begins to stop (SIGTERM:
realtime/server/shutdown.py), read by readiness (realtime/health/views.py), so
that a proxy stops sending new clients to a process that is closing its own.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

_stopping = False


def mark_stopping() -> None:
    global _stopping
    if not _stopping:
        logger.info("Stopping: /readyz answers 503 from now on")
    _stopping = True


def stopping() -> bool:
    return _stopping


def reset() -> None:
    """Serving again (tests)."""
    global _stopping
    _stopping = False
