"""
The tutorial's page and its test agree (tests/packaging/test_tutorial.py, which
follows the page in a fresh site and Chromium under `make test-packaging` and in
CI): the test runs the page's commands and writes its blocks, every one, in the
page's order, and the site's three blocks are the README's. Here, in every
`make test`, so that an edit of the page that its test would not follow fails at once.
"""

from __future__ import annotations

import pytest

from tests.packaging.test_tutorial import COMMANDS, PAGE, README_BLOCKS, SITE_BLOCKS, STATUS_BLOCKS, shell_commands
from tests.support.docs import README, block, blocks


def test_the_tests_commands_are_the_tutorials() -> None:
    assert shell_commands() == COMMANDS


def test_the_test_writes_every_block_of_the_tutorial_in_its_order() -> None:
    copied = [each.first_line for each in blocks(PAGE) if each.is_copied]
    assert copied == [*SITE_BLOCKS, *STATUS_BLOCKS]


@pytest.mark.parametrize("first_line", list(README_BLOCKS), ids=["settings", "asgi", "urls"])
def test_the_tutorials_site_blocks_are_the_readmes(first_line: str) -> None:
    tutorial = block(PAGE, first_line).split("\n", 1)[1]
    readme = block(README, README_BLOCKS[first_line]).split("\n", 1)[1]
    assert tutorial == readme
