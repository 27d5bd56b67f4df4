from __future__ import annotations

from django.apps import AppConfig


class NaiveConfig(AppConfig):
    name = "bench.anchors.naive"
    label = "naive"
