"""
Tokens never reach a log line (PROTOCOL.md, "Authentication").

Our own code never logs a token, but other code may: autobahn logs the raw
handshake at debug level, a traceback can quote a URL, daphne's access log
writes the request line of plain HTTP requests with their query string.
`install()` redacts anything that looks like a token from every log record of
the process (a log record factory, so it holds for every logger, handler and
level) and from daphne's access log, which does not go through `logging`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

# The functions install() put in place, so that installing twice wraps nothing twice.
_redacting_functions: set[Any] = set()

_TOKEN_PATTERNS = re.compile(
    # A JWT: base64url('{"') starts every header; its dots also percent-encoded (%2E), as in a logged URL.
    r"eyJ[A-Za-z0-9_-]*(?:\.|%2[Ee])[A-Za-z0-9_-]+(?:\.|%2[Ee])[A-Za-z0-9_-]*"
    r"|(?<=token=)[^&\s'\"]+"  # a query parameter named token
    r"|(?<=[Bb]earer[ .])[^\s,'\"]+"  # Authorization: Bearer <t> and the bearer.<t> subprotocol
)


def redact(text: str) -> str:
    return _TOKEN_PATTERNS.sub(REDACTED, text)


def install() -> None:
    """Redact tokens from every log record (Python's `logging`). Idempotent."""
    factory = logging.getLogRecordFactory()
    if factory not in _redacting_functions:
        logging.setLogRecordFactory(_redacting(factory))


def install_access_log() -> bool:
    """Redact tokens from daphne's access log, which does not go through `logging`; False without daphne."""
    return _redact_daphne_access_log()


def _redacting(factory: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging reports it later, with them
            record.msg = redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(redact(str(arg)) for arg in record.args)
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted; formatters reuse exc_text.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    _redacting_functions.add(make_record)
    return make_record


def _redact_daphne_access_log() -> bool:
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:
        return False
    write_entry = AccessLogGenerator.write_entry
    if write_entry in _redacting_functions:
        return True

    def redacted_write_entry(self: Any, host: Any, date: Any, request: str, *args: Any, **kwargs: Any) -> None:
        write_entry(self, host, date, redact(request), *args, **kwargs)

    _redacting_functions.add(redacted_write_entry)
    AccessLogGenerator.write_entry = redacted_write_entry
    return True
