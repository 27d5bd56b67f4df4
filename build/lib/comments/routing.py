from __future__ import annotations

from comments.consumers import LiveCommentsConsumer
from realtime.routing import token_endpoint, websocket_route

websocket_urlpatterns = [
    websocket_route(r"^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$", token_endpoint(LiveCommentsConsumer)),
]
