"""
Where the library's messages send a reader: a page of the documentation site.

The site is built from this repository's docs/ (mkdocs.yml) and is not published
at an address yet, so a page is named by its path in the repository. Once it is
published, `DOCS` becomes the site's address and every hint that names a page
(system checks, refusals to start) follows.
"""

from __future__ import annotations

DOCS = "docs/"


def docs_page(page: str) -> str:
    """Where a reader finds `page`, a path under docs/: "docs/reference/settings.md" for "reference/settings.md"."""
    return f"{DOCS}{page}"
