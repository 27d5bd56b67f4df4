"""Posts and their live comments: a feature app on the realtime library."""
