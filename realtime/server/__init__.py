"""
The server integration: what the library changes in daphne, Twisted, autobahn
and logging, applied by `manage.py serve` or by the one call a host makes in its
`asgi.py`, `realtime.server.install()`, never by merely installing the apps.

Two kinds of patch, each a module of its own:

- bounds, which make daphne keep the promises of PROTOCOL.md that only the
  server can keep: no token in any log line (redaction.py), a close frame with
  a code for a connection that breaks the protocol (autobahn.py) and for every
  open connection on SIGTERM (shutdown.py), a close code daphne can send
  (codes.py), bytes waiting to be written
  bounded (backpressure.py) and HTTP responses paced (responses.py), a deadline
  for request heads (handshake.py), frames per message and per second
  (frames.py), the size of a message (sizes.py), no ghost left by daphne's
  handshake deadline (backpressure.py), open files (descriptors.py), a Redis
  outage as one log line (outages.py);
- tuning, which makes each connection cheaper and faster and can be switched
  off alone (`REALTIME["SERVER_TUNING"] = False`), the bounds still holding:
  lean queues (queues.py), an open connection's handshake and idle write queue let go
  (leftovers.py), bytes sent at once (writes.py), no log context per socket
  event (reactor.py), no debug formatting per frame or connection (autobahn.py).

Patches that touch daphne, Twisted or autobahn are applied only under daphne
(another ASGI server gets the others alone), and only at the versions of
versions.py; at others the server refuses to start, unless
`REALTIME["SERVER_UNTESTED_VERSIONS"]` lets it start without them.

Under plain `daphne` without `install()` everything still works, less tuned
and less guarded (docs/how-to/choose-a-server.md); under another ASGI server
the patches find nothing to patch, and the library's own side of ASGI holds
what it can.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from realtime.conf import realtime_settings
from realtime.docs import docs_page
from realtime.server import (
    autobahn,
    backpressure,
    codes,
    descriptors,
    frames,
    handshake,
    leftovers,
    outages,
    queues,
    reactor,
    redaction,
    responses,
    shutdown,
    sizes,
    versions,
    writes,
)

logger = logging.getLogger(__name__)

BOUND: Final = "bound"
TUNING: Final = "tuning"
DAPHNE, TWISTED, AUTOBAHN = "daphne", "Twisted", "autobahn"


@dataclass(frozen=True)
class Patch:
    name: str
    kind: Literal["bound", "tuning"]
    # The distributions whose private names or behaviour it relies on (versions.py).
    touches: tuple[str, ...]
    # What it gives, for the line that says it is off.
    gives: str
    apply: Callable[[], object]


PATCHES: tuple[Patch, ...] = (
    Patch("redaction", BOUND, (), "no token in any log record", redaction.install),
    Patch("outages", BOUND, (), "a Redis outage logged as one line", outages.install),
    Patch("descriptors", BOUND, (), "the soft limit of open files raised to the hard one", descriptors.install),
    Patch("access log", BOUND, (DAPHNE,), "no token in daphne's access log", redaction.install_access_log),
    Patch(
        "failed connections",
        BOUND,
        (DAPHNE, AUTOBAHN),
        "a close frame with a code (1009, 1007) for a connection that breaks the protocol",
        autobahn.close_failed_connections_with_a_code,
    ),
    Patch(
        "close codes",
        BOUND,
        (DAPHNE, AUTOBAHN),
        "a close code daphne cannot send after accept (1008, 1009, 1011) sent as 4008, 4009, 4011",
        codes.install,
    ),
    Patch("shutdown", BOUND, (DAPHNE, TWISTED), "4012 to every open connection on SIGTERM", shutdown.install),
    Patch(
        "backpressure",
        BOUND,
        (DAPHNE, TWISTED, AUTOBAHN),
        "SEND_BUFFER_LIMIT (4410), paced replays, no ghost from daphne's handshake deadline",
        backpressure.install,
    ),
    Patch("responses", BOUND, (DAPHNE, TWISTED), "HTTP responses paced, HTTP_SEND_TIMEOUT", responses.install),
    Patch("handshake", BOUND, (DAPHNE, TWISTED), "HANDSHAKE_TIMEOUT for request heads", handshake.install),
    Patch("frames", BOUND, (DAPHNE, AUTOBAHN), "frames per message and per second", frames.install),
    Patch("sizes", BOUND, (DAPHNE, AUTOBAHN), "WEBSOCKET_MAX_MESSAGE_SIZE closed with 1009 by daphne", sizes.install),
    Patch(
        "debug formatting",
        TUNING,
        (AUTOBAHN,),
        "no debug formatting per frame or connection",
        autobahn.skip_eager_debug_formatting,
    ),
    Patch("queues", TUNING, (DAPHNE,), "lean queues per connection", queues.install),
    Patch(
        "leftovers",
        TUNING,
        (DAPHNE, AUTOBAHN),
        "an open connection's handshake and idle write queue let go",
        leftovers.install,
    ),
    Patch("writes", TUNING, (TWISTED,), "bytes sent at once", writes.install),
    Patch("reactor", TUNING, (TWISTED,), "no log context per socket event", reactor.install),
)

_reported = False


class UntestedVersions(SystemExit):
    """daphne, Twisted or autobahn at a version the integration was not tested with."""


def install() -> None:
    """
    Apply the server integration to this process. Idempotent. Raises
    `UntestedVersions` (a `SystemExit` naming the versions found and tested)
    when daphne, Twisted or autobahn is outside the tested table, unless
    `REALTIME["SERVER_UNTESTED_VERSIONS"]` is set.
    """
    if not under_daphne():
        # Another ASGI server: daphne, Twisted and autobahn do not serve here, whatever their versions.
        for patch in PATCHES:
            if not patch.touches:
                patch.apply()
        return
    untested = versions.untested()
    if untested and not realtime_settings.SERVER_UNTESTED_VERSIONS:
        found = ", ".join(f"{name} {version}" for name, version in untested.items())
        raise UntestedVersions(
            f"The server integration (realtime.server.install) is tested with {versions.describe_tested()}; "
            f"this environment has {found}. Install a tested version (pip install -r requirements.txt, or "
            'the ranges of the package), or set REALTIME["SERVER_UNTESTED_VERSIONS"] = True to start without '
            f"the patches that touch those packages ({docs_page('how-to/choose-a-server.md')})."
        )
    tuning = realtime_settings.SERVER_TUNING
    off: list[Patch] = []
    for patch in PATCHES:
        if set(patch.touches) & set(untested) or (patch.kind == TUNING and not tuning):
            off.append(patch)
        else:
            patch.apply()
    _report(off, untested)


# What serving with daphne imports before the application: its command line (`daphne`, and `manage.py serve`,
# which runs it), or its `runserver`. (daphne's app config imports daphne.server under any server.)
DAPHNE_ENTRY_POINTS = ("daphne.cli", "daphne.management.commands.runserver")


def under_daphne() -> bool:
    """Whether this process serves with daphne."""
    return any(module in sys.modules for module in DAPHNE_ENTRY_POINTS)


def _report(off: list[Patch], untested: dict[str, str]) -> None:
    """Say once which bounds and which tuning are off, and why."""
    global _reported
    if _reported or not off:
        return
    _reported = True
    why = (
        f"untested versions ({', '.join(f'{name} {version}' for name, version in untested.items())})"
        if untested
        else 'REALTIME["SERVER_TUNING"] = False'
    )
    bounds = [patch.gives for patch in off if patch.kind == BOUND]
    tuning = [patch.gives for patch in off if patch.kind == TUNING]
    logger.warning(
        "Server integration: %s; bounds off: %s; tuning off: %s",
        why,
        "; ".join(bounds) or "none",
        "; ".join(tuning) or "none",
    )
