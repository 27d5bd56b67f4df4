"""
Validation of the client's `new_comment` message (PROTOCOL.md):

    {"type": "new_comment", "body": "...", "client_id": "<optional, any string up to 64 chars>"}

`body` must be a string with something other than whitespace in it, at most
`REALTIME["COMMENT_MAX_LENGTH"]` characters once stripped (5,000 by default); it is
stored stripped. Text the database cannot store (NUL characters, lone
surrogates) is refused here rather than failing in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comments.errors import INVALID_BODY, INVALID_CLIENT_ID
from comments.models import CLIENT_ID_MAX_LENGTH


class InvalidNewComment(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NewComment:
    body: str
    client_id: str | None


def parse_new_comment(message: dict[str, Any], *, max_length: int) -> NewComment:
    body = message.get("body")
    if not isinstance(body, str) or not body.strip():
        raise InvalidNewComment(INVALID_BODY, '"body" must be a non-blank string.')
    body = body.strip()
    if len(body) > max_length:
        raise InvalidNewComment(
            INVALID_BODY, f'"body" may be at most {max_length} characters; this one has {len(body)}.'
        )
    if not _storable(body):
        raise InvalidNewComment(INVALID_BODY, '"body" must be valid Unicode text without NUL characters.')
    client_id = message.get("client_id")
    if client_id is not None and (
        not isinstance(client_id, str)
        or not client_id
        or len(client_id) > CLIENT_ID_MAX_LENGTH
        or not _storable(client_id)
    ):
        raise InvalidNewComment(
            INVALID_CLIENT_ID,
            f'"client_id", when given, must be a non-empty string of at most {CLIENT_ID_MAX_LENGTH} characters.',
        )
    return NewComment(body=body, client_id=client_id)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True
