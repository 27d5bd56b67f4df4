"""The library's HTTP endpoints: `include("realtime.urls")` under `realtime/` (README, "Add it to your Django site")."""

from __future__ import annotations

from django.urls import path

from realtime import registry
from realtime.auth import views

app_name = "realtime"

urlpatterns = [
    path("token/", views.token, name="token"),
    *registry.http_urlpatterns(),
]
