"""Exam day locks the candidate's own rows only (tests/lockcheck.py has the rule): never the
exam's or the program's row, which every other candidate's start, save and submit reads."""

from __future__ import annotations

import pytest
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.exams.models import Exam
from stormcert.exams.services import save_answer, start_attempt, submit_attempt
from tests import lockcheck
from tests.exams.conftest import ready_for_midterm

pytestmark = pytest.mark.django_db


def test_start_save_and_submit_lock_only_the_candidates_rows(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice, timezone.now())
    with lockcheck.watching() as seen:
        attempt = start_attempt(user=alice, exam=midterm)
        save_answer(attempt_id=attempt.pk, position=1, choice=0, flagged=False, seq=1)
        submit_attempt(attempt_id=attempt.pk)
    locked = set().union(*(tables for _, tables in seen))
    assert (
        {"enrollments_enrollment", "exams_attempt"} <= locked <= {"enrollments_enrollment", "exams_attempt"}
    )
    # Since prepared papers (issue 20), a start takes its paper with one conditional UPDATE and a
    # save is one UPDATE of the answer's row: neither takes a row lock at all. Grading locks the
    # attempt and the enrollment.
    sites = {site.rsplit(".", 1)[-1] for site, _ in seen}
    assert "submit_attempt" in sites and not sites & {"start_attempt", "save_answer"}
