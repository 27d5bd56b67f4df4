"""
The site's secrets: long enough when configured, random and local when not
(README, "Secrets"). No key that anyone with the repository knows ever signs a token.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# RFC 7518 3.2: an HS256 key at least as long as the hash.
MIN_SECRET_BYTES = 32
GENERATED_KEY_BYTES = 50
HOW_TO_MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def configured_secret(environment: Mapping[str, str], name: str) -> str | None:
    """The secret in environment variable `name`, or None when unset; too short (or empty) stops the start."""
    value = environment.get(name)
    if value is None:
        return None
    size = len(value.encode())
    if size < MIN_SECRET_BYTES:
        described = "empty" if not size else f"{size} bytes long"
        raise ImproperlyConfigured(
            f"{name} is {described}: set it to a random string of at least {MIN_SECRET_BYTES} bytes "
            f"({HOW_TO_MAKE_ONE}), or unset it."
        )
    return value


def local_secret_key(path: Path) -> str:
    """
    The key kept in `path` (untracked), made on first use. It is written whole
    to a file of its own, then linked into place, so that processes starting
    together all read the one key that won.
    """
    if not path.exists():
        draft = path.with_name(f"{path.name}.{os.getpid()}.new")
        draft.write_text(secrets.token_urlsafe(GENERATED_KEY_BYTES) + "\n")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: its key wins
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise ImproperlyConfigured(f"{path} holds no usable key: delete it, and a new one is made.")
    return key
