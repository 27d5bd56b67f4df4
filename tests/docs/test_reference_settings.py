"""docs/reference/settings.md lists every `REALTIME` key as the code defines it: default, values, app, meaning."""

from __future__ import annotations

from typing import Any

from realtime.conf import Key, realtime_settings
from tests.docs.reference import REFERENCE, page, section, table
from tests.support.docs import block

# How the page names each type a key accepts.
TYPE_NAMES = {str: "a string", bool: "`True` or `False`", list: "a list", type(None): "`None`"}


def shown(default: Any) -> str:
    """A default as the page shows it: `30`, not `30.0`."""
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return f"`{default!r}`"


def accepted(key: Key) -> str:
    """The values `key` accepts (`Key.problem` refuses any other), as the page says them."""
    names: list[str] = []
    for kind in key.types:
        if kind is int and float in key.types:
            continue  # "a number" says both
        if kind in (int, float):
            name = "an integer" if kind is int else "a number"
            if key.minimum is not None:
                name += f" {'>' if key.positive else '≥'} {key.minimum:g}"
            names.append(name)
        else:
            names.append(TYPE_NAMES[kind])
    return " or ".join(names)


def settings_rows() -> list[list[str]]:
    """The rows the page's table must have: every key, in the order the library and the features register them."""
    return [
        [f"`{name}`", shown(key.default), accepted(key), f"`{realtime_settings.owner(name)}`", key.doc]
        for name, key in realtime_settings.keys().items()
    ]


def test_the_table_lists_every_key_with_its_default_values_app_and_meaning() -> None:
    assert table(section(page("settings.md"), "The keys")) == settings_rows()


def test_the_example_sets_known_keys_to_values_they_accept() -> None:
    example: dict[str, Any] = {}
    exec(block(REFERENCE / "settings.md", "# settings.py (an example)"), example)
    keys = realtime_settings.keys()
    assert {name: keys[name].problem(value) for name, value in example["REALTIME"].items()} == dict.fromkeys(
        example["REALTIME"]
    )
