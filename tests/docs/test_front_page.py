"""README.md is a front page: short, with the host's three blocks as readers' tools find them."""

from __future__ import annotations

from tests.support.docs import README, blocks

FRONT_PAGE_LINES = 200
HOST_BLOCKS = ["# settings.py (append)", "# asgi.py (replace)", "# urls.py (append)"]


def test_the_readme_is_a_front_page_of_fewer_than_200_lines() -> None:
    assert len(README.read_text().splitlines()) < FRONT_PAGE_LINES


def test_the_readme_keeps_the_three_host_blocks_in_order_as_python() -> None:
    host = [each for each in blocks(README) if each.first_line in HOST_BLOCKS]
    assert [(each.language, each.first_line) for each in host] == [("python", line) for line in HOST_BLOCKS]
