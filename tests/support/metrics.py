"""Reading this process's metrics in tests: what a block of a test added to a sample."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import REGISTRY


def sample(name: str, labels: Mapping[str, str] | None = None) -> float:
    """The value of one sample of the default registry (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, dict(labels or {})) or 0.0


class Samples:
    """`before = Samples(); ...; before.added(name, labels)`: how much a sample grew since."""

    def __init__(self) -> None:
        self._before = {
            (sample_.name, tuple(sorted(sample_.labels.items()))): sample_.value
            for family in REGISTRY.collect()
            for sample_ in family.samples
        }

    def added(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        key = (name, tuple(sorted((labels or {}).items())))
        return sample(name, labels) - self._before.get(key, 0.0)
