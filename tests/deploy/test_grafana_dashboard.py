"""deploy/grafana-dashboard.json asks only for metrics the server exports, and shows what an operator watches."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from prometheus_client import REGISTRY

import realtime.metrics  # noqa: F401  (every metric registered)

DASHBOARD = Path(settings.BASE_DIR) / "deploy" / "grafana-dashboard.json"
# Words of PromQL that are not metric names.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
# The sample names each type of family exports (a labelled family may have no sample yet).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def expressions() -> list[str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads: its identifiers that are no function, keyword or label."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        if match.group() in KEYWORDS or text[match.end() :].lstrip().startswith("("):
            continue  # a keyword, or a function or aggregation
        names.add(match.group())
    return names


def exported() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(sample.name for sample in family.samples)
        names.update(f"{family.name}{suffix}" for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def test_the_parser_finds_the_metrics_of_an_expression_and_nothing_else() -> None:
    expression = 'histogram_quantile(0.99, sum by (le, kind) (rate(a_bucket{x="y(z)"}[5m]))) / on(i) b_total > bool 0'
    assert metric_names(expression) == {"a_bucket", "b_total"}


def test_every_expression_of_the_dashboard_names_only_metrics_the_server_exports() -> None:
    unknown = {expression: sorted(metric_names(expression) - exported()) for expression in expressions()}
    assert {expression: names for expression, names in unknown.items() if names} == {}


def test_the_dashboard_shows_connections_handshakes_closes_latency_quantiles_truncations_and_failures() -> None:
    named = set().union(*(metric_names(expression) for expression in expressions()))
    assert {
        "realtime_connections",
        "realtime_handshakes_total",
        "realtime_closes_total",
        "realtime_delivery_seconds_bucket",
        "realtime_replay_truncations_total",
        "realtime_channel_layer_failures_total",
        "realtime_database_failures_total",
        "realtime_fell_behind_total",
        "realtime_rate_limited_total",
    } <= named
    assert [e for e in expressions() if e.startswith("histogram_quantile(")] == [
        "histogram_quantile(0.5, sum by (le, kind) (rate(realtime_delivery_seconds_bucket[$__rate_interval])))",
        "histogram_quantile(0.99, sum by (le, kind) (rate(realtime_delivery_seconds_bucket[$__rate_interval])))",
    ]
