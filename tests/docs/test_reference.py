"""
docs/reference/: its index lists every page of it, and every page of the docs
the apps name (in a check's hint, an error, a docstring) exists.

The apps are installed packages: a README's sections are not there for a reader
of `manage.py check`, the docs site is. So they name docs pages, never README
sections (realtime/docs.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from realtime.docs import DOCS
from tests.docs.reference import page, pages, table

ROOT = Path(settings.BASE_DIR)
APPS = ("realtime", "notifications", "comments")
SOURCES = ("*.py", "*.js", "*.ts", "*.html")
# A docs page named in the code: a path under docs/ as a docstring writes it, or docs_page("...") as a hint does.
NAMED = re.compile(rf"\b{re.escape(DOCS)}([\w/.-]+\.md)\b|\bdocs_page\(\s*[\"']([\w/.-]+\.md)[\"']\s*\)")
LINK = re.compile(r"\]\(([\w.-]+\.md)\)")


def sources() -> list[Path]:
    return sorted({path for app in APPS for pattern in SOURCES for path in (ROOT / app).rglob(pattern)})


def named_pages() -> dict[str, set[str]]:
    """Every docs page the apps' code names, relative to docs/, with the files that name it."""
    found: dict[str, set[str]] = {}
    for path in sources():
        for match in NAMED.finditer(path.read_text()):
            found.setdefault(match.group(1) or match.group(2), set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_index_links_to_every_reference_page() -> None:
    linked = {name for row in table(page("index.md")) for name in LINK.findall(row[0])}
    assert linked == {path.name for path in pages()} - {"index.md"}


def test_every_docs_page_the_apps_name_exists() -> None:
    missing = {name: files for name, files in named_pages().items() if not (ROOT / DOCS / name).is_file()}
    assert missing == {}


def test_the_apps_name_docs_pages_and_no_readme_section() -> None:
    mentions = [str(path.relative_to(ROOT)) for path in sources() if "README" in path.read_text()]
    assert mentions == []
