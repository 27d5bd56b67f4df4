"""
The logger the client's connections write to, without tokens.

At DEBUG level `websockets` logs every handshake header (`Authorization:
Bearer <jwt>` included) and the start of every frame (a `refresh` carries a
token). Tokens never appear in logs (PROTOCOL.md, "Authentication"): this
logger writes what websockets says with every JWT replaced by `[token]`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# A JWT starts with the base64url of '{"' (its header); a truncated frame may cut it anywhere.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
# A `refresh` frame's token, whole or cut by websockets' "..." with its last characters after it.
_TOKEN_FIELD = re.compile(r'("token"\s*:\s*")[^"\']*')
REDACTED = "[token]"


def redact(text: str) -> str:
    return _JWT.sub(REDACTED, _TOKEN_FIELD.sub(rf"\g<1>{REDACTED}", text))


class TokenFreeLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger adapter for websockets' `logger=`: each message formatted, then its tokens redacted."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, redact(text), **kwargs)


def connection_logger() -> TokenFreeLogger:
    """websockets' own logger (configured as websockets documents it), through the redaction."""
    return TokenFreeLogger(logging.getLogger("websockets.client"), {})
