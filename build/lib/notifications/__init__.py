"""
Notifications: a feature app on the realtime library. `notify_user(user,
payload)` stores a notification and pushes it to the user's open
`/ws/notifications` connections on every server process (services.py).
"""
