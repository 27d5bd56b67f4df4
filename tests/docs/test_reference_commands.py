"""docs/reference/commands.md describes every management command of the apps: its app, help, arguments and defaults."""

from __future__ import annotations

import argparse
import re
from typing import Any

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.core.management.base import BaseCommand

from tests.docs.reference import code_spans, page, section, table

PACKAGES = ("realtime", "notifications", "comments")
# A command's section: `## serve {#serve}`.
HEADING = re.compile(r"^## (\w+) \{#\1\}$", flags=re.MULTILINE)


def commands() -> dict[str, str]:
    """The apps' commands, with the app of each."""
    return {name: app for name, app in get_commands().items() if app in PACKAGES}


def own_arguments(app: str, name: str) -> dict[str, Any]:
    """The arguments a command adds to Django's own, by the name the page gives them, with their defaults."""
    common = {action.dest for action in BaseCommand().create_parser("manage.py", "base")._actions}
    parser = load_command_class(app, name).create_parser("manage.py", name)
    return {
        (action.option_strings[-1] if action.option_strings else action.dest): action.default
        for action in parser._actions
        if action.dest not in common and action.default is not argparse.SUPPRESS
    }


def shown(default: Any) -> set[str]:
    """What the page may write for `default`: the value, or the setting it comes from."""
    if default in (None, []):
        return {"", "none"}
    from_settings = {f"`{name}`" for name in dir(settings) if name.isupper() and getattr(settings, name) == default}
    return {f"`{default}`", *from_settings}


def test_the_page_has_a_section_for_every_command_of_the_apps_and_no_other() -> None:
    assert sorted(HEADING.findall(page("commands.md"))) == sorted(commands())


@pytest.mark.parametrize("name", sorted(commands()))
def test_each_section_names_the_commands_app_and_quotes_its_help(name: str) -> None:
    text = section(page("commands.md"), f"{name} {{#{name}}}")
    command = load_command_class(commands()[name], name)
    assert (f"From the `{commands()[name]}` app." in text, f"\n> {command.help}\n" in text) == (True, True)


@pytest.mark.parametrize("name", sorted(commands()))
def test_each_section_lists_the_commands_arguments_with_their_defaults(name: str) -> None:
    arguments = own_arguments(commands()[name], name)
    rows = {code_spans(row[0])[0]: row[1] for row in table(section(page("commands.md"), f"{name} {{#{name}}}"))}
    assert sorted(rows) == sorted(arguments)
    assert {argument: rows[argument] for argument in rows if rows[argument] not in shown(arguments[argument])} == {}
