"""`realtime.client` needs only `websockets`: it imports, and builds a client, where Django cannot be imported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.client.isolated import isolated_command, isolated_environment, isolated_folder

PROBE = """
import importlib.util, json, sys

missing = [name for name in ("django", "channels", "jwt", "daphne") if importlib.util.find_spec(name) is None]
from realtime.client import RealtimeClient

RealtimeClient("ws://127.0.0.1:9/ws/", token="a.b.c")
print(json.dumps({
    "missing": missing,
    "loaded": sorted(name for name in sys.modules if name.split(".")[0] in ("realtime", "django")),
    "site_packages": [entry for entry in sys.path if "site-packages" in entry],
}))
"""


def test_the_client_imports_without_django_or_its_settings(tmp_path: Path) -> None:
    folder = isolated_folder(tmp_path)
    (folder / "probe.py").write_text(PROBE)
    result = subprocess.run(
        isolated_command(folder / "probe.py"), env=isolated_environment(), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["missing"], found["site_packages"]) == (["django", "channels", "jwt", "daphne"], [])
    outside = [name for name in found["loaded"] if not name.startswith("realtime.client")]
    assert outside == ["realtime", "realtime.close_codes"]
    assert "realtime.client.client" in found["loaded"]


def test_the_client_extra_installs_websockets_in_a_range_holding_the_tested_version() -> None:
    """docs/how-to/python-client.md: `pip install "django-realtime-port[client]"` gives the client what it needs."""
    import tomllib
    from importlib.metadata import version

    from django.conf import settings
    from packaging.requirements import Requirement

    project = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())["project"]
    (requirement,) = [Requirement(line) for line in project["optional-dependencies"]["client"]]
    assert requirement.name == "websockets"
    assert requirement.specifier.contains(version("websockets"))
