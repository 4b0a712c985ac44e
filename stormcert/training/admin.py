from __future__ import annotations

from django.contrib import admin

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.training.models import Course, Lesson, QuizQuestion, Unit


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ["position", "title", "summary"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(AuditedAdmin):
    list_display = ["title", "code", "program", "kind", "effective_from", "is_published"]
    list_filter = ["program", "kind", "is_published"]
    prepopulated_fields = {"code": ["title"]}
    inlines = [UnitInline]


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0
    fields = ["position", "title", "kind", "required", "estimated_minutes", "video_seconds"]
    show_change_link = True


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ["title", "course", "position"]
    list_filter = ["course"]
    inlines = [LessonInline]


class QuizQuestionInline(admin.StackedInline):
    model = QuizQuestion
    extra = 0
    fields = ["position", "text", "choices"]


@admin.register(Lesson)
class LessonAdmin(AuditedAdmin):
    list_display = ["title", "unit", "position", "kind", "required", "estimated_minutes"]
    list_filter = ["unit__course", "kind", "required"]
    search_fields = ["title", "body"]
    inlines = [QuizQuestionInline]
