"""Timed attempts: the draw, saves with sequence numbers, the server's deadline, grading once,
accommodations, resume, and reporting to the journey."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.enrollments.models import StepRecord
from stormcert.enrollments.services import journey_for
from stormcert.exams.models import Answer, Attempt, AttemptQuestion, AttemptStatus, Exam, Question
from stormcert.exams.services import (
    AttemptClosed,
    ExamError,
    close_overdue,
    grant_accommodation,
    save_answer,
    start_attempt,
    submit_attempt,
)
from tests.exams.conftest import T0, ready_for_midterm

pytestmark = pytest.mark.django_db
START = T0 + timedelta(days=1)


def answer_all(attempt: Attempt, *, right: int, when: datetime | None = None) -> None:
    """Answer the first `right` questions correctly and the rest wrongly."""
    for item in attempt.items.select_related("question").order_by("position"):
        correct_shown = item.choice_order.index(item.question.correct)
        shown = correct_shown if item.position <= right else (correct_shown + 1) % len(item.choice_order)
        save_answer(
            attempt_id=attempt.pk,
            position=item.position,
            choice=shown,
            flagged=False,
            seq=item.position,
            now=when or START + timedelta(minutes=5),
        )


def test_the_draw_follows_the_blueprint_and_is_fixed(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    topics = AttemptQuestion.objects.filter(attempt=attempt).values_list("question__topic", flat=True)
    counts = {t: list(topics).count(t) for t in set(topics)}
    assert counts == {b.topic: b.count for b in midterm.blueprint.all()}
    assert attempt.question_count == 35 and attempt.deadline == START + timedelta(minutes=120)
    assert (
        start_attempt(user=alice, exam=midterm, now=START + timedelta(minutes=30)).pk == attempt.pk
    )  # resume
    assert Attempt.objects.count() == 1


def test_a_second_attempt_prefers_unseen_questions(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    first = start_attempt(user=alice, exam=midterm, now=START)
    submit_attempt(attempt_id=first.pk, now=START + timedelta(minutes=10))
    second = start_attempt(user=alice, exam=midterm, now=START + timedelta(days=1))
    seen = set(first.items.values_list("question_id", flat=True))
    again = set(second.items.values_list("question_id", flat=True)) & seen
    # The BMP topic has 28 questions for 12 places: all 12 can be new; smaller topics repeat only as needed.
    bmp_again = Question.objects.filter(pk__in=again, topic="Minimum BMPs").count()
    assert bmp_again == 0


def test_the_midterm_opens_only_after_the_training(alice: User, midterm: Exam) -> None:
    with pytest.raises(Exception, match="Enrollment matching query does not exist|not open"):
        start_attempt(user=alice, exam=midterm, now=START)
    assert not Attempt.objects.exists()


def test_pass_reports_to_the_journey(alice: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    answer_all(attempt, right=25)  # 25/35 = 71.43%
    graded = submit_attempt(attempt_id=attempt.pk, now=START + timedelta(minutes=50))
    assert graded.passed and graded.score_percent == Decimal("71.43") and graded.correct_count == 25
    assert StepRecord.objects.filter(step_code="midterm", outcome="done").exists()
    assert journey_for(enrollment, START + timedelta(minutes=51)).current.code == "course"  # type: ignore[union-attr]


def test_two_fails_use_up_the_attempts(alice: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)
    for n in range(2):
        attempt = start_attempt(user=alice, exam=midterm, now=START + timedelta(days=n))
        answer_all(attempt, right=24, when=START + timedelta(days=n, minutes=5))  # 68.57%: not a pass
        assert not submit_attempt(attempt_id=attempt.pk, now=START + timedelta(days=n, minutes=40)).passed
    journey = journey_for(enrollment, START + timedelta(days=3))
    assert journey.overall == "failed_out"
    with pytest.raises(ExamError, match="Every attempt"):
        start_attempt(user=alice, exam=midterm, now=START + timedelta(days=3))


def test_a_stale_save_never_overwrites_a_newer_one(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    newer = save_answer(attempt_id=attempt.pk, position=1, choice=2, flagged=True, seq=20, now=START)
    older = save_answer(attempt_id=attempt.pk, position=1, choice=0, flagged=False, seq=10, now=START)
    assert newer.accepted and not older.accepted and older.seq == 20
    answer = Answer.objects.get(item__attempt=attempt, item__position=1)
    assert answer.flagged and answer.choice == 2


def test_saves_after_the_deadline_and_grace_are_refused(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    in_grace = attempt.deadline + timedelta(seconds=10)
    assert save_answer(
        attempt_id=attempt.pk, position=1, choice=0, flagged=False, seq=1, now=in_grace
    ).accepted
    with pytest.raises(AttemptClosed, match="Time ran out at"):
        save_answer(
            attempt_id=attempt.pk,
            position=2,
            choice=0,
            flagged=False,
            seq=2,
            now=attempt.deadline + timedelta(seconds=16),
        )


def test_overdue_attempts_are_graded_from_saved_answers_by_tick(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    answer_all(attempt, right=30)
    assert close_overdue(now=attempt.deadline + timedelta(minutes=5)) == 1
    assert close_overdue(now=attempt.deadline + timedelta(minutes=6)) == 0  # twice is harmless
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.TIMED_OUT and attempt.correct_count == 30 and attempt.passed
    assert attempt.submitted_at == attempt.deadline


def test_resuming_never_adds_time(alice: User, midterm: Exam, alice_client: Client) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    again = start_attempt(user=alice, exam=midterm, now=START + timedelta(minutes=90))
    assert again.deadline == attempt.deadline


def test_accommodation_extends_the_deadline(alice: User, sara: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    with pytest.raises(ExamError, match="Give the reason"):
        grant_accommodation(user=alice, factor=Decimal("1.5"), reason="", actor=sara)
    grant_accommodation(user=alice, factor=Decimal("1.5"), reason="Documented disability", actor=sara)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    assert attempt.deadline == START + timedelta(minutes=180) and attempt.factor == Decimal("1.50")


def test_revoking_an_accommodation_twice_audits_once(alice: User, sara: User) -> None:
    from stormcert.exams.services import revoke_accommodation

    accommodation = grant_accommodation(user=alice, factor=Decimal("1.5"), reason="Documented", actor=sara)
    assert revoke_accommodation(accommodation=accommodation, actor=sara, reason="Ended", now=START)
    # The second click finds it already ended: nothing changes, so nothing is audited.
    assert not revoke_accommodation(accommodation=accommodation, actor=sara, reason="Again", now=START)
    assert AuditEvent.objects.filter(verb="exam.accommodation_revoked").count() == 1


def test_submitting_twice_grades_once(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm, now=START)
    answer_all(attempt, right=35)
    first = submit_attempt(attempt_id=attempt.pk, now=START + timedelta(minutes=30))
    second = submit_attempt(attempt_id=attempt.pk, now=START + timedelta(minutes=31))
    assert first.submitted_at == second.submitted_at
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1
    with pytest.raises(AttemptClosed, match="has been submitted"):
        save_answer(
            attempt_id=attempt.pk,
            position=1,
            choice=0,
            flagged=False,
            seq=99,
            now=START + timedelta(minutes=32),
        )


# --- Over HTTP ---------------------------------------------------------------------------------


def test_the_page_never_contains_the_answer_key(alice: User, midterm: Exam, alice_client: Client) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    page = alice_client.get(reverse("exams:attempt", args=[attempt.pk])).content.decode()
    assert not re.search(r"\bcorrect\b", page, re.IGNORECASE)
    for item in attempt.items.select_related("question"):
        # Choices appear in the attempt's shuffled order, without any marker of the right one.
        shown = [item.question.choices[i] for i in item.choice_order]
        block = re.search(rf'id="q{item.position}".*?</fieldset>', page, re.S)
        assert block is not None
        labels = [
            html.unescape(t) for t in re.findall(r'<label for="q\d+-\d+">(.*?)</label>', block.group(0))
        ]
        assert labels == shown
    response = alice_client.post(
        reverse("exams:save", args=[attempt.pk]),
        data=json.dumps({"position": 1, "choice": 0, "flagged": False, "seq": 1}),
        content_type="application/json",
    )
    assert response.status_code == 200 and set(response.json()) == {"accepted", "seq", "position", "saved_at"}


def test_other_candidates_cannot_read_or_save_into_an_attempt(alice: User, eve: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    eve_client = client_for(eve)
    assert eve_client.get(reverse("exams:attempt", args=[attempt.pk])).status_code == 404
    assert eve_client.get(reverse("exams:result", args=[attempt.pk])).status_code == 404
    response = eve_client.post(
        reverse("exams:save", args=[attempt.pk]),
        data=json.dumps({"position": 1, "choice": 0, "flagged": False, "seq": 5}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert eve_client.post(reverse("exams:submit", args=[attempt.pk])).status_code == 404
    assert not Answer.objects.filter(attempt=attempt, seq__gt=0).exists()


def test_save_endpoint_explains_bad_input_and_closed_attempts(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    url = reverse("exams:save", args=[attempt.pk])
    bad = alice_client.post(url, data="nonsense", content_type="application/json")
    assert bad.status_code == 400 and "Send JSON" in bad.json()["error"]
    wrong = alice_client.post(
        url, data=json.dumps({"position": 99, "choice": 0, "seq": 1}), content_type="application/json"
    )
    assert wrong.status_code == 400 and "no question 99" in wrong.json()["error"]
    submit_attempt(attempt_id=attempt.pk)
    closed = alice_client.post(
        url, data=json.dumps({"position": 1, "choice": 0, "seq": 2}), content_type="application/json"
    )
    assert closed.status_code == 409 and closed.json()["closed"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"position": 1, "choice": 0, "seq": 2**63}, "seq must be between 0 and"),
        ({"position": 1, "choice": 0, "seq": 10**30}, "seq must be between 0 and"),
        ({"position": 1, "choice": 0, "seq": -1}, "seq must be between 0 and"),
        ({"position": 2**63, "choice": 0, "seq": 1}, "position must be between"),
        ({"position": 1, "choice": 2**63, "seq": 1}, "choice must be between"),
        ({"position": 1, "choice": 0, "seq": 1.5}, "seq must be a whole number"),
        ({"position": 1, "choice": 0, "seq": [1]}, "seq must be a whole number"),
        ([1, 2], "Send a JSON object"),
    ],
)
def test_save_refuses_numbers_its_columns_cannot_hold(
    alice: User, midterm: Exam, alice_client: Client, body: object, says: str
) -> None:
    # seq of 2**63 overflowed the database integer: a 500 on every backend.
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    url = reverse("exams:save", args=[attempt.pk])
    response = alice_client.post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and says in response.json()["error"]
    assert not Answer.objects.filter(attempt=attempt, seq__gt=0).exists()
    # The largest seq the column holds is still a valid save.
    biggest = {"position": 1, "choice": 0, "seq": 2**63 - 1}
    ok = alice_client.post(url, data=json.dumps(biggest), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["seq"] == 2**63 - 1


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "larger than"),  # refused by size before depth
        ("[" * 30_000 + "]" * 30_000, "nested more than"),
        ('{"position": 1, "choice": 0, "seq": 1, "x": ' + "[" * 50 + "]" * 50 + "}", "nested more than"),
        ('{"position": 1, "choice": 0, "seq": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"position": 1, "choice": 0, "seq": NaN}', "NaN is not a number"),
        (b"\xff\xfe{}", "not UTF-8"),
        ('{"position": 1, "seq": 1, "pad": "' + "x" * 70_000 + '"}', "larger than"),
    ],
)
def test_save_refuses_hostile_json_bodies_with_a_400(
    alice: User, midterm: Exam, alice_client: Client, raw: str | bytes, says: str
) -> None:
    # A body nested 100,000 deep raised RecursionError inside json.loads: a 500.
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    url = reverse("exams:save", args=[attempt.pk])
    response = alice_client.post(url, data=raw, content_type="application/json")
    assert response.status_code == 400 and says in response.json()["error"]


def test_result_page_shows_score_and_topics(alice: User, midterm: Exam, alice_client: Client) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    answer_all(attempt, right=35, when=attempt.started_at + timedelta(minutes=1))
    alice_client.post(reverse("exams:submit", args=[attempt.pk]))
    page = alice_client.get(reverse("exams:result", args=[attempt.pk])).content.decode()
    assert "Your score: 100.00%" in page and "By topic" in page and "Minimum BMPs" in page
    assert re.search(r"12 / 12", page)


def test_json_parser_counts_depth_outside_strings_only() -> None:
    from stormcert.lib.http import BadJSON, json_depth, parse_json

    assert json_depth('{"a": "[[[[[[", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert parse_json(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == {"a": "[" * 33}
    # 100,000 deep with the size cap lifted: still a BadJSON, never a RecursionError.
    with pytest.raises(BadJSON, match="nested more than 20"):
        parse_json(b"[" * 100_000 + b"]" * 100_000, max_bytes=10**6)
