"""
The pages of docs/reference/ as their tests read them: sections and tables.

Each reference page is checked against the code by a test of its own
(tests/docs/test_reference_*.py): the test builds what the page's table must
say from the code and compares it with the table, so that neither can change
without the other.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.docs import DOCS

REFERENCE = DOCS / "reference"
# A cell boundary: a pipe that is not escaped (`str \| None` stays in its cell).
CELL = re.compile(r"(?<!\\)\|")
# Every `code span` of a cell.
CODE_SPAN = re.compile(r"`([^`]+)`")


def page(name: str) -> str:
    return (REFERENCE / name).read_text()


def pages() -> list[Path]:
    return sorted(REFERENCE.glob("*.md"))


def section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next heading of that level."""
    marker = f"\n## {heading}\n"
    assert marker in text, f"the page has no section {heading!r}"
    return text.split(marker, 1)[1].split("\n## ", 1)[0]


def tables(text: str) -> list[list[list[str]]]:
    """Every table of `text`, each as its rows of cells, its header and the line under it left out."""
    found: list[list[list[str]]] = []
    lines: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            lines.append(line)
            continue
        if lines:
            found.append([cells(row) for row in lines[2:]])
            lines = []
    return found


def table(text: str) -> list[list[str]]:
    """The first table of `text`."""
    found = tables(text)
    assert found, "no table found"
    return found[0]


def cells(line: str) -> list[str]:
    return [cell.strip().replace("\\|", "|") for cell in CELL.split(line)[1:-1]]


def code_spans(cell: str) -> list[str]:
    return CODE_SPAN.findall(cell)
