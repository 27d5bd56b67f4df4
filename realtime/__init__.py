"""The reusable WebSocket layer: the seed's WebSocket semantics on Channels."""
