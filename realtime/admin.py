"""Notifications in the Django admin, and an action that sends one to selected users."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from realtime.models import Notification
from realtime.services import notify_user


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "text", "created_at"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__username", "recipient__email"]
    list_filter = ["created_at"]
    date_hierarchy = "created_at"
    readonly_fields = ["recipient", "seq", "payload", "created_at"]

    @admin.display(description="text")
    def text(self, notification: Notification) -> str:
        return str(notification.payload.get("text", notification.payload))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Notifications are sent (the user action below, notify_user), not typed in here.
        return False


class NotificationForm(forms.Form):
    text = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


User = get_user_model()


class NotifyingUserAdmin(UserAdmin):
    actions = [*(UserAdmin.actions or []), "send_notification"]

    @admin.action(description="Send a notification to the selected users", permissions=["change"])
    def send_notification(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        form = NotificationForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            users = list(queryset)
            for user in users:
                notify_user(user, {"text": form.cleaned_data["text"]})
            self.message_user(request, f"Sent a notification to {len(users)} user(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a notification",
            "form": form,
            "users": queryset,
            "action": "send_notification",
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/realtime/send_notification.html", context)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, NotifyingUserAdmin)
