from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.exams.models import AccommodationRequest, BlueprintItem, Exam, Question, QuestionBank


@admin.register(QuestionBank)
class QuestionBankAdmin(AuditedAdmin):
    list_display = ["title", "code", "program"]


@admin.register(Question)
class QuestionAdmin(AuditedAdmin):
    list_display = ["question", "name", "topic", "bank", "retired_at"]
    list_filter = ["bank", "topic", "text_format", "retired_at"]
    search_fields = ["text", "name", "topic"]
    readonly_fields = ["as_candidates_see_it"]

    @admin.display(description="Question")
    def question(self, obj: Question) -> SafeString:
        # The same rendering as the exam page, shortened for the list (tags closed, so still safe).
        return mark_safe(Truncator(obj.rendered_text()).chars(160, html=True))  # noqa: S308

    @admin.display(description="As candidates see it")
    def as_candidates_see_it(self, obj: Question) -> SafeString:
        return obj.rendered_text() if obj.pk else mark_safe("")


class BlueprintInline(admin.TabularInline):
    model = BlueprintItem
    extra = 0


@admin.register(Exam)
class ExamAdmin(AuditedAdmin):
    list_display = ["title", "program", "step_code", "bank", "navigation"]
    inlines = [BlueprintInline]


@admin.register(AccommodationRequest)
class AccommodationRequestAdmin(admin.ModelAdmin):
    """Read-only: candidates file and withdraw requests on their page, staff decide them on
    /staff/exams/accommodations/ (with a reason, emailed and audited), never here."""

    list_display = ["user", "requested_at", "factor", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__last_name"]
    readonly_fields = [f.name for f in AccommodationRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
