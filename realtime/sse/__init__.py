"""
Server-Sent Events: `/ws/` for clients that cannot open a WebSocket (PROTOCOL.md,
"Server-Sent Events: when WebSockets are blocked").

A stream is a `/ws/` connection whose frames go out as SSE events instead of
WebSocket frames: the same token middleware, origin check, caps, consumer
(`StreamConsumer`, a `TopicsConsumer`), subscriptions, replay, presence and
limits, reached through a WebSocket scope that the stream's HTTP request is
turned into (stream.py); the client's messages come in by POST, through the
channel layer to whichever process holds the stream (views.py). What is the
stream's own: the `connected` and `close` events, the `id:` cursor that
resumes every topic (cursor.py), heartbeat comments instead of `ping` frames.
"""
