"""
The page script of docs/how-to/javascript-client.md, type-checked as a page's
JavaScript against client.d.ts: every name it uses declared (an undeclared
element, a misspelt event or option fails), with tsc's --checkJs. Null checks
are off: a page's script reads its own elements without guarding each one.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.docs import ROOT, block
from tests.typescript.test_tsc import FLAGS, tsc  # noqa: F401 (the fixture)

PAGE = "docs/how-to/javascript-client.md"
CLIENT = ROOT / "realtime" / "static" / "realtime" / "client.js"
SCRIPT = re.compile(r'<script type="module">\n(.*?)</script>', flags=re.DOTALL)
STATIC_TAG = "{% static 'realtime/client.js' %}"


def page_script(tmp_path: Path) -> Path:
    (script,) = SCRIPT.findall(block(PAGE, "<!-- post.html (a page of your site) -->"))
    assert STATIC_TAG in script
    path = tmp_path / "page.js"
    path.write_text(script.replace(STATIC_TAG, str(CLIENT)))
    return path


def check(tsc: str, script: Path) -> subprocess.CompletedProcess[str]:  # noqa: F811 (the fixture's name)
    command = [tsc, *FLAGS, "--allowJs", "--checkJs", "--strictNullChecks", "false", str(script)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_pages_script_uses_only_what_client_d_ts_declares(tsc: str, tmp_path: Path) -> None:  # noqa: F811
    checked = check(tsc, page_script(tmp_path))
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_an_undeclared_name_in_the_script_fails_the_check(tsc: str, tmp_path: Path) -> None:  # noqa: F811
    script = page_script(tmp_path)
    script.write_text(script.read_text().replace("const textarea = ", "const textareaElement = "))
    checked = check(tsc, script)
    assert checked.returncode != 0
    assert "Cannot find name 'textarea'" in checked.stdout
