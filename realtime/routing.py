from __future__ import annotations

from django.urls import re_path

from realtime.close_codes import CLOSE_NOT_FOUND
from realtime.consumers import EchoConsumer, JsonConsumer, NotificationsConsumer
from realtime.handshake import refuse
from realtime.middleware import TokenAuthMiddleware
from realtime.websocket import Message, Receive, Send


async def refuse_unknown_path(scope: Message, receive: Receive, send: Send) -> None:
    await refuse(receive, send, CLOSE_NOT_FOUND)


websocket_urlpatterns = [
    re_path(r"^ws/echo/?$", EchoConsumer.as_asgi()),
    re_path(r"^ws/json/?$", JsonConsumer.as_asgi()),
    re_path(r"^ws/notifications/?$", TokenAuthMiddleware(NotificationsConsumer.as_asgi())),
]

# Last in the router: any other path is refused before accept.
unknown_path = re_path(r"", refuse_unknown_path)
