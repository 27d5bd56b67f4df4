"""
Notifications in the Django admin.

*Notifications* lists and searches them; its *Add* button sends one: pick
users, write a text, and each gets it stored and pushed. The app does not
touch the host's `User` admin; a site that wants the same from its user list
adds the `send_notification` action to its own `UserAdmin`:

    from notifications.admin import send_notification

    class MyUserAdmin(UserAdmin):
        actions = [*UserAdmin.actions, send_notification]
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notify_user

TEXT_MAX_LENGTH = 1000


class NotificationTextForm(forms.Form):
    text = forms.CharField(max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class SendNotificationForm(NotificationTextForm):
    recipients: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None, widget=FilteredSelectMultiple("users", is_stacked=False)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model()._default_manager.order_by("pk")
        field = self.fields["recipients"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = users


def send_to(users: list[Any], text: str) -> int:
    for user in users:
        notify_user(user, {"text": text})
    return len(users)


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

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """*Add notification* sends one: stored per recipient and pushed (notify_user), never typed in as a row."""
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)  # Django's own refusal
        form = SendNotificationForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            sent = send_to(list(form.cleaned_data["recipients"]), form.cleaned_data["text"])
            self.message_user(request, f"Sent a notification to {sent} user(s).", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:notifications_notification_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a notification",
            "form": form,
            "media": self.media + form.media,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/notifications/send_notification.html", context)


@admin.action(description="Send a notification to the selected users", permissions=["change"])
def send_notification(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    """An action for a host's own `UserAdmin`: a text for the selected users, stored and pushed to each."""
    form = NotificationTextForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        sent = send_to(list(queryset), form.cleaned_data["text"])
        modeladmin.message_user(request, f"Sent a notification to {sent} user(s).", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Send a notification",
        "form": form,
        "users": queryset,
        "action": "send_notification",
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/notifications/send_notification_action.html", context)
