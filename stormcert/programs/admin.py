from __future__ import annotations

from django.contrib import admin

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.programs.models import Fee, PolicyValue, PolicyVersion, Program, Step


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


class PolicyValueInline(admin.TabularInline):
    model = PolicyValue
    extra = 0
    fields = ["key", "value"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(AuditedAdmin):
    list_display = ["program", "name", "effective_from"]
    list_filter = ["program"]
    inlines = [PolicyValueInline]


@admin.register(Fee)
class FeeAdmin(AuditedAdmin):
    list_display = ["program", "code", "name", "amount", "currency", "effective_from", "refundable"]
    list_filter = ["program", "code", "refundable"]
    search_fields = ["code", "name"]
    date_hierarchy = "effective_from"
