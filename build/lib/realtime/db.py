"""
Channels' `database_sync_to_async`, typed: how the library and its features
reach the database from async code, one short operation per call, in the one
thread a process keeps for database work (stale connections closed around each
call, as Channels does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from channels import db

P = ParamSpec("P")
R = TypeVar("R")


def database_sync_to_async(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    wrapped: Callable[P, Awaitable[R]] = db.database_sync_to_async(function)
    return wrapped
