from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stormcert.accounts.models import User
from stormcert.core.demo.exams import load_demo_exams
from stormcert.enrollments.models import Enrollment
from stormcert.exams.models import Exam
from stormcert.programs.models import Program
from stormcert.training.models import Course
from tests.enrollments.builders import enroll_and_register, finish_training, make_course

PT = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=PT)


@pytest.fixture
def midterm(programs: None) -> Exam:
    load_demo_exams()
    return Exam.objects.get(step_code="midterm")


def ready_for_midterm(user: User, when: datetime = T0) -> Enrollment:
    program = Program.objects.get(code="QISP")
    course = Course.objects.filter(program=program).first() or make_course(program)
    enrollment = enroll_and_register(user, program, when)
    finish_training(user, course, when + timedelta(minutes=1))
    return enrollment
