from __future__ import annotations

from django.contrib import admin

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.courses.models import CourseSession, Seat, SurveyQuestion


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(AuditedAdmin):
    list_display = ["text", "kind", "position", "required", "is_active", "program"]
    list_filter = ["program", "kind", "is_active"]
    list_editable = ["position"]


@admin.register(CourseSession)
class CourseSessionAdmin(AuditedAdmin):
    list_display = ["__str__", "mode", "capacity", "status", "plan_status"]
    list_filter = ["status", "mode", "plan_status"]
    search_fields = ["city", "venue", "trainer__email"]
    raw_id_fields = ["trainer", "plan_decided_by"]


@admin.register(Seat)
class SeatAdmin(AuditedAdmin):
    list_display = ["user", "session", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["user__email"]
    raw_id_fields = ["user", "session", "enrollment", "attendance_recorded_by"]
