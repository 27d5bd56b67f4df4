"""Scraping a live server's `/metrics` and reading samples out of it, as Prometheus would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client.parser import text_string_to_metric_families

from tests.support.http import get
from tests.support.live import LiveServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: LiveServer) -> Samples:
    answer = get(f"{server.http_url}/metrics")
    assert answer.status == 200, answer
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.body.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, labels: Mapping[str, str] | None = None) -> float:
    return samples.get((name, tuple(sorted((labels or {}).items()))), 0.0)


def total(scrapes: Iterable[Samples], name: str, labels: Mapping[str, str] | None = None) -> float:
    """One sample summed over processes, as `sum without (instance)` does."""
    return sum(value(samples, name, labels) for samples in scrapes)
