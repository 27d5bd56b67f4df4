"""
A memory probe inside a server process, for bench/memory.py.

    python -m bench.support.memprobe DIRECTORY FRAMES <daphne arguments>

runs daphne's command line with two signal handlers:

- SIGUSR1 starts tracemalloc, keeping FRAMES frames per allocation (0: never).
  Tracing from the start would make every handshake and heartbeat of the
  warm-up several times slower, for allocations the measurement subtracts anyway.
- SIGUSR2 forks the server: the child (a copy of the process at that instant,
  its pages shared copy-on-write) collects its garbage, writes what it finds to
  DIRECTORY/<n>.tracemalloc (the tracemalloc snapshot, when tracing) and
  DIRECTORY/<n>.json (live objects counted by type, and a look inside one
  instance of each class with many), then DIRECTORY/<n>.done, and exits. The
  server itself is not touched: no collection, no snapshot, nothing of the
  probe's own left in its memory, so that its resident memory still says what
  the connections cost.

SIGRTMIN appends the stacks of every thread to DIRECTORY/stacks.txt (faulthandler):
what a slow server is busy with.
"""

from __future__ import annotations

import faulthandler
import gc
import itertools
import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from types import CoroutineType, FrameType, GeneratorType
from typing import Any

# A class with at least this many live instances gets a specimen looked at (see `specimens`).
SPECIMEN_MIN_INSTANCES = 200
SPECIMEN_CLASSES = 60
# Attributes of a specimen listed, largest first; keys of a dict attribute listed.
SPECIMEN_ATTRIBUTES = 40
SPECIMEN_KEYS = 20
SPECIMEN_HOLDERS = 4
# Containers followed when sizing what an attribute holds (never into another class's instances).
CONTAINERS = (dict, list, tuple, set, frozenset)
SCALARS = (str, bytes, bytearray, int, float, bool, type(None))

_directory = Path()
_frames = 0
_snapshots = itertools.count()
_children: list[int] = []


def type_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def owned_size(value: Any, seen: set[int], depth: int = 0) -> int:
    """`value`'s size with the builtin containers and scalars inside it, each object counted once."""
    if id(value) in seen or depth > 8:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(owned_size(k, seen, depth + 1) + owned_size(v, seen, depth + 1) for k, v in value.items())
    elif isinstance(value, CONTAINERS):
        size += sum(owned_size(item, seen, depth + 1) for item in value)
    elif not isinstance(value, SCALARS):
        return size  # another object: its shallow size only
    return size


def describe(instance: Any) -> dict[str, Any]:
    """An instance's attributes (`__dict__` and `__slots__`), each with what it holds, largest first."""
    attributes: dict[str, Any] = {}
    instance_dict = getattr(instance, "__dict__", None)
    if isinstance(instance_dict, dict):
        attributes.update(instance_dict)
    for kind in type(instance).__mro__:
        for slot in getattr(kind, "__slots__", ()):
            if slot not in ("__dict__", "__weakref__") and hasattr(instance, slot):
                attributes[slot] = getattr(instance, slot)
    rows = []
    for name, value in attributes.items():
        row: dict[str, Any] = {"name": name, "type": type_name(type(value)), "bytes": owned_size(value, set())}
        if isinstance(value, dict) and 0 < len(value) <= SPECIMEN_KEYS * 2:
            keys = [(str(k), type_name(type(v)), owned_size(v, set())) for k, v in value.items()]
            row["keys"] = sorted(keys, key=lambda key: -key[2])[:SPECIMEN_KEYS]
        rows.append(row)
    rows.sort(key=lambda row: -int(row["bytes"]))
    return {
        "shallow": sys.getsizeof(instance),
        "dict": sys.getsizeof(instance_dict) if isinstance(instance_dict, dict) else 0,
        "attributes": len(attributes),
        "listed": rows[:SPECIMEN_ATTRIBUTES],
    }


def _name_of(container: Any, value: Any) -> str:
    """The attribute, key or index under which `container` holds `value` ("?" when not found)."""
    if isinstance(container, dict):
        return next((str(key) for key, item in container.items() if item is value), "?")
    if isinstance(container, list | tuple):
        return next((f"[{index}]" for index, item in enumerate(container) if item is value), "?")
    names = list(getattr(container, "__dict__", None) or {})
    names += [slot for kind in type(container).__mro__ for slot in getattr(kind, "__slots__", ())]
    return next((name for name in names if getattr(container, name, None) is value), "?")


