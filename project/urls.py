from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from realtime.urls import operations_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("realtime/", include("realtime.urls")),
    path("", include(operations_urlpatterns)),  # /metrics, /healthz, /readyz, as PROTOCOL.md names them
    path("", include("demo.urls")),
]
