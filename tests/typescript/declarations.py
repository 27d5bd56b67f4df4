"""
The frame part of realtime/static/realtime/client.d.ts, generated from the
server's TypedDicts (schema.py), between the two marker lines of that file; the
rest of the file (classes, options, events) is written by hand.

    .venv/bin/python -m tests.typescript.declarations      # rewrite it after a frame changed

test_declarations.py fails while the committed file differs from what this writes.
"""

from __future__ import annotations

import json
import os
import textwrap
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, is_typeddict

from tests.typescript import schema

CLIENT_DTS = Path(__file__).resolve().parents[2] / "realtime" / "static" / "realtime" / "client.d.ts"
BEGIN = "// <generated frames> by tests/typescript/declarations.py from the server's TypedDicts: do not edit"
END = "// </generated frames>"
COMMAND = ".venv/bin/python -m tests.typescript.declarations"
DOC_WIDTH = 100

SCALARS: dict[Any, str] = {Any: "unknown", str: "string", int: "number", float: "number", bool: "boolean"}


def ts_name(shape: schema.Shape) -> str:
    """A frame is named for its type (`presence_state` -> `PresenceStateFrame`); a part keeps its Python name."""
    if shape.frame_type is None:
        return shape.typeddict.__name__
    return "".join(word.capitalize() for word in shape.frame_type.split("_")) + "Frame"


def ts_type(annotation: Any) -> str:
    if annotation in SCALARS:
        return SCALARS[annotation]
    if annotation is None or annotation is types.NoneType:
        return "null"
    if is_typeddict(annotation):
        return ts_name(schema.shape(annotation))
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(json.dumps(value) for value in arguments)
    if origin in (Union, types.UnionType):
        return " | ".join(ts_type(option) for option in arguments)
    if origin is list:
        item = ts_type(arguments[0])
        return f"({item})[]" if " | " in item else f"{item}[]"
    if origin is dict and arguments[0] is str:
        return f"{{ [key: string]: {ts_type(arguments[1])} }}"
    raise TypeError(f"no TypeScript for {annotation!r}: teach tests/typescript/declarations.py (and schema.py)")


def interface(shape: schema.Shape) -> str:
    said = [*textwrap.wrap(shape.doc, DOC_WIDTH), f"From `{shape.qualified_name}`."]
    lines = ["/**", *(f" * {line}" for line in said), " */", f"export interface {ts_name(shape)} {{"]
    for field in shape.fields:
        lines.append(f"  {field.name}{'' if field.required else '?'}: {ts_type(field.annotation)};")
    lines.append("}")
    return "\n".join(lines)


def generated() -> str:
    """The lines between the markers."""
    frames = list(schema.frames().values())
    blocks = [interface(shape) for shape in [*schema.parts(frames), *frames, schema.labels()]]
    table = [f"  {shape.frame_type}: {ts_name(shape)};" for shape in frames]
    blocks.append(
        "/**\n * Every frame a server sends, by its `type`. An interface: a site that adds its own kinds of\n"
        " * topics declares their frames into it (declaration merging).\n */\n"
        "export interface FrameTypes {\n" + "\n".join(table) + "\n}"
    )
    blocks.append("/** Any frame a server sends. */\nexport type Frame = FrameTypes[keyof FrameTypes];")
    return "\n\n".join(blocks)


def committed_part(text: str) -> str:
    """What `text` (client.d.ts) holds between the marker lines."""
    return _split(text)[1]


def rewritten(text: str) -> str:
    """`text` (client.d.ts) with what `generated()` gives between the marker lines."""
    head, _, tail = _split(text)
    return f"{head}{generated()}\n{tail}"


def _split(text: str) -> tuple[str, str, str]:
    """The text up to the end of the BEGIN line, what is between, and the text from the END line on."""
    if text.count(BEGIN + "\n") != 1 or text.count("\n" + END) != 1:
        raise ValueError(f"{CLIENT_DTS} must hold the marker lines {BEGIN!r} and {END!r}, once each")
    head, rest = text.split(BEGIN + "\n")
    between, tail = ("\n" + rest).split("\n" + END)
    return head + BEGIN + "\n", between.removeprefix("\n"), END + tail


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    text = CLIENT_DTS.read_text()
    new = rewritten(text)
    if new == text:
        print(f"{CLIENT_DTS}: up to date")
    else:
        CLIENT_DTS.write_text(new)
        print(f"{CLIENT_DTS}: frames rewritten")


if __name__ == "__main__":
    main()
