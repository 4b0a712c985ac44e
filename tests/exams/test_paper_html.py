"""The exam page's questions and summary grid, built in Python (exams/paper_html.py): what the
template used to show, with every choice escaped, the saved answer and flag restored on resume,
and one question per page when the exam says so."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.exams.models import Exam, Navigation, Question
from stormcert.exams.services import save_answer, start_attempt
from tests.exams.conftest import ready_for_midterm

pytestmark = pytest.mark.django_db


def test_the_page_shows_each_question_escaped_with_what_was_saved(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    now = timezone.now()  # read at the real time: the attempt must be running
    ready_for_midterm(alice, now - timedelta(hours=1))
    attempt = start_attempt(user=alice, exam=midterm, now=now)
    first = attempt.items.select_related("question").get(position=1)
    hostile = ['<img src=x onerror="alert(1)">', 'Tom & "Jerry"', "plain", "<b>bold</b>"]
    Question.objects.filter(pk=first.question_id).update(choices=hostile[: len(first.question.choices)])
    save_answer(attempt_id=attempt.pk, position=1, choice=2, flagged=True, seq=7, now=now)
    save_answer(attempt_id=attempt.pk, position=3, choice=0, flagged=False, seq=8, now=now)

    page = alice_client.get(reverse("exams:attempt", args=[attempt.pk])).content.decode()

    total = attempt.items.count()
    assert page.count('class="exam-question"') == total
    block = re.search(r'<fieldset[^>]* id="q1".*?</fieldset>', page, re.S)
    assert block is not None
    q1 = block.group(0)
    assert 'data-seq="7"' in q1 and f"Question 1 of {total}" in q1
    assert "<img" not in page and "<b>bold</b>" not in page  # choices are text, never markup
    shown = [hostile[i] for i in first.choice_order]
    labels = re.findall(r'<label for="q1-\d">(.*?)</label>', q1)
    assert labels == [html.escape(text) for text in shown]  # in the shuffled order, escaped
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in labels
    assert re.search(r'id="q1-2" value="2" checked>', q1) and q1.count(" checked") == 2  # choice + flag
    assert 'id="flag1" data-flag checked>' in q1
    assert re.search(r'id="q3-0" value="0" checked>', page)
    # The summary grid says which are answered and flagged, in words for a screen reader too.
    assert 'id="nav1" class="answered flagged" aria-label="Question 1, answered, flagged"' in page
    assert 'id="nav2" class="" aria-label="Question 2, not answered"' in page
    assert f'<span id="answered-count">2</span> of {total} answered' in page


def test_one_question_per_page(alice: User, midterm: Exam, alice_client: Client) -> None:
    Exam.objects.filter(pk=midterm.pk).update(navigation=Navigation.ONE)
    now = timezone.now()
    ready_for_midterm(alice, now - timedelta(hours=1))
    attempt = start_attempt(user=alice, exam=midterm, now=now)
    url = reverse("exams:attempt", args=[attempt.pk])

    page = alice_client.get(url, {"q": 2}).content.decode()

    assert page.count('class="exam-question"') == 1 and 'id="q2"' in page
    assert 'href="?q=1" rel="prev"' in page and 'href="?q=3" rel="next"' in page
    assert 'href="?q=5" id="nav5"' in page  # the grid links to the pages
    last = attempt.items.count()
    page = alice_client.get(url, {"q": 10_000}).content.decode()
    assert f'id="q{last}"' in page and 'rel="next"' not in page  # clamped to the last question
