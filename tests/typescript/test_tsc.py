"""
tsc --strict against client.d.ts (PROTOCOL.md, "Clients: Python and TypeScript"):
examples/uses.ts, which uses the declarations as the contract says, compiles;
examples/misuses.ts fails with exactly the errors its lines are marked with.

tsc is found as $TSC, else on PATH; without it these tests are skipped, unless
REALTIME_REQUIRE_TSC is set (CI), where they fail instead. Outside the repository:

    npm install --prefix /tmp/realtime-typescript typescript@5.9.3
    TSC=/tmp/realtime-typescript/node_modules/.bin/tsc .venv/bin/python -m pytest tests/typescript
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent / "examples"
FLAGS = [
    "--strict",
    "--noEmit",
    "--pretty",
    "false",
    "--target",
    "es2022",
    "--module",
    "es2022",
    "--moduleResolution",
    "bundler",
    "--lib",
    "es2022,dom",
]
TSC_MISSING = (
    "tsc is not installed: npm install --prefix <dir> typescript@5.9.3, then set TSC=<dir>/node_modules/.bin/tsc "
    "(CI sets REALTIME_REQUIRE_TSC to fail rather than skip)"
)
ERROR = re.compile(r"^(?P<file>[^(\s]+)\((?P<line>\d+),\d+\): error (?P<code>TS\d+): ")
MARK = re.compile(r"// error (?P<code>TS\d+)$")


@pytest.fixture(scope="module")
def tsc() -> str:
    found = os.environ.get("TSC") or shutil.which("tsc")
    if found is None or not os.access(found, os.X_OK):
        if os.environ.get("REALTIME_REQUIRE_TSC"):
            pytest.fail(f"REALTIME_REQUIRE_TSC is set but {TSC_MISSING}")
        pytest.skip(TSC_MISSING)
    return found


def compile_example(tsc: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tsc, *FLAGS, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120, check=False)


def errors(output: str) -> set[tuple[int, str]]:
    """(line, code) of each error tsc reported."""
    return {(int(found["line"]), found["code"]) for found in map(ERROR.match, output.splitlines()) if found}


def marked(example: Path) -> set[tuple[int, str]]:
    """(line, code) of each line marked `// error TS<code>`."""
    lines = example.read_text().splitlines()
    return {(number, found["code"]) for number, line in enumerate(lines, 1) if (found := MARK.search(line))}


def test_the_declarations_used_as_the_contract_says_compile_under_strict(tsc: str) -> None:
    compiled = compile_example(tsc, "uses.ts")
    assert (compiled.returncode, compiled.stdout + compiled.stderr) == (0, "")


def test_the_declarations_misused_fail_with_exactly_the_expected_errors(tsc: str) -> None:
    compiled = compile_example(tsc, "misuses.ts")
    expected = marked(EXAMPLES / "misuses.ts")
    assert len(expected) >= 15  # the marks are read (a typo in the pattern would expect nothing)
    assert compiled.returncode != 0
    assert errors(compiled.stdout) == expected, compiled.stdout
