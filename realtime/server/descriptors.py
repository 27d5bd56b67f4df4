"""
Open files: every WebSocket connection holds one descriptor, and a process's
soft limit is often 1,024 while its hard limit allows far more. As Go's runtime
does for its servers, the soft limit is raised to the hard one at start; the hard
limit is the operator's (systemd's `LimitNOFILE`, deploy/systemd/).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def install() -> int | None:
    """Raise the soft limit of open files to the hard one; the limit now (None where there is none to raise)."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == hard:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logger.info("Open files: the soft limit raised from %s to the hard limit, %s", soft, hard)
    return hard
