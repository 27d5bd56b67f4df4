"""docs/reference/errors.md lists every error frame code the library and the features register, and no other."""

from __future__ import annotations

import re

from realtime.frames import ErrorCode, error_codes
from realtime.registry import features
from tests.docs.reference import code_spans, page, section, table

# The anchor each row opens with, for links such as errors.md#forbidden.
ANCHOR = re.compile(r'^<a id="([^"]+)"></a>`([^`]+)`$')


def rows() -> dict[str, list[str]]:
    """The table's rows by their code: [app, sent when, a client should]."""
    found: dict[str, list[str]] = {}
    for row in table(section(page("errors.md"), "The codes")):
        anchor = ANCHOR.match(row[0])
        assert anchor is not None, f"{row[0]} must open with an anchor"
        assert anchor.group(1) == anchor.group(2), f"{row[0]} must open with its own anchor"
        found[anchor.group(2)] = row[1:]
    return found


def owners() -> dict[str, str]:
    """Every code a server can send, with the app that registers it."""
    return {
        **{str(code): "realtime" for code in ErrorCode},
        **{code: feature.name for feature in features() for code in feature.error_codes},
    }


def test_the_owners_are_every_code_the_library_knows() -> None:
    assert set(owners()) == error_codes()


def test_the_table_lists_every_error_code_with_its_app_and_no_other() -> None:
    assert {code: code_spans(row[0]) for code, row in rows().items()} == {
        code: [owner] for code, owner in owners().items()
    }


def test_a_features_codes_say_when_they_are_sent_in_the_features_own_words() -> None:
    registered = {code: when for feature in features() for code, when in feature.error_codes.items()}
    assert {code: row[1] for code, row in rows().items() if code in registered} == registered
