"""
Sequenced feeds: replay, then live, with no gap and no duplicate
(sequenced.py); the feed checks that catch up what the channel layer lost
(checks.py); publishing after commit (publish.py).
"""
