"""
Twisted's reactor calls a ready socket without a log context built for each call.

For every socket event, the asyncio reactor under daphne goes through
`twisted.python.log.callWithLogger`: it asks the connection for its log prefix,
copies the current log context, adds the prefix to it and pushes it for the
duration of the call, so that a legacy `log.msg` made inside would be tagged
with the connection. Measured under daphne: about 8% of the server's samples in
an echo round trip (bench/RESULTS.md, "Where the time goes"). daphne and the
library log through Python's `logging`, which never reads that context.

Here the call is made directly; only when it raises is the prefix asked for and
the failure logged with it (as its `log_system`), as Twisted does. What changes: a legacy
`twisted.python.log.msg` made while a connection reads or writes is tagged with
the default system ("-") rather than the connection's prefix.
"""

from __future__ import annotations

from typing import Any


def call_with_logger(logger: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
    """`twisted.python.log.callWithLogger`, building the log context only for a failure."""
    try:
        return func(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException:
        from twisted.logger import Logger

        try:
            prefix = logger.logPrefix()
        except BaseException:
            prefix = "(buggy logPrefix method)"
        Logger().failure("Unhandled Error", log_system=prefix)
        return None


def install() -> bool:
    """Apply to Twisted's asyncio reactor (daphne's); False without Twisted."""
    try:
        from twisted.internet import asyncioreactor
    except ImportError:
        return False
    setattr(asyncioreactor, "callWithLogger", call_with_logger)  # noqa: B010  (a module's global)
    return True
