from __future__ import annotations

from django.contrib import admin

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.exams.models import BlueprintItem, Exam, Question, QuestionBank


@admin.register(QuestionBank)
class QuestionBankAdmin(AuditedAdmin):
    list_display = ["title", "code", "program"]


@admin.register(Question)
class QuestionAdmin(AuditedAdmin):
    list_display = ["text", "topic", "bank", "retired_at"]
    list_filter = ["bank", "topic", "retired_at"]
    search_fields = ["text", "topic"]


class BlueprintInline(admin.TabularInline):
    model = BlueprintItem
    extra = 0


@admin.register(Exam)
class ExamAdmin(AuditedAdmin):
    list_display = ["title", "program", "step_code", "bank", "navigation"]
    inlines = [BlueprintInline]
