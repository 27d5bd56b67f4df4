"""
This site's choice: the user list of the admin gets the notifications app's
*Send a notification* action (the app itself leaves a host's `UserAdmin` alone).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from notifications.admin import send_notification

User = get_user_model()


class SiteUserAdmin(UserAdmin):
    actions = [send_notification]


admin.site.unregister(User)
admin.site.register(User, SiteUserAdmin)
