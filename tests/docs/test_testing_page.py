"""
docs/how-to/testing.md against realtime.testing, without a virtualenv: what the
page imports and documents is what the package gives. The packaging tests run
the page itself in a fresh site (tests/packaging/test_host_site.py).
"""

from __future__ import annotations

import ast
import re

import realtime.testing
from realtime.testing import fixtures
from tests.support.docs import ROOT, block

PAGE = "docs/how-to/testing.md"
EXAMPLE = "# tests/test_realtime.py (host site)"
# A bullet of a reference list: "- `name(...)`: what it is", or "- `name`: ...".
DOCUMENTED = re.compile(r"^- `(\w+)", flags=re.MULTILINE)


def section(title: str) -> str:
    """The text of the page's section `## title`, up to the next one."""
    text = (ROOT / PAGE).read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_name_the_example_imports_from_realtime_testing_exists() -> None:
    tree = ast.parse(block(PAGE, EXAMPLE))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "realtime.testing"
        for alias in node.names
    ]
    assert imported == ["NotAccepted", "RealtimeCommunicator"]
    assert [name for name in imported if not hasattr(realtime.testing, name)] == []


def test_the_classes_the_page_documents_are_what_realtime_testing_exports() -> None:
    documented = DOCUMENTED.findall(section("The classes"))
    assert sorted(documented) == sorted(realtime.testing.__all__)
    assert [name for name in documented if not hasattr(realtime.testing, name)] == []


def test_the_fixtures_the_page_documents_are_the_plugins() -> None:
    fixture_type = type(fixtures.realtime_settings)
    defined = {name for name, value in vars(fixtures).items() if isinstance(value, fixture_type)}
    assert sorted(DOCUMENTED.findall(section("The fixtures"))) == sorted(defined)
