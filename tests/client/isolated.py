"""
An interpreter that can import `realtime` and `websockets` and nothing else:
`python -E -s -S` (no PYTHON* variables, no user site, no site-packages at
all) running a script from a folder that holds only links to those two
packages, with an environment that names no Django settings. Django, Channels
and every other dependency are then not importable, so whatever such a
script does proves it needs none of them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import websockets
from django.conf import settings


def isolated_folder(folder: Path) -> Path:
    """`folder` with links to this checkout's `realtime` package and to the installed `websockets`."""
    (folder / "realtime").symlink_to(Path(settings.BASE_DIR) / "realtime", target_is_directory=True)
    (folder / "websockets").symlink_to(Path(websockets.__file__).parent, target_is_directory=True)
    return folder


def isolated_command(script: Path) -> list[str]:
    return [sys.executable, "-E", "-s", "-S", str(script)]


def isolated_environment(**variables: str) -> dict[str, str]:
    """The variables a script needs, and no DJANGO_SETTINGS_MODULE."""
    return {"PATH": os.environ.get("PATH", ""), **variables}
