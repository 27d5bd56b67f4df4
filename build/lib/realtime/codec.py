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


class _Encoder:
    """
    Compact JSON, keeping (or escaping) non-ASCII characters. `json.dumps` and
    `JSONEncoder.encode` build a new C encoder at every call; this builds it
    once, which halves the cost of a small frame. A failed call (a value that
    is not JSON) rebuilds it, so that its record of the containers being
    encoded, which detects cycles, starts clean again.
    """

    def __init__(self, *, ensure_ascii: bool) -> None:
        self._python = json.JSONEncoder(separators=_SEPARATORS, ensure_ascii=ensure_ascii, allow_nan=False)
        self._escape = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
        self._make()

    def _make(self) -> None:
        make = getattr(json.encoder, "c_make_encoder", None)
        if make is None:  # no C accelerator (not CPython)
            self._c = None
            return
        separators = {"key_separator": ":", "item_separator": ","}
        self._c = make({}, self._python.default, self._escape, None, *separators.values(), False, False, False)

    def encode(self, content: Any) -> str:
        if self._c is None:
            return self._python.encode(content)
        try:
            return "".join(self._c(content, 0))
        except Exception:
            self._make()
            raise


_encoder = _Encoder(ensure_ascii=False)
_ascii_encoder = _Encoder(ensure_ascii=True)


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
