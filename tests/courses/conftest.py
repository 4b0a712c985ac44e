"""Course test builders: a ToR with a current term, sessions, candidates past the midterm."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stormcert.accounts.models import User
from stormcert.courses.models import CourseSession, Mode, QuestionKind, SurveyQuestion
from stormcert.courses.services import publish_session
from stormcert.enrollments.models import Enrollment
from stormcert.programs.models import Program
from tests.enrollments.builders import done
from tests.exams.conftest import ready_for_midterm
from tests.trainers.builders import in_standing

PT = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=PT)


@pytest.fixture
def trainer(programs: None, tom: User) -> User:
    """Tom in standing to teach: a term, a current QISP, the agreement in force signed."""
    return in_standing(tom, T0)


@pytest.fixture
def survey_questions(programs: None) -> list[SurveyQuestion]:
    program = Program.objects.get(code="QISP")
    return [
        SurveyQuestion.objects.create(program=program, position=1, text="Objectives met?"),
        SurveyQuestion.objects.create(program=program, position=2, text="Trainer clear?"),
        SurveyQuestion.objects.create(
            program=program, position=3, text="Anything to change?", kind=QuestionKind.COMMENT, required=False
        ),
    ]


def session_fields(day_offset: int = 30, **overrides: Any) -> dict[str, Any]:
    day = (T0 + timedelta(days=day_offset)).date()
    fields: dict[str, Any] = {
        "title": "QISP one-day training course",
        "starts_at": datetime.combine(day, time(8), tzinfo=PT),
        "ends_at": datetime.combine(day, time(17), tzinfo=PT),
        "time_zone": "America/Los_Angeles",
        "mode": Mode.IN_PERSON,
        "venue": "Training Center",
        "address": "1 Main St",
        "city": "Sacramento",
        "meeting_details": "",
        "capacity": 10,
        "registration_deadline": datetime.combine(day - timedelta(days=3), time(0), tzinfo=PT),
        "price": None,
        "contact": "tom@example.com",
        "notes": "",
    }
    fields.update(overrides)
    return fields


def make_session(
    trainer: User, now: datetime = T0, *, program: Program | None = None, **overrides: Any
) -> CourseSession:
    return publish_session(
        trainer=trainer,
        program=program or Program.objects.get(code="QISP"),
        fields=session_fields(**overrides),
        now=now,
    )


def ready_for_course(user: User, when: datetime = T0) -> Enrollment:
    enrollment = ready_for_midterm(user, when)
    done(enrollment, "midterm", when + timedelta(minutes=2))
    enrollment.refresh_from_db()
    return enrollment
