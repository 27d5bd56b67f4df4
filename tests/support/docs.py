"""
The code blocks of README.md and docs/, read by their first line, so that a test
runs exactly what a reader copies.

A block a reader may copy opens with a line naming where it goes, as a comment of
its language: `# mysite/settings.py (append)`, `# tests/test_realtime.py (host site)`,
`// page.js (new)`. `block(page, first_line)` returns the one block of `page` that
opens with that line (the line included); tests/docs/test_blocks.py checks that
every such block of every page is read by some test this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCS = ROOT / "docs"
README = ROOT / "README.md"
# A fenced block at the start of a line: its language, then its text up to the closing fence.
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", flags=re.MULTILINE | re.DOTALL)
# The first line of a block a reader copies: a comment naming the file and how the block goes into it.
MARKER = re.compile(r"^(#|//|;|<!--) \S+ \([^)]+\)( -->)?$")


@dataclass(frozen=True)
class Block:
    page: Path
    language: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def is_copied(self) -> bool:
        return MARKER.match(self.first_line) is not None


def pages() -> list[Path]:
    """README.md and every Markdown page of the docs site."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def blocks(page: Path) -> list[Block]:
    return [Block(page, language, text) for language, text in FENCE.findall(page.read_text())]


def block(page: Path | str, first_line: str) -> str:
    """The text of the one block of `page` (a path, or one relative to the repository) that opens with `first_line`."""
    path = page if isinstance(page, Path) else ROOT / page
    found = [each.text for each in blocks(path) if each.first_line == first_line]
    assert len(found) == 1, f"{path.relative_to(ROOT)} must have exactly one block opening with {first_line!r}"
    return found[0]
