"""
The shape of the code (STYLE.md): the library imports no feature app and no
part of this repository's site, and its modules import each other without a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

LIBRARY = Path(settings.BASE_DIR) / "realtime"
NOT_THE_LIBRARYS = ("notifications", "comments", "demo", "project", "bench", "tests")


def module_name(path: Path) -> str:
    parts = path.relative_to(LIBRARY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, *, module_level_only: bool) -> set[str]:
    """Dotted names `tree` imports; at module level only, imports under `if TYPE_CHECKING:` are left out."""
    names: set[str] = set()
    nodes = _module_level(tree) if module_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_level(tree: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    pending = list(getattr(tree, "body", []))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If | ast.Try):
            pending.extend([*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])])
            pending.extend(child for handler in getattr(node, "handlers", []) for child in handler.body)
    return found


def library_modules() -> dict[str, ast.AST]:
    return {module_name(path): ast.parse(path.read_text()) for path in sorted(LIBRARY.rglob("*.py"))}


def test_the_library_imports_no_feature_app_and_nothing_of_this_site() -> None:
    offending = {
        name: sorted(i for i in imported(tree, module_level_only=False) if i.split(".")[0] in NOT_THE_LIBRARYS)
        for name, tree in library_modules().items()
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_library_has_no_import_cycle() -> None:
    modules = library_modules()
    edges = {
        name: sorted(i for i in imported(tree, module_level_only=True) if i in modules and i != name)
        for name, tree in modules.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "visiting"
        for target in edges[name]:
            if state.get(target) == "visiting":
                cycles.append([*path[path.index(target) :], target] if target in path else [name, target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in modules:
        if name not in state:
            visit(name, [name])
    assert cycles == []
