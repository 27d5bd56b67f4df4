"""The library's HTTP endpoints: `include("realtime.urls")` under `realtime/` (docs/tutorial.md)."""

from __future__ import annotations

from django.urls import path

from realtime import registry
from realtime.auth import views
from realtime.health.views import healthz, readyz
from realtime.metrics.views import metrics
from realtime.sse import views as sse

app_name = "realtime"

# What an operator reads (docs/how-to/observe.md): under realtime/ here, and, as PROTOCOL.md names
# them, at the root of a site that adds `path("", include(operations_urlpatterns))`.
operations_urlpatterns = [
    path("metrics", metrics, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

urlpatterns = [
    path("token/", views.token, name="token"),
    path("sse", sse.stream, name="sse"),
    path("sse/<str:name>", sse.post_message, name="sse-message"),
    *operations_urlpatterns,
    *registry.http_urlpatterns(),
]
