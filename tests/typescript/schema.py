"""
What the frames a server sends are, said in one place: the TypedDicts of the
library's and the features' frame modules (`FRAME_MODULES`). The frame part of
realtime/static/realtime/client.d.ts is generated from them (declarations.py),
and the tests check the frames real servers send against them (`problems`), so
that the declarations cannot drift from the server.

A frame is a TypedDict with a `type: Literal["..."]` key; the TypedDicts its
keys name (`CommentData`, `PresentUser`) come with it. `/ws/` and SSE add the
keys of `realtime.frames.Labels` (`topic`, `ref`) to the frames they send.
"""

from __future__ import annotations

import functools
import importlib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin, is_typeddict

from realtime.frames import Labels

# Where the frames are, in the order client.d.ts declares them: the library's, then the features'.
FRAME_MODULES = (
    "realtime.frames",
    "realtime.feeds.sequenced",
    "realtime.presence.model",
    "notifications.frames",
    "comments.frames",
)


@dataclass(frozen=True)
class Field:
    name: str
    annotation: Any  # a type, as `typing.get_type_hints` gives it, NotRequired taken off
    required: bool


@dataclass(frozen=True)
class Shape:
    """One TypedDict: a frame (`frame_type` set) or a part of one."""

    typeddict: type
    fields: tuple[Field, ...]
    frame_type: str | None

    @property
    def qualified_name(self) -> str:
        return f"{self.typeddict.__module__}.{self.typeddict.__qualname__}"

    @property
    def doc(self) -> str:
        text = self.typeddict.__doc__ or ""
        return "" if text.startswith(f"{self.typeddict.__name__}(") else " ".join(text.split())  # not the default

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)


def shape(typeddict: type) -> Shape:
    """The fields of `typeddict`, each required or not as NotRequired and `total` say."""
    hints = typing.get_type_hints(typeddict, include_extras=True)
    total = bool(getattr(typeddict, "__total__", True))
    fields = []
    for name, hint in hints.items():
        required = total
        if get_origin(hint) in (NotRequired, Required):
            required = get_origin(hint) is Required
            (hint,) = get_args(hint)
        fields.append(Field(name, hint, required))
    frame_type = _frame_type(hints.get("type"))
    return Shape(typeddict, tuple(fields), frame_type)


def _frame_type(hint: Any) -> str | None:
    if get_origin(hint) is Literal and len(get_args(hint)) == 1 and isinstance(get_args(hint)[0], str):
        return str(get_args(hint)[0])
    return None


@functools.cache
def frames() -> dict[str, Shape]:
    """Every frame a server sends, by its `type`, in FRAME_MODULES' order."""
    found: dict[str, Shape] = {}
    for module_name in FRAME_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if not (is_typeddict(value) and value.__module__ == module_name):
                continue
            frame = shape(value)
            if frame.frame_type is None:
                continue
            if frame.frame_type in found:
                raise ValueError(
                    f"{frame.qualified_name} and {found[frame.frame_type].qualified_name} are both "
                    f"{frame.frame_type!r} frames: a frame type must be declared once"
                )
            found[frame.frame_type] = frame
    return found


def parts(of: list[Shape]) -> list[Shape]:
    """The TypedDicts the frames `of` name in their fields (and those name), each once, first named first."""
    seen: dict[type, Shape] = {}

    def visit(annotation: Any) -> None:
        if is_typeddict(annotation):
            if annotation not in seen:
                seen[annotation] = shape(annotation)
                for field in seen[annotation].fields:
                    visit(field.annotation)
            return
        for argument in get_args(annotation):
            visit(argument)

    for frame in of:
        for field in frame.fields:
            visit(field.annotation)
    return [part for typeddict, part in seen.items() if shape(typeddict).frame_type is None]


@functools.cache
def labels() -> Shape:
    return shape(Labels)


# --- Checking a frame ---------------------------------------------------------------------


def problems(frame: Any, *, labelled: bool) -> list[str]:
    """
    What is wrong with `frame` as a server sent it (none: it is one of `frames()`, exactly);
    `labelled`: it came on `/ws/` or SSE, where `topic` and `ref` may be added.
    """
    if not isinstance(frame, dict):
        return [f"a frame is a JSON object, not {frame!r}"]
    declared = frames().get(frame.get("type"))  # type: ignore[arg-type]  # a type that is no str is no frame either
    if declared is None:
        return [f"no TypedDict of FRAME_MODULES declares a frame of type {frame.get('type')!r}: {frame}"]
    allowed = list(declared.fields)
    if labelled:
        allowed += [field for field in labels().fields if declared.field(field.name) is None]
    return list(_object_problems(frame, allowed, declared.qualified_name))


def _object_problems(value: dict[str, Any], fields: list[Field], where: str) -> Iterator[str]:
    names = {field.name for field in fields}
    for extra in sorted(set(value) - names):
        yield f"{where}: {extra!r} is not declared ({value})"
    for field in fields:
        if field.name not in value:
            if field.required:
                yield f"{where}: {field.name!r} is missing ({value})"
            continue
        yield from _value_problems(value[field.name], field.annotation, f"{where}.{field.name}")


def _value_problems(value: Any, annotation: Any, where: str) -> Iterator[str]:
    origin, arguments = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return
    if is_typeddict(annotation):
        if not isinstance(value, dict):
            yield f"{where}: {value!r} is not an object ({annotation.__name__})"
            return
        yield from _object_problems(value, list(shape(annotation).fields), where)
    elif origin in (Union, types.UnionType):
        if all(next(_value_problems(value, option, where), None) is not None for option in arguments):
            yield f"{where}: {value!r} is none of {annotation}"
    elif origin is Literal:
        if value not in arguments or type(value) is not type(arguments[arguments.index(value)]):
            yield f"{where}: {value!r} is not {annotation}"
    elif origin is list:
        if not isinstance(value, list):
            yield f"{where}: {value!r} is not a list"
            return
        for index, item in enumerate(value):
            yield from _value_problems(item, arguments[0], f"{where}[{index}]")
    elif origin is dict:
        if not isinstance(value, dict):
            yield f"{where}: {value!r} is not an object"
            return
        for key, item in value.items():
            yield from _value_problems(item, arguments[1], f"{where}[{key!r}]")
    elif annotation is None or annotation is types.NoneType:
        if value is not None:
            yield f"{where}: {value!r} is not null"
    elif annotation is int:
        if type(value) is not int:
            yield f"{where}: {value!r} is not int"
    elif annotation is float:
        if type(value) not in (int, float):
            yield f"{where}: {value!r} is not float"
    elif annotation in (str, bool):
        if not isinstance(value, annotation):
            yield f"{where}: {value!r} is not {annotation.__name__}"
    else:
        raise TypeError(f"{where}: the frame schema does not know {annotation!r}; teach schema.py and declarations.py")
