"""README.md says what the code does: its table of settings is the code's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings

from realtime.conf import realtime_settings

README = Path(settings.BASE_DIR) / "README.md"


def shown(default: Any) -> str:
    if default is None:
        return "`None`"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def settings_rows() -> list[list[str]]:
    """The rows README's settings table must have: every REALTIME key, its default, its app, what it means."""
    return [
        [f"`{name}`", shown(key.default), f"`{realtime_settings.owner(name)}`", key.doc]
        for name, key in realtime_settings.keys().items()
    ]


def test_the_settings_table_lists_every_key_with_its_default_and_meaning() -> None:
    section = README.read_text().split("\n## Settings\n", 1)[1]
    first_table = section[section.index("\n|") :].split("\n\n", 1)[0]
    table = [line for line in first_table.splitlines() if line.startswith("| `")]
    rows = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]
    assert rows == settings_rows()
