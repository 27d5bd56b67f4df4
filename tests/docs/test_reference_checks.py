"""
docs/reference/checks.md describes every system check the apps register: its
id, its level, its message and hint as the code writes them, and the page the
hint sends a reader to.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from django.conf import settings

from realtime.docs import DOCS, docs_page
from tests.docs.reference import code_spans, page, table

APPS = ("realtime", "notifications", "comments")
LEVELS = ("Critical", "Error", "Warning")
# What the page writes for a part of a message known only when the check runs.
VARIABLE = "…"
# A check's section: `### realtime.E001 {#realtime.E001}`, up to the next one.
SECTION = re.compile(r"^### (realtime\.[A-Z]\d{3}) \{#\1\}\n(.*?)(?=^### |\Z)", flags=re.MULTILINE | re.DOTALL)
# A Markdown link's target.
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


@dataclass(frozen=True)
class Check:
    level: str
    message: str
    hint: str

    @property
    def page(self) -> str | None:
        """The docs page the hint names, relative to docs/."""
        found = re.search(rf"{re.escape(DOCS)}([\w/.-]+\.md)", self.hint)
        return found.group(1) if found else None


def module_of(path: Path) -> ModuleType:
    parts = path.relative_to(settings.BASE_DIR).with_suffix("").parts
    return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


def text(node: ast.expr | None, module: ModuleType) -> str:
    """A message as the code writes it, `VARIABLE` standing for what only a run knows."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(text(value, module) for value in node.values)
    if isinstance(node, ast.FormattedValue) and node.format_spec is None:
        shown = text(node.value, module)
        return repr(shown) if node.conversion == ord("r") and shown != VARIABLE else shown
    if isinstance(node, ast.Name) and isinstance(getattr(module, node.id, None), str | int):
        return str(getattr(module, node.id))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return text(node.left, module) + text(node.right, module)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and getattr(module, node.func.id, None) is docs_page
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return docs_page(node.args[0].value)
    return VARIABLE


def registered() -> dict[str, Check]:
    """Every check message the apps' code can return, by id."""
    found: dict[str, Check] = {}
    for app in APPS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in LEVELS):
                    continue
                keywords = {keyword.arg: keyword.value for keyword in node.keywords}
                if not isinstance(keywords.get("id"), ast.Constant):
                    continue
                module = module_of(path)
                check_id = keywords["id"].value  # type: ignore[attr-defined]  # an ast.Constant, tested above
                message = re.sub(f"{VARIABLE}+", VARIABLE, text(node.args[0], module))
                hint = re.sub(f"{VARIABLE}+", VARIABLE, text(keywords.get("hint"), module))
                found[check_id] = Check(node.func.id, message, hint)
    return found


def sections() -> dict[str, str]:
    """The page's section of each check, by id."""
    return dict(SECTION.findall(page("checks.md")))


def described(section: str) -> Check:
    """The check a section describes: its level, and its message and hint as the page quotes them."""
    level = re.search(r"^\*\*(\w+)\.\*\*", section, flags=re.MULTILINE)
    message = re.search(r"^- Message: `(.*)`$", section, flags=re.MULTILINE)
    hint = re.search(r"^- Hint: `(.*)`$", section, flags=re.MULTILINE)
    assert level is not None, "a section opens with its level in bold: **Error.**"
    assert message is not None, "a section quotes its message: - Message: `...`"
    assert hint is not None, "a section quotes its hint: - Hint: `...`"
    return Check(level.group(1), message.group(1), hint.group(1))


def relative(page_path: str) -> str:
    """A link from docs/reference/ to `page_path`, a path under docs/."""
    return page_path.removeprefix("reference/") if page_path.startswith("reference/") else f"../{page_path}"


def test_the_page_has_a_section_for_every_check_and_no_other() -> None:
    assert sorted(sections()) == sorted(registered())


def test_the_summary_lists_every_check_with_its_level() -> None:
    summary = table(page("checks.md"))
    assert {code_spans(row[0])[0]: row[1] for row in summary} == {
        check_id: check.level for check_id, check in registered().items()
    }


def test_each_section_quotes_its_checks_level_message_and_hint() -> None:
    assert {check_id: described(section) for check_id, section in sections().items()} == registered()


def test_each_section_links_to_the_page_its_hint_names() -> None:
    links = {check_id: LINK.findall(section) for check_id, section in sections().items()}
    unlinked = {
        check_id: relative(check.page)
        for check_id, check in registered().items()
        if check.page is not None and relative(check.page) not in links[check_id]
    }
    assert unlinked == {}
