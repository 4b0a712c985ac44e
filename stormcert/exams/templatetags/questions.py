"""`{{ question|question_text }}`: a question's text as candidates see it, for stored questions and
for questions read from a file but not yet imported alike."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from stormcert.exams.text import render_question_text

register = template.Library()


@register.filter
def question_text(question: Any) -> SafeString:
    return render_question_text(question.text, question.text_format)


@register.filter
def feedback_for(question: Any, index: int) -> str:
    feedback = question.feedback or []
    return feedback[index] if index < len(feedback) else ""
