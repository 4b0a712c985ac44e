from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.enrollments.models import Enrollment, SelfAssessmentQuestion, StepRecord


@admin.register(SelfAssessmentQuestion)
class SelfAssessmentQuestionAdmin(AuditedAdmin):
    list_display = ["text", "program", "position"]
    list_filter = ["program"]


class StepRecordInline(admin.TabularInline):
    model = StepRecord
    extra = 0
    can_delete = False
    readonly_fields = ["step_code", "outcome", "cycle", "at", "source", "data", "voided_at", "void_reason"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "program", "policy_version", "window_end", "cycle", "route", "completed_at"]
    list_filter = ["program", "route", "policy_version"]
    search_fields = ["user__email", "user__last_name", "license_number"]
    readonly_fields = [f.name for f in Enrollment._meta.fields]
    inlines = [StepRecordInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
