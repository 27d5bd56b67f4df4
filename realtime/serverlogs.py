"""
What an ASGI server logs about a client, kept to one line.

uvicorn's WebSocket implementation (websockets-sansio, its default with
`websockets` 14 and newer) logs a whole traceback for every text frame of
invalid UTF-8 a client sends, then closes the connection with 1007, as it
should. The traceback says nothing about the server; it only lets a client
write a dozen lines of log per frame it sends. The record keeps its message,
level and logger, without the traceback.
"""

from __future__ import annotations

import logging

# (logger, message) of the records whose traceback is the client's doing, not the server's.
CLIENT_ERRORS = {("uvicorn.error", "Invalid UTF-8 sequence received from client.")}


class WithoutTraceback(logging.Filter):
    def __init__(self, messages: frozenset[str]) -> None:
        super().__init__()
        self.messages = messages

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.msg in self.messages:
            record.exc_info, record.exc_text = None, None
        return True


def keep_client_errors_to_one_line() -> None:
    """Add the filter to each logger concerned, once however often it is called."""
    by_logger: dict[str, set[str]] = {}
    for name, message in CLIENT_ERRORS:
        by_logger.setdefault(name, set()).add(message)
    for name, messages in by_logger.items():
        logger = logging.getLogger(name)
        if not any(isinstance(each, WithoutTraceback) for each in logger.filters):
            logger.addFilter(WithoutTraceback(frozenset(messages)))
