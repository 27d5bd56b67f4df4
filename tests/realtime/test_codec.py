"""realtime.codec: the JSON of the wire (decoding is covered through the consumers' tests)."""

from __future__ import annotations

import pytest

from realtime import codec


def test_encoding_is_compact_and_keeps_non_ascii() -> None:
    assert codec.encode({"name": "Zoë", "list": [1, None, True]}) == '{"name":"Zoë","list":[1,null,true]}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()], ids=["nan", "infinity", "object"])
def test_a_value_that_is_not_json_is_refused(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        codec.encode({"x": [value]})


def test_a_failed_encoding_leaves_no_trace_in_the_next_one() -> None:
    value = [[float("nan")]]
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        codec.encode(value)
    value[0][0] = 1
    assert codec.encode(value) == "[[1]]"  # not "Circular reference detected" for the same objects


def test_a_real_cycle_is_still_refused() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference detected"):
        codec.encode(cycle)
