"""
Anchor B: the naive port a Channels user would write from the seed and the
Channels tutorial: stock `AsyncWebsocketConsumer` / `AsyncJsonWebsocketConsumer`,
the token decoded in `connect()`, a heartbeat task per connection (the seed's
tip), one `database_sync_to_async` call per comment and a `group_send` after it.
It runs on the same Django, channels and daphne as the project. Benchmarks only.
"""
