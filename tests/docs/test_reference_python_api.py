"""
docs/reference/python-api.md names only what a site can import, and shows each
function with its own signature.

The first column of each table lists imports: a dotted name from a package of
the apps (`realtime.consumers.TokenConsumer`), and after it, names of the same
module (`, WebSocketDisconnect`); a name followed by its parameters shows the
function's signature, defaults included.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.docs.reference import code_spans, page, tables

PACKAGES = ("realtime", "notifications", "comments")


@dataclass(frozen=True)
class Listed:
    name: str  # as the page writes it: dotted from a package, or a name of the module before it
    module: str  # the module it is read from
    signature: str | None  # "(user, *, ttl=...)" when the page shows one


def listed() -> list[Listed]:
    found: list[Listed] = []
    module = ""
    for table in tables(page("python-api.md")):
        for row in table:
            for span in code_spans(row[0]):
                name, parenthesis, rest = span.partition("(")
                if name.split(".")[0] in PACKAGES:
                    module = name if is_module(name) else name.rpartition(".")[0]
                found.append(Listed(name, module, parenthesis + rest if parenthesis else None))
    return found


def is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return True


def imported(item: Listed) -> Any:
    module: ModuleType = importlib.import_module(item.module)
    return module if item.name == item.module else getattr(module, item.name.rpartition(".")[2])


def plain_signature(function: Any) -> str:
    """`function`'s signature without its annotations, as the page shows it."""
    signature = inspect.signature(function)
    parameters = [parameter.replace(annotation=inspect.Parameter.empty) for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


@pytest.mark.parametrize("item", listed(), ids=lambda item: item.name)
def test_every_name_of_the_page_is_importable(item: Listed) -> None:
    assert imported(item) is not None


@pytest.mark.parametrize("item", [item for item in listed() if item.signature], ids=lambda item: item.name)
def test_every_signature_of_the_page_is_the_functions(item: Listed) -> None:
    assert item.signature == plain_signature(imported(item))
