"""Tests that need something this machine may not have: skipped, saying why, unless it is required."""

from __future__ import annotations

import os

import pytest


def skip_unless_available(
    items: list[pytest.Item], *, marker: str, available: bool, required_by: str, missing: str
) -> None:
    """
    Skip the items marked `marker` when `available` is false, with `missing` as
    the reason; when the environment variable `required_by` is set (CI), refuse
    to run instead, so that they can never be skipped unnoticed.
    """
    if available:
        return
    if os.environ.get(required_by):
        raise pytest.UsageError(f"{required_by} is set but {missing}")
    for item in items:
        if marker in item.keywords:
            item.add_marker(pytest.mark.skip(reason=missing))
