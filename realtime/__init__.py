"""
Authenticated, realtime WebSocket features for a Django site: the seed's
WebSocket semantics (starlette's state machine) on Django Channels.

The library knows no feature. Feature apps (`notifications`, `comments`, a
host's own) register what it needs to know of them with
`realtime.registry.register` (docs/reference/python-api.md).
"""

__version__ = "0.2.0"
