from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.programs.models import Fee, PolicyValue, PolicyVersion, Program, Step

READ_ONLY_NOTE = (
    "Rules and fees are read-only here: a version saved with a rule missing or out of range broke "
    "program pages. Add a rule version or a new fee amount at /staff/programs/ (checked whole, "
    "previewed, audited)."
)


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    fields = ["position", "code", "title", "kind", "description", "resources"]


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = ["code", "short_name", "name", "kind", "time_zone", "is_public"]
    search_fields = ["code", "name"]
    inlines = [StepInline]
    filter_horizontal = ["requires"]


class ReadOnly:
    """No add, change or delete here: the staff rules editor (/staff/programs/) is the way in."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        messages.info(request, READ_ONLY_NOTE)
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            messages.info(request, READ_ONLY_NOTE)
        return super().change_view(request, object_id, form_url, extra_context)


class PolicyValueInline(ReadOnly, admin.TabularInline):
    model = PolicyValue
    extra = 0
    fields = ["key", "value"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["program", "name", "effective_from"]
    list_filter = ["program"]
    inlines = [PolicyValueInline]


@admin.register(PolicyValue)
class PolicyValueAdmin(ReadOnlyAdmin):
    list_display = ["version", "key", "value"]
    list_filter = ["version__program", "version"]
    search_fields = ["key"]


@admin.register(Fee)
class FeeAdmin(ReadOnlyAdmin):
    list_display = ["program", "code", "name", "amount", "currency", "effective_from", "refundable"]
    list_filter = ["program", "code", "refundable"]
    search_fields = ["code", "name"]
    date_hierarchy = "effective_from"
