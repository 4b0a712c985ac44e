from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from stormcert.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "verb", "object_type", "object_repr", "reason"]
    list_filter = ["verb", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id", "reason"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
