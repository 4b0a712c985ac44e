from __future__ import annotations

from django.contrib import admin

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

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "program", "policy_version", "window_end", "cycle", "route", "completed_at"]
    list_filter = ["program", "route", "policy_version"]
    search_fields = ["user__email", "user__last_name", "license_number"]
    readonly_fields = [f.name for f in Enrollment._meta.fields]
    inlines = [StepRecordInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
