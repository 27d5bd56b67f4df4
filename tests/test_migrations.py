"""The models and their migrations agree: nothing is left for makemigrations to write."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 (SystemExit) on a missing migration
    assert out.getvalue().strip() == "No changes detected"
