from __future__ import annotations

from notifications.consumers import NotificationsConsumer
from realtime.routing import token_endpoint, websocket_route

websocket_urlpatterns = [
    websocket_route(r"^ws/notifications/?$", token_endpoint(NotificationsConsumer)),
]
