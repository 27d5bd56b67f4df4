"""
realtime.testing as an installed pytest plugin (pyproject.toml, `pytest11`): pytest
loads it in every run of an environment that has the package, so it must load
without Django, without pytest-asyncio, and without a warning, and it must not
clash with a checkout's `pytest_plugins` line. Each test runs a fresh Python or
pytest; the package's entry point is declared to it by a distribution's metadata
written from pyproject.toml, as pip would install it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PLUGIN = "realtime.testing.fixtures"
TIMEOUT = 60
# A project that is not this repository: none of its settings, on the checkout's packages.
ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "TMPDIR")},
    "PYTHONPATH": str(ROOT),
    "HYPOTHESIS_NO_PLUGINS": "1",
}


def python(code: str, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_the_plugin_loads_without_django_settings_and_imports_nothing_of_django(tmp_path: Path) -> None:
    result = python(
        f"""
        import sys
        import {PLUGIN}
        print(sorted(name for name in sys.modules if name.split(".")[0] in ("django", "channels")))
        """,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")


def test_the_plugin_loads_without_pytest_asyncio(tmp_path: Path) -> None:
    result = python(
        f"""
        import sys
        sys.modules["pytest_asyncio"] = None  # not installed
        import {PLUGIN} as fixtures
        print(fixtures.connect_as.__name__)
        """,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "connect_as\n", "")


def installed_entry_point(site: Path) -> None:
    """The package's metadata as pip writes it, with pyproject.toml's `pytest11` entry points."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"]["pytest11"]
    metadata = site / "django_realtime_port-0.0.0.dist-info"
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: django-realtime-port\nVersion: 0.0.0\n")
    (metadata / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{name} = {target}\n" for name, target in declared.items())
    )


@pytest.mark.parametrize("conftest", ["", f"pytest_plugins = [{PLUGIN!r}]\n"], ids=["entry-point", "and-conftest"])
def test_an_installed_plugin_loads_once_and_leaves_other_projects_tests_alone(tmp_path: Path, conftest: str) -> None:
    site, project = tmp_path / "site-packages", tmp_path / "project"
    installed_entry_point(site)
    project.mkdir()
    # asyncio_default_fixture_loop_scope: pytest-asyncio's own warning is not the plugin's.
    (project / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (project / "conftest.py").write_text(conftest)
    (project / "test_unrelated.py").write_text(
        textwrap.dedent(
            f"""
            def test_the_plugin_is_registered(request):
                assert request.config.pluginmanager.has_plugin({PLUGIN!r})


            def test_arithmetic():
                assert 1 + 1 == 2
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=project,
        env={**ENVIRONMENT, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert (result.returncode, "2 passed" in summary, "warning" in result.stdout.lower()) == (0, True, False), (
        result.stdout + result.stderr
    )
