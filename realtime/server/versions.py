"""
The versions of daphne, Twisted and autobahn the server integration is tested with.

Every patch of realtime/server/ reads or replaces something private of theirs
(a method, an attribute, the order of two calls), which any release may change.
So the patches are applied only to the series listed here: each is tested at the
version requirements.txt pins (CI runs the whole suite there), and
tests/realtime/server/test_upstream.py checks, against the real classes, every
name and behaviour a patch relies on, so that an upgrade that changes one fails
loudly. A patch release of a listed series is accepted. Outside the table the
server refuses to start, naming what it found and what is tested, unless
`REALTIME["SERVER_UNTESTED_VERSIONS"]` is set: it then starts without the
patches that touch the untested package, and says once which bounds and which
tuning are off (docs/how-to/choose-a-server.md).
"""

from __future__ import annotations

from importlib import metadata

# Distribution name -> the release series tested (major.minor), and the version tested in each.
TESTED: dict[str, dict[str, str]] = {
    "daphne": {"4.2": "4.2.3"},
    "Twisted": {"26.10": "26.10.0"},
    "autobahn": {"26.11": "26.11.1"},
}


def installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def series(version: str) -> str:
    """'26.10' of '26.10.0' (or of '26.10.0rc1')."""
    return ".".join(version.split(".")[:2])


def untested() -> dict[str, str]:
    """The distributions of the table installed at a version outside it, with that version."""
    found: dict[str, str] = {}
    for distribution, tested in TESTED.items():
        version = installed(distribution)
        if version is not None and series(version) not in tested:
            found[distribution] = version
    return found


def describe_tested() -> str:
    return ", ".join(
        f"{distribution} {' or '.join(f'{s}.x (tested at {v})' for s, v in tested.items())}"
        for distribution, tested in TESTED.items()
    )
