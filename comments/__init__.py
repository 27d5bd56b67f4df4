"""Posts and their live comments, built on the realtime layer."""
