"""The journey through services: order of steps, registration, failures and lapses under both
rule sets, rules kept mid-way, windows at Pacific midnight, the self-directed route."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.enrollments.journey import Overall, StepState
from stormcert.enrollments.models import Enrollment, Route, SelfAssessmentQuestion, StepRecord
from stormcert.enrollments.services import (
    JourneyError,
    extend_window,
    get_enrollment,
    journey_for,
    migrate_policy,
    record_self_directed,
    record_step_failure,
    start_registration,
    start_resolution,
    submit_self_assessment,
    version_for,
)
from stormcert.payments.models import Order, OrderStatus
from stormcert.payments.services import create_order
from stormcert.programs.models import PolicyValue, PolicyVersion, Program
from stormcert.training.models import Course, LessonProgress
from stormcert.training.services import TrainingError, complete_lesson
from tests.enrollments.builders import done, enroll_and_register, finish_training, make_course, pay, resolve

pytestmark = pytest.mark.django_db
PT = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=PT)


@pytest.fixture
def casqa(programs: None) -> Program:
    program = Program.objects.get(code="QISP")
    make_course(program)
    return program


@pytest.fixture
def owp(programs: None) -> Program:
    program = Program.objects.get(code="QISP")
    make_course(program)
    return program


def under_owp(enrollment: Enrollment) -> Enrollment:
    """Keep the enrollment on the earlier OWP rule version (as one started in 2019-2022 would)."""
    enrollment.policy_version = PolicyVersion.objects.get(program=enrollment.program, name="OWP 2019")
    enrollment.save(update_fields=["policy_version"])
    return enrollment


def through_midterm_ready(user: User, program: Program) -> Enrollment:
    enrollment = enroll_and_register(user, program, T0)
    finish_training(user, Course.objects.get(program=program), T0 + timedelta(days=10))
    return enrollment


def fail(enrollment: Enrollment, code: str, when: datetime) -> None:
    record_step_failure(enrollment=enrollment, step_code=code, source="test", now=when)


# --- Order and registration --------------------------------------------------------------


def test_credit_is_never_given_out_of_order(casqa: Program, alice: User) -> None:
    enrollment = get_enrollment(user=alice, program=casqa, now=T0)
    with pytest.raises(
        JourneyError, match="“Midterm exam” is not open yet. Opens when “Online training” is done."
    ):
        done(enrollment, "midterm", T0)
    with pytest.raises(JourneyError, match="not open yet"):
        start_registration(enrollment=enrollment, now=T0)
    assert not StepRecord.objects.exists() and not Order.objects.exists()


def test_registration_opens_a_two_year_window_and_fixes_the_rules(casqa: Program, alice: User) -> None:
    enrollment = enroll_and_register(alice, casqa, T0)
    assert enrollment.window_end == datetime(2028, 11, 22, 0, 0, tzinfo=PT)
    assert enrollment.policy_version is not None and enrollment.policy_version.name == "CASQA"
    journey = journey_for(enrollment, T0)
    assert journey.access_until == date(2028, 11, 21)
    assert journey.current is not None and journey.current.code == "training"
    assert "Finish every step by November 21, 2028." in journey.current.note
    assert AuditEvent.objects.filter(verb="enrollment.registered").count() == 1


def test_registering_twice_reuses_the_open_order(casqa: Program, alice: User) -> None:
    enrollment = get_enrollment(user=alice, program=casqa, now=T0)
    done(enrollment, "read_guides", T0)
    submit_self_assessment(
        enrollment=enrollment, answers={SelfAssessmentQuestion.objects.get(program=casqa).pk: 0}, now=T0
    )
    first = start_registration(enrollment=enrollment, now=T0)
    assert start_registration(enrollment=enrollment, now=T0).pk == first.pk
    assert Order.objects.count() == 1 and first.total == Decimal("505.00")


def test_a_second_paid_registration_changes_nothing_and_is_flagged(casqa: Program, alice: User) -> None:
    enrollment = get_enrollment(user=alice, program=casqa, now=T0)
    done(enrollment, "read_guides", T0)
    submit_self_assessment(
        enrollment=enrollment, answers={SelfAssessmentQuestion.objects.get(program=casqa).pk: 0}, now=T0
    )
    first = start_registration(enrollment=enrollment, now=T0)
    # A second order for the same thing (say a check mailed after paying by card).
    second = create_order(
        user=alice,
        program=casqa,
        fee_code="registration",
        purpose="enrollment.registration",
        reference={"enrollment": enrollment.pk, "step": "registration"},
        now=T0,
    )
    pay(first, T0)
    window = Enrollment.objects.get().window_end
    pay(second, T0 + timedelta(days=3))
    assert Enrollment.objects.get().window_end == window
    assert AuditEvent.objects.filter(verb="enrollment.duplicate_registration_payment").count() == 1
    assert StepRecord.objects.filter(step_code="registration").count() == 1


def test_self_assessment_needs_every_answer_and_estimates_hours(casqa: Program, alice: User) -> None:
    enrollment = get_enrollment(user=alice, program=casqa, now=T0)
    done(enrollment, "read_guides", T0)
    with pytest.raises(JourneyError, match=r"Answer every question \(1 left\)"):
        submit_self_assessment(enrollment=enrollment, answers={}, now=T0)
    estimate = submit_self_assessment(
        enrollment=enrollment, answers={SelfAssessmentQuestion.objects.get(program=casqa).pk: 1}, now=T0
    )
    # The program's range (training.estimated_hours 16 to training.estimated_hours_max 24), plus 8.
    assert (estimate.low, estimate.high, str(estimate)) == (24, 32, "24–32")


def test_finishing_the_training_unlocks_the_midterm(casqa: Program, alice: User) -> None:
    enrollment = through_midterm_ready(alice, casqa)
    journey = journey_for(enrollment, T0 + timedelta(days=10))
    assert journey.current is not None and journey.current.code == "midterm"
    assert journey.current.state == StepState.CURRENT and journey.current.attempts_left == 2
    assert "35 questions, one sitting of at most 2 hours, pass at 70%." in journey.current.note


def test_finishing_every_step_completes_the_enrollment(casqa: Program, alice: User) -> None:
    enrollment = through_midterm_ready(alice, casqa)
    for code in ("midterm", "course", "survey", "final"):
        done(enrollment, code, T0 + timedelta(days=30))
    enrollment.refresh_from_db()
    assert enrollment.completed_at == T0 + timedelta(days=30)
    assert journey_for(enrollment, T0 + timedelta(days=31)).overall == Overall.COMPLETE


# --- Failures and lapses: CASQA ------------------------------------------------------------


def test_casqa_midterm_failed_twice_means_re_registration_and_training_again(
    casqa: Program, alice: User
) -> None:
    enrollment = through_midterm_ready(alice, casqa)
    when = T0 + timedelta(days=20)
    after_first = record_step_failure(enrollment=enrollment, step_code="midterm", source="test", now=when)
    assert after_first.step("midterm").attempts_left == 1 and after_first.overall == Overall.IN_PROGRESS
    fail(enrollment, "midterm", when)
    journey = journey_for(enrollment, when)
    assert journey.overall == Overall.FAILED_OUT
    assert journey.action is not None and journey.action.fee is not None
    assert journey.action.fee.amount == Decimal("70.00")
    assert journey.action.text == (
        "To go on, pay $70.00 (QISP re-registration) and redo: Online training, Midterm exam."
    )
    with pytest.raises(JourneyError, match="Every attempt"):
        fail(enrollment, "midterm", when)

    order = resolve(enrollment, when + timedelta(days=1))
    assert order.total == Decimal("70.00") and order.status == OrderStatus.PAID
    enrollment.refresh_from_db()
    assert enrollment.cycle == 2
    assert enrollment.window_end == datetime(2028, 12, 13, 0, 0, tzinfo=PT)  # two years from re-registration
    journey = journey_for(enrollment, when + timedelta(days=1))
    assert journey.current is not None and journey.current.code == "training"
    assert not LessonProgress.objects.filter(user=alice, voided_at__isnull=True).exists()
    finish_training(alice, Course.objects.get(program=casqa), when + timedelta(days=2))
    assert journey_for(enrollment, when + timedelta(days=2)).step("midterm").attempts_left == 2


def test_re_registering_never_takes_back_a_staff_extension(casqa: Program, alice: User, sara: User) -> None:
    """Found by the enrollment state machine: staff extended alice's window by a year, she then
    failed out and paid to re-register, and her window shrank back to two years from that day."""
    enrollment = through_midterm_ready(alice, casqa)  # window to 2028-11-22 (Pacific midnight)
    when = T0 + timedelta(days=20)
    extend_window(enrollment=enrollment, last_day=date(2029, 11, 21), actor=sara, reason="illness", now=when)
    fail(enrollment, "midterm", when)
    fail(enrollment, "midterm", when)
    resolve(enrollment, when + timedelta(days=1))
    enrollment.refresh_from_db()
    assert enrollment.cycle == 2  # re-registered: a new cycle, the training and midterm again
    assert enrollment.window_end == datetime(2029, 11, 22, 0, 0, tzinfo=PT)  # the extension stands
    assert journey_for(enrollment, when + timedelta(days=1)).access_until == date(2029, 11, 21)


def test_casqa_final_failed_twice_means_training_midterm_and_course_again(
    casqa: Program, alice: User
) -> None:
    enrollment = through_midterm_ready(alice, casqa)
    when = T0 + timedelta(days=40)
    for code in ("midterm", "course", "survey"):
        done(enrollment, code, when)
    fail(enrollment, "final", when)
    fail(enrollment, "final", when)
    resolve(enrollment, when)
    live = set(
        StepRecord.objects.filter(voided_at__isnull=True, outcome="done").values_list("step_code", flat=True)
    )
    assert live == {"read_guides", "self_assessment", "registration"}
    assert journey_for(enrollment, when).current.code == "training"  # type: ignore[union-attr]


def test_casqa_window_end_means_a_paid_extension_and_nothing_redone(casqa: Program, alice: User) -> None:
    enrollment = through_midterm_ready(alice, casqa)
    done(enrollment, "midterm", T0 + timedelta(days=30))
    lapsed = datetime(2028, 11, 22, 0, 0, tzinfo=PT)
    journey = journey_for(enrollment, lapsed)
    assert journey.overall == Overall.WINDOW_EXPIRED
    assert journey.step("course").state == StepState.BLOCKED
    assert journey.action is not None and journey.action.consequence == "consequence.window_expired"
    assert journey.action.text == "To go on, pay $70.00 (QISP enrollment extension) to get 2 more years."
    with pytest.raises(JourneyError, match="Your enrollment window ended on November 21, 2028."):
        done(enrollment, "course", lapsed)
    resolve(enrollment, lapsed + timedelta(days=10))
    enrollment.refresh_from_db()
    assert enrollment.cycle == 1
    assert enrollment.window_end == datetime(2030, 12, 3, 0, 0, tzinfo=PT)
    assert journey_for(enrollment, lapsed + timedelta(days=10)).current.code == "course"  # type: ignore[union-attr]
    assert StepRecord.objects.filter(voided_at__isnull=False).count() == 0


def test_lessons_cannot_be_completed_after_the_window(casqa: Program, alice: User) -> None:
    enroll_and_register(alice, casqa, T0)
    lesson = Course.objects.get(program=casqa).units.get().lessons.first()
    assert lesson is not None
    with pytest.raises(TrainingError, match=r"Your training access ended on 2028-11-21. Pay the \$70.00"):
        complete_lesson(user=alice, lesson=lesson, now=datetime(2028, 11, 22, 0, 0, 1, tzinfo=PT))
    assert not LessonProgress.objects.exists()


def test_nothing_to_resolve_is_refused(casqa: Program, alice: User) -> None:
    enrollment = enroll_and_register(alice, casqa, T0)
    with pytest.raises(JourneyError, match="Nothing needs to be paid"):
        start_resolution(enrollment=enrollment, now=T0)


# --- Failures and lapses: OWP ----------------------------------------------------------------


def test_owp_any_exam_failed_twice_means_redoing_every_step(owp: Program, alice: User) -> None:
    enrollment = under_owp(through_midterm_ready(alice, owp))
    when = T0 + timedelta(days=20)
    fail(enrollment, "midterm", when)
    fail(enrollment, "midterm", when)
    journey = journey_for(enrollment, when)
    assert journey.action is not None
    assert journey.action.text == "To go on, pay $70.00 (QISP re-registration) and redo every step."
    resolve(enrollment, when)
    live = set(
        StepRecord.objects.filter(voided_at__isnull=True, outcome="done").values_list("step_code", flat=True)
    )
    # The builder also did the CASQA-only steps before registration; OWP's "every step" is every
    # step after registration, and those it never shows.
    assert live - {"read_guides", "self_assessment"} == {"registration"}
    assert enrollment.cycle == 2


def test_owp_window_end_means_re_registration_and_every_step_again(owp: Program, alice: User) -> None:
    enrollment = under_owp(through_midterm_ready(alice, owp))
    done(enrollment, "midterm", T0 + timedelta(days=30))
    lapsed = datetime(2029, 1, 5, 12, 0, tzinfo=PT)
    journey = journey_for(enrollment, lapsed)
    assert journey.overall == Overall.WINDOW_EXPIRED and journey.action is not None
    assert journey.action.fee is not None and journey.action.fee.code == "re_registration"
    resolve(enrollment, lapsed)
    assert enrollment.cycle == 2
    assert enrollment.window_end == datetime(2031, 1, 6, 0, 0, tzinfo=PT)
    assert journey_for(enrollment, lapsed).current.code == "training"  # type: ignore[union-attr]


# --- Rules kept mid-way ------------------------------------------------------------------------


def test_a_rule_change_does_not_move_people_mid_way_unless_staff_migrate_them(
    casqa: Program, alice: User, sara: User
) -> None:
    enrollment = through_midterm_ready(alice, casqa)
    old = enrollment.policy_version
    assert old is not None
    new = PolicyVersion.objects.create(program=casqa, name="CASQA 2027", effective_from=date(2027, 1, 1))
    for value in old.values.all():
        PolicyValue.objects.create(
            version=new, key=value.key, value=3 if value.key == "midterm.attempts" else value.value
        )
    later = datetime(2027, 3, 1, tzinfo=PT)
    assert journey_for(enrollment, later).step("midterm").attempts_left == 2
    bob = User.objects.create_user("bob@example.com", "x")
    assert (
        version_for(get_enrollment(user=bob, program=casqa), later).name == "CASQA 2027"
    )  # newcomers: new rules
    with pytest.raises(JourneyError, match="Give a reason"):
        migrate_policy(enrollment=enrollment, version=new, actor=sara, reason=" ")
    migrate_policy(
        enrollment=enrollment, version=new, actor=sara, reason="Board moved all candidates to 2027 rules"
    )
    enrollment.refresh_from_db()
    assert journey_for(enrollment, later).step("midterm").attempts_left == 3
    event = AuditEvent.objects.get(verb="enrollment.policy_migrated")
    assert event.data == {"from": "CASQA", "to": "CASQA 2027"} and event.actor == sara


# --- Windows at Pacific midnight, across DST -----------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "last_open", "first_closed"),
    [
        # Paid the morning clocks fall back: the window closes at Pacific midnight two years on.
        (
            datetime(2026, 11, 1, 10, 0, tzinfo=PT),
            datetime(2028, 11, 1, 23, 59, 59, tzinfo=PT),
            datetime(2028, 11, 2, 0, 0, tzinfo=PT),
        ),
        # Paid the day clocks spring forward.
        (
            datetime(2026, 3, 8, 9, 0, tzinfo=PT),
            datetime(2028, 3, 8, 23, 59, 59, tzinfo=PT),
            datetime(2028, 3, 9, 0, 0, tzinfo=PT),
        ),
        # Leap day: the window ends with February 28.
        (
            datetime(2028, 2, 29, 12, 0, tzinfo=PT),
            datetime(2030, 2, 28, 23, 59, 59, tzinfo=PT),
            datetime(2030, 3, 1, 0, 0, tzinfo=PT),
        ),
    ],
)
def test_window_ends_at_pacific_midnight(
    casqa: Program, alice: User, paid: datetime, last_open: datetime, first_closed: datetime
) -> None:
    enrollment = enroll_and_register(alice, casqa, paid)
    assert journey_for(enrollment, last_open).overall == Overall.IN_PROGRESS
    assert journey_for(enrollment, first_closed).overall == Overall.WINDOW_EXPIRED
    assert enrollment.window_end == first_closed


# --- Self-directed route -------------------------------------------------------------------------


def test_staff_record_a_self_directed_qisp(casqa: Program, alice: User, sara: User) -> None:
    with pytest.raises(JourneyError, match="Give the license number."):
        record_self_directed(
            user=alice, program=casqa, license_type="PE-civil", license_number=" ", actor=sara, reason="r"
        )
    enrollment = record_self_directed(
        user=alice,
        program=casqa,
        license_type="PE-civil",
        license_number="C 81234",
        actor=sara,
        reason="License verified on the board's site",
        now=T0,
    )
    assert enrollment.route == Route.SELF_DIRECTED and enrollment.completed_at == T0
    journey = journey_for(enrollment, T0)
    assert journey.overall == Overall.COMPLETE and not Order.objects.exists()
    assert all(step.state == StepState.DONE for step in journey.steps)
    with pytest.raises(JourneyError, match="already qualified"):
        record_self_directed(
            user=alice, program=casqa, license_type="PG", license_number="9", actor=sara, reason="r"
        )