def held_by(instance: Any, ignore: set[int]) -> list[str]:
    """What refers to `instance`: `Owner.attribute`, a coroutine's name, a container's key (a few)."""
    found = []
    for referrer in gc.get_referrers(instance):
        if id(referrer) in ignore or isinstance(referrer, FrameType):
            continue
        if isinstance(referrer, CoroutineType | GeneratorType):
            found.append(f"coroutine {referrer.__qualname__}")
        elif isinstance(referrer, dict):
            key = _name_of(referrer, instance)
            owners = [
                owner
                for owner in gc.get_referrers(referrer)
                if id(owner) not in ignore and getattr(owner, "__dict__", None) is referrer
            ]
            found.append(f"{type_name(type(owners[0]))}.{key}" if owners else f"dict[{key}]")
        else:
            found.append(f"{type_name(type(referrer))}.{_name_of(referrer, instance)}")
        if len(found) >= SPECIMEN_HOLDERS:
            break
    return found


def survey() -> dict[str, Any]:
    """Live objects by type (count, shallow bytes), and a specimen of each numerous class defined in Python."""
    by_type: Counter[str] = Counter()
    shallow: Counter[str] = Counter()
    for obj in gc.get_objects():
        name = type_name(type(obj))
        by_type[name] += 1
        shallow[name] += sys.getsizeof(obj)
    # The middle instance of each numerous class: of a class of the connections, one of the later connections.
    wanted = {
        name: count // 2 for name, count in by_type.most_common(SPECIMEN_CLASSES * 4) if count >= SPECIMEN_MIN_INSTANCES
    }
    specimens: dict[str, Any] = {}
    seen: Counter[str] = Counter()
    everything = gc.get_objects()
    for obj in everything:
        kind = type(obj)
        name = type_name(kind)
        if name not in wanted or name in specimens or kind.__module__ == "builtins" or isinstance(obj, type):
            continue
        if seen[name] == wanted[name]:
            try:
                specimens[name] = describe(obj)
                specimens[name]["held_by"] = held_by(obj, {id(everything)})
            except Exception as error:  # a property that raises: say so, go on
                specimens[name] = {"error": repr(error)}
        seen[name] += 1
    return {
        "types": {name: [count, shallow[name]] for name, count in by_type.items()},
        "specimens": specimens,
    }


def _write(number: int, traced: tuple[int, int], overhead: int) -> None:
    gc.collect()
    base = _directory / str(number)
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(base) + ".tracemalloc")
    figures = {"traced": traced[0], "tracemalloc_overhead": overhead, **survey()}
    Path(str(base) + ".json").write_text(json.dumps(figures))
    Path(str(base) + ".done").write_text("")


def _start_tracing(signum: int, frame: FrameType | None) -> None:
    if _frames and not tracemalloc.is_tracing():
        tracemalloc.start(_frames)


def _snapshot(signum: int, frame: FrameType | None) -> None:
    for child in list(_children):  # reap the earlier ones
        if os.waitpid(child, os.WNOHANG)[0]:
            _children.remove(child)
    number = next(_snapshots)
    tracing = tracemalloc.is_tracing()
    traced = tracemalloc.get_traced_memory() if tracing else (0, 0)
    overhead = tracemalloc.get_tracemalloc_memory() if tracing else 0
    child = os.fork()
    if child:
        _children.append(child)
        return
    code = 0
    try:
        _write(number, traced, overhead)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def main() -> None:
    global _directory, _frames
    _directory, _frames = Path(sys.argv[1]), int(sys.argv[2])
    _directory.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGUSR1, _start_tracing)
    signal.signal(signal.SIGUSR2, _snapshot)
    stacks = (_directory / "stacks.txt").open("a")  # open as long as the server runs
    faulthandler.register(signal.SIGRTMIN, file=stacks, all_threads=True)
    from daphne.cli import CommandLineInterface

    sys.argv = ["daphne", *sys.argv[3:]]
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
