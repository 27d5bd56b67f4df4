"""docs/reference/metrics.md lists every `realtime_*` metric this process exports, its type, labels and their values."""

from __future__ import annotations

import re
from collections.abc import Sequence

from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from realtime import registry
from realtime.limits.ratelimit import MESSAGE
from realtime.limits.replays import REPLAY
from realtime.metrics import catalog
from realtime.metrics.database import IDLE, IN_USE
from realtime.metrics.endpoints import OTHER, route_label
from realtime.routing import seed_urlpatterns
from realtime.server.frames import FRAMES_BUDGET
from realtime.topics.kinds import topic_kinds
from tests.docs.reference import code_spans, page, section, table

# The name a family's samples are exported under (a counter's `_total`); a histogram's is its base name.
EXPORTED_SUFFIX = {"counter": "_total"}


def families() -> dict[str, list[str]]:
    """Every `realtime_*` family as the page names it: exported name -> [type, labels]."""
    # prometheus_client reports a family's label names only once it has a sample: read them where it is declared.
    declared = {metric._name: metric for metric in vars(catalog).values() if isinstance(metric, MetricWrapperBase)}
    found: dict[str, list[str]] = {}
    for family in REGISTRY.collect():
        if not family.name.startswith("realtime_"):
            continue
        wrapper = declared.get(family.name)
        labels: Sequence[str] = wrapper._labelnames if wrapper is not None else family._labelnames  # type: ignore[attr-defined]  # a MetricFamily's, set by its __init__
        name = family.name + EXPORTED_SUFFIX.get(family.type, "")
        found[name] = [family.type, ", ".join(f"`{label}`" for label in labels)]
    return found


def rows() -> dict[str, list[str]]:
    """The table's rows by metric: [type, labels, what it counts]."""
    return {code_spans(row[0])[0]: row[1:] for row in table(section(page("metrics.md"), "The metrics"))}


def labels() -> dict[str, str]:
    """The Labels table: label -> its values."""
    return {code_spans(row[0])[0]: row[1] for row in table(section(page("metrics.md"), "Labels"))}


def test_the_table_lists_every_metric_with_its_type_and_labels_and_no_other() -> None:
    assert {name: row[:2] for name, row in rows().items()} == families()


def test_every_value_of_a_metrics_own_label_is_listed_with_it() -> None:
    budgets = {MESSAGE.kind, REPLAY, FRAMES_BUDGET} | {
        budget.kind for feature in registry.features() for budget in feature.budgets
    }
    values = {
        "realtime_handshakes_total": set(catalog.OUTCOMES),
        "realtime_closes_total": set(catalog.CLOSERS),
        "realtime_fell_behind_total": set(catalog.FELL_BEHIND_CAUSES),
        "realtime_rate_limited_total": budgets,
        "realtime_database_failures_total": {catalog.OUTAGE, catalog.OTHER_ERROR},
        "realtime_database_connections": {IN_USE, IDLE},
    }
    unlisted = {name: wanted - set(code_spans(rows()[name][2])) for name, wanted in values.items()}
    assert {name: missing for name, missing in unlisted.items() if missing} == {}


def test_the_endpoint_label_lists_every_route_of_this_site_and_the_label_of_no_route() -> None:
    routes = {route_label(route) for route in [*registry.websocket_urlpatterns(), *seed_urlpatterns]}
    assert routes | {OTHER} <= set(code_spans(labels()["endpoint"]))


def test_the_kind_label_lists_every_registered_topic_kind() -> None:
    assert set(topic_kinds()) <= set(code_spans(labels()["kind"]))


def test_every_close_code_of_the_reference_is_counted_by_its_number() -> None:
    listed = re.findall(r'<a id="(\d+)">', page("close-codes.md"))
    assert [code for code in listed if catalog.close_code_label(int(code)) != code] == []


def test_the_delivery_buckets_are_the_histograms() -> None:
    line = re.search(
        r"`realtime_delivery_seconds` has these buckets, in seconds: ((?:[\d.]+,\s+)*\d+(?:\.\d+)?)\.",
        page("metrics.md"),
    )
    assert line is not None
    assert [float(bucket) for bucket in re.split(r",\s+", line.group(1))] == list(catalog.DELIVERY_BUCKETS)
