"""A question's text renders the same on the exam page, the review, the admin and item statistics:
imported HTML sanitised, Markdown rendered, plain text escaped as it always was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.exams.models import Exam, Question
from stormcert.exams.services import start_attempt, submit_attempt
from stormcert.exams.text import render_question_text
from tests.exams.conftest import ready_for_midterm

HOSTILE = (
    '<p onclick="x()">Is 5 &lt; 6 <b>always</b>?</p><script>alert(1)</script>'
    '<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">see</a><table><tr><td>1</td></tr></table>'
)
SAFE = "<p>Is 5 &lt; 6 <b>always</b>?</p>see<table><tbody><tr><td>1</td></tr></tbody></table>"


def test_each_format_renders_safely() -> None:
    assert render_question_text(HOSTILE, "html") == SAFE
    assert (
        render_question_text("Is a <b> tag & co?\nNext line", "plain")
        == "Is a &lt;b&gt; tag &amp; co?<br>Next line"
    )
    assert render_question_text("Which is **bold**? <script>x</script>\n\n- a\n- b", "markdown") == (
        "<p>Which is <strong>bold</strong>? </p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    )


@pytest.mark.django_db
def test_the_exam_page_review_admin_and_statistics_agree(
    alice: User, midterm: Exam, alice_client: Client, sara_client: Client
) -> None:
    now = timezone.now()  # the exam page is read at the real time: the attempt must be running
    ready_for_midterm(alice, now - timedelta(hours=1))
    attempt = start_attempt(user=alice, exam=midterm, now=now)
    # Every question imported as HTML but the first one drawn, which stays plain text.
    Question.objects.filter(bank=midterm.bank).update(text=HOSTILE, text_format="html")
    plain = attempt.items.order_by("position").first().question  # type: ignore[union-attr]
    Question.objects.filter(pk=plain.pk).update(text="Is a <b> tag & co?", text_format="plain")
    pages = {
        "exam": alice_client.get(reverse("exams:attempt", args=[attempt.pk])).content.decode(),
        "admin list": sara_client.get(reverse("admin:exams_question_changelist")).content.decode(),
        "admin question": sara_client.get(
            reverse("admin:exams_question_change", args=[Question.objects.exclude(pk=plain.pk).first().pk])  # type: ignore[union-attr]
        ).content.decode(),
    }
    submit_attempt(attempt_id=attempt.pk, now=now + timedelta(minutes=5))
    pages["statistics"] = sara_client.get(reverse("exams:staff_stats", args=[midterm.pk])).content.decode()
    for where, page in pages.items():
        assert SAFE in page, where
        # (The admin's edit box shows the source, escaped: text, never markup.)
        assert "<script>alert" not in page and 'onerror="' not in page and '<img src="x"' not in page, where
    for where in ("exam", "admin list", "statistics"):
        assert "Is a &lt;b&gt; tag &amp; co?" in pages[where], where
