"""What a connection may do: origins, rate limits, connection caps, the heartbeat."""
