"""
No public secret signs a token (PROTOCOL.md, "Secrets and revocation"): a
configured secret shorter than 32 bytes stops the start, and without one a
random key is made on first start and kept in an untracked file.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from project.secrets import configured_secret, local_secret_key

SETTINGS_FILE = Path(settings.BASE_DIR) / "project" / "settings.py"


def site_settings(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    """This site's settings, run afresh with only `environment` set of the variables they read."""
    for name in [name for name in os.environ if name.startswith(("DJANGO_", "JWT_", "REDIS_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.mark.parametrize(
    ("name", "value", "described"),
    [("DJANGO_SECRET_KEY", "too-short", "9 bytes long"), ("JWT_SECRET", "", "empty")],
    ids=["short-secret-key", "empty-jwt-secret"],
)
def test_a_configured_secret_shorter_than_32_bytes_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, described: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as stopped:
        site_settings(monkeypatch, **{name: value, "DJANGO_SECRET_KEY_FILE": str(tmp_path / "key")})
    assert str(stopped.value) == (
        f"{name} is {described}: set it to a random string of at least 32 bytes "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or unset it."
    )


def test_without_a_secret_key_one_is_made_on_first_start_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "secret_key"
    first = site_settings(monkeypatch, DJANGO_SECRET_KEY_FILE=str(key_file))["SECRET_KEY"]
    second = site_settings(monkeypatch, DJANGO_SECRET_KEY_FILE=str(key_file))["SECRET_KEY"]
    assert (second, key_file.read_text().strip()) == (first, first)
    assert len(first) >= 60
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_no_secret_is_written_in_the_code() -> None:
    sources = [path.read_text() for path in (Path(settings.BASE_DIR) / "project").glob("*.py")]
    assert [source for source in sources if "django-insecure" in source] == []


def test_two_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", f"from project.secrets import local_secret_key as k; from pathlib import Path; "
             f"print(k(Path({str(key_file)!r})))"],
            cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True,
        )
        for _ in range(4)
    ]  # fmt: skip
    keys = {start.communicate(timeout=60)[0].strip() for start in starts}
    assert keys == {key_file.read_text().strip()}


def test_a_configured_secret_of_32_bytes_is_used_as_it_is() -> None:
    assert configured_secret({"JWT_SECRET": "x" * 32}, "JWT_SECRET") == "x" * 32
    assert configured_secret({}, "JWT_SECRET") is None


def test_a_key_file_without_a_usable_key_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("short\n")
    with pytest.raises(ImproperlyConfigured, match="holds no usable key: delete it, and a new one is made"):
        local_secret_key(tmp_path / "key")
