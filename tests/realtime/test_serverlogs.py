"""What a server logs about a client's invalid frames stays one line (realtime/serverlogs.py)."""

from __future__ import annotations

import logging

import pytest

from realtime import serverlogs


def test_uvicorns_invalid_utf8_error_is_logged_without_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    serverlogs.keep_client_errors_to_one_line()
    serverlogs.keep_client_errors_to_one_line()  # twice: one filter
    logger = logging.getLogger("uvicorn.error")
    assert sum(isinstance(each, serverlogs.WithoutTraceback) for each in logger.filters) == 1
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        try:
            b"\xa7".decode()
        except UnicodeDecodeError:
            logger.exception("Invalid UTF-8 sequence received from client.")
            logger.exception("Something else went wrong.")
    assert [(r.levelname, r.getMessage(), r.exc_info is None) for r in caplog.records] == [
        ("ERROR", "Invalid UTF-8 sequence received from client.", True),
        ("ERROR", "Something else went wrong.", False),
    ]
    assert "Traceback" not in caplog.records[0].getMessage()
