from django.contrib import admin
from django.http import HttpRequest

from stormcert.renewals.models import ReminderSent


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ["certificate", "offset_days", "due_on", "sent_at"]
    list_filter = ["offset_days"]
    search_fields = ["certificate__number", "certificate__holder__email"]
    readonly_fields = ["certificate", "offset_days", "due_on", "sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Rows are claims made by `tick`; adding one by hand would silence a reminder.
        return False
