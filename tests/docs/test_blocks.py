"""
Every block a reader may copy, in README.md and every page of docs/, is run by
a test: it opens with a line naming its file (tests/support/docs.py), and some
test reads it by that line. A block of code that names no file is not allowed:
a reader cannot tell where it goes, and no test would notice it going stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.docs import ROOT, Block, blocks, pages

# Blocks a reader runs or reads rather than copies into a file: commands, wire transcripts, frames.
NOT_FILES = {"sh", "text", "json", "console"}
TESTS = ROOT / "tests"
# The reader of the blocks and this test name first lines in general, not to run a block.
READERS = {TESTS / "support" / "docs.py", Path(__file__)}


def every_block() -> list[Block]:
    return [each for page in pages() for each in blocks(page)]


def text_of_tests() -> str:
    return "\n".join(path.read_text() for path in sorted(TESTS.rglob("*.py")) if path not in READERS)


def where(each: Block) -> str:
    return f"{each.page.relative_to(ROOT)}: {each.first_line!r}"


def test_every_block_of_code_names_the_file_it_goes_in() -> None:
    unnamed = [where(each) for each in every_block() if each.language not in NOT_FILES and not each.is_copied]
    assert unnamed == []


def test_every_block_a_reader_copies_is_read_by_a_test() -> None:
    text = text_of_tests()
    unread = [
        where(each)
        for each in every_block()
        if each.is_copied and each.first_line not in text and json.dumps(each.first_line)[1:-1] not in text
    ]
    assert unread == []


def test_a_pages_first_lines_are_unique_so_that_a_test_reads_the_block_it_means() -> None:
    for page in pages():
        first_lines = [each.first_line for each in blocks(page) if each.is_copied]
        assert len(first_lines) == len(set(first_lines)), page


def test_the_blocks_are_found_at_all() -> None:
    """The fence pattern reads the README's three blocks (a broken pattern would find nothing to check)."""
    found = {each.first_line for each in blocks(ROOT / "README.md") if each.is_copied}
    assert found >= {"# settings.py (append)", "# asgi.py (replace)", "# urls.py (append)"}
