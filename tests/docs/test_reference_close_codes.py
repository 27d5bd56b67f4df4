"""docs/reference/close-codes.md lists every close code of `realtime.close_codes`, and what the clients do after it."""

from __future__ import annotations

import re

from realtime import close_codes
from realtime.client.protocol import RECONNECT_CODES
from tests.docs.reference import page, section, table

# Sent by the server itself, not the library, so named by no constant: invalid UTF-8 in a text frame.
SERVERS_OWN = {"1007": ""}
# The anchor each row opens with, for links such as close-codes.md#4408.
ANCHOR = re.compile(r'^<a id="([^"]+)"></a>(.+)$')


def rows() -> list[list[str]]:
    return table(section(page("close-codes.md"), "The codes"))


def registry_codes() -> str:
    """How the page names the codes RFC 6455's 1001-1015 become after accept under daphne."""
    return f"{close_codes.sendable_after_accept(1001)}–{close_codes.sendable_after_accept(1015)}"


def named_codes() -> dict[str, str]:
    """Every code of `realtime.close_codes`, by its number, with its name."""
    return {
        str(value): f"`{name}`"
        for name, value in vars(close_codes).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }


def test_every_row_opens_with_an_anchor_named_for_its_code() -> None:
    anchors = [ANCHOR.match(row[0]) for row in rows()]
    assert None not in anchors
    assert [found.group(1) for found in anchors if found] == [
        found.group(2).replace("–", "-") for found in anchors if found
    ]


def test_the_table_names_every_close_code_of_the_code_and_no_other() -> None:
    listed = {ANCHOR.sub(r"\2", row[0]): row[1] for row in rows()}
    assert listed == {**named_codes(), **SERVERS_OWN, registry_codes(): ""}


def test_the_table_says_after_which_codes_the_shipped_clients_reconnect() -> None:
    def expected(code: str) -> str:
        if code == registry_codes():
            first, last = (int(end) for end in code.split("–"))
            again = [str(each) for each in range(first, last + 1) if each in RECONNECT_CODES]
            return f"end, but reconnect after {', '.join(again)}" if again else "end"
        return "reconnect" if int(code) in RECONNECT_CODES else "end"

    listed = {ANCHOR.sub(r"\2", row[0]): row[4] for row in rows()}
    assert listed == {code: expected(code) for code in listed}
