"""The error codes of the comments app (registered in comments/feature.py)."""

from __future__ import annotations

INVALID_BODY = "invalid_body"
INVALID_CLIENT_ID = "invalid_client_id"

WHEN = {
    INVALID_BODY: "a `new_comment` whose `body` is not a non-blank string, is too long, "
    "or holds text the database cannot store (NUL, lone surrogates)",
    INVALID_CLIENT_ID: "a `client_id` that is not a non-empty string of at most 64 characters",
}
