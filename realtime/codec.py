"""
The JSON wire format of PROTOCOL.md.

Outgoing JSON is compact and keeps non-ASCII characters as they are, as the
seed's `send_json` (`separators=(",", ":")`, `ensure_ascii=False`). Incoming JSON
is strict: `NaN`, `Infinity` and numbers too large for a float are refused (the
server could not send them back as JSON), and so is nesting deeper than
`MAX_DEPTH` (Python's JSON parser would hit the recursion limit on the way in or
out).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100

_SEPARATORS = (",", ":")


class InvalidJSON(ValueError):
    """The frame does not hold JSON that this server can use; `str()` says why."""


def _reject_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not a JSON value.")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):
        raise InvalidJSON(f"The number {literal[:40]} is too large.")
    return number


_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_encoder = json.JSONEncoder(separators=_SEPARATORS, ensure_ascii=False, allow_nan=False)
_ascii_encoder = json.JSONEncoder(separators=_SEPARATORS, ensure_ascii=True, allow_nan=False)


def decode_text(text: str) -> Any:
    """Parse a text frame as JSON, or raise `InvalidJSON`."""
    try:
        value = _decoder.decode(text)
    except InvalidJSON:
        raise
    except RecursionError:
        raise InvalidJSON(f"JSON may nest at most {MAX_DEPTH} levels deep.") from None
    except ValueError as error:
        raise InvalidJSON(f"The frame is not valid JSON: {error}.") from None
    # Counting brackets is cheap; only frames that could be too deep are walked.
    if text.count("[") + text.count("{") > MAX_DEPTH and _nests_deeper_than(value, MAX_DEPTH):
        raise InvalidJSON(f"JSON may nest at most {MAX_DEPTH} levels deep.")
    return value


def text_from_bytes(data: bytes) -> str:
    """The text of a binary frame that should hold UTF-8 JSON, or raise `InvalidJSON`."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJSON("A binary frame must hold UTF-8 encoded JSON.") from None


def encode(content: Any) -> str:
    """
    Serialise `content` as compact JSON that keeps non-ASCII characters.

    Strings holding lone surrogates (JSON allows `"\\ud800"`) cannot be sent as
    UTF-8; for those values alone the output escapes non-ASCII characters, which
    is the same JSON value.
    """
    text = _encoder.encode(content)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _ascii_encoder.encode(content)
    return text


def _nests_deeper_than(value: Any, limit: int) -> bool:
    """True when arrays and objects in `value` nest more than `limit` levels."""
    containers = (dict, list)
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, containers) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, containers))
    return False
