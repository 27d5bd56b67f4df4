"""
Who may follow what: one hook for the whole site (docs/how-to/permissions.md).

A topic names what a connection follows: `comments:<post_id>` for a post's
comments, or a host's own kind. By default any authenticated user may follow
any topic whose object exists. A site narrows that with one function, named
in `REALTIME["TOPIC_PERMISSION"]`:

    def can_follow(user, topic: str) -> bool:
        kind, _, key = topic.partition(":")
        return kind != "comments" or Post.objects.filter(pk=key, members=user).exists()

It is called once per subscription (before accept on the per-feed endpoints),
in the database thread, so it may query the database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.module_loading import import_string

from realtime.conf import realtime_settings

Permission = Callable[[AbstractBaseUser, str], bool]


def allow_every_user(user: AbstractBaseUser, topic: str) -> bool:
    """The default: an authenticated user may follow any topic whose object exists."""
    return True


@functools.cache
def _load(path: str) -> Permission:
    hook: Permission = import_string(path)
    return hook


def permission_hook() -> Permission:
    path: str | None = realtime_settings.TOPIC_PERMISSION
    return allow_every_user if path is None else _load(path)
