"""The journey's workflows: acknowledge, self-assess, register, record step results, resolve
failures and lapses, and the staff actions on an enrollment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.enrollments.hooks import enrollment_completed
from stormcert.enrollments.journey import (
    Facts,
    FeeFact,
    Journey,
    Overall,
    RecordFact,
    StepFact,
    StepState,
    evaluate,
    window_end_for,
)
from stormcert.enrollments.journey import (
    last_day as journey_last_day,
)
from stormcert.enrollments.models import (
    Enrollment,
    LicenseType,
    Outcome,
    Route,
    SelfAssessmentQuestion,
    StepRecord,
)
from stormcert.lib.db import lock
from stormcert.payments.models import Order
from stormcert.payments.services import get_or_create_order
from stormcert.programs.lookup import program_or_404
from stormcert.programs.models import PolicyVersion, Program, ProgramKind
from stormcert.programs.rules import fees_in_force, program_today, rules_for_version, version_in_force

REGISTRATION = "enrollment.registration"
CONSEQUENCE = "enrollment.consequence"


class JourneyError(Exception):
    """The step cannot be taken now; the message says why in plain words."""


def candidate_program_or_404(*, user: User, code: str) -> Program:
    """The qualification program a candidate URL names: any public one, or a hidden one the
    person is already enrolled in (a retired program stays readable to its candidates). Not
    found otherwise, so nobody starts a program that is not open."""
    program = program_or_404(code, kind=ProgramKind.QUALIFICATION)
    if not program.is_public and not Enrollment.objects.filter(user=user, program=program).exists():
        raise Http404("No such program.")
    return program


def get_enrollment(*, user: User, program: Program, now: datetime | None = None) -> Enrollment:
    enrollment, created = Enrollment.objects.get_or_create(
        user=user, program=program, defaults={"created_at": now or timezone.now()}
    )
    if created:
        record(actor=user, verb="enrollment.created", obj=enrollment, now=now)
    return enrollment


def peek_enrollment(*, user: User, program: Program, now: datetime | None = None) -> Enrollment:
    """The person's enrollment for reading a page: the saved one, or an unsaved one at the start
    of the program (no records). A GET changes nothing; the first action saves it
    (`get_enrollment`)."""
    found = Enrollment.objects.filter(user=user, program=program).first()
    return found or Enrollment(user=user, program=program, created_at=now or timezone.now())


def version_for(enrollment: Enrollment, now: datetime) -> PolicyVersion:
    """The kept version once registered; until then, whatever is in force today."""
    return enrollment.policy_version or version_in_force(
        enrollment.program, program_today(enrollment.program, now)
    )


def facts_for(enrollment: Enrollment, now: datetime) -> Facts:
    program = enrollment.program
    version = version_for(enrollment, now)
    today = program_today(program, now)
    values = {v.key: v.value for v in version.values.all()}
    # An older rule version may have had fewer steps; its enrollments never see the others.
    skipped = set(values.get("journey.skipped_steps", []))
    return Facts(
        steps=tuple(StepFact(s.code, s.kind, s.title) for s in program.steps.all() if s.code not in skipped),
        values=values,
        fees={code: FeeFact(code, f.name, f.amount) for code, f in fees_in_force(program, today).items()},
        email_verified=EmailAddress.objects.filter(user_id=enrollment.user_id, verified=True).exists(),
        window_start=enrollment.window_start,
        window_end=enrollment.window_end,
        cycle=enrollment.cycle,
        records=()
        if enrollment.pk is None
        else tuple(
            RecordFact(r.step_code, r.outcome, r.cycle)
            # "enrollment" too: iterating a related manager sets each record's enrollment, which read
            # a deferred enrollment_id back one query per record (4 to 5 per evaluation).
            for r in enrollment.records.filter(voided_at__isnull=True).only(
                "enrollment", "step_code", "outcome", "cycle"
            )
        ),
        completed=enrollment.completed_at is not None,
        self_directed=enrollment.route == Route.SELF_DIRECTED,
        zone=program.zone,
        now=now,
    )


def journey_for(enrollment: Enrollment, now: datetime | None = None) -> Journey:
    return evaluate(facts_for(enrollment, now or timezone.now()))


def _require_current(enrollment: Enrollment, step_code: str, now: datetime) -> Journey:
    """The step must be the one to act on at `now` (for exams: when the attempt started)."""
    journey = journey_for(enrollment, now)
    step = next((s for s in journey.steps if s.code == step_code), None)
    if step is None:
        raise JourneyError(f"{enrollment.program} has no step {step_code!r}.")
    if step.state == StepState.DONE:
        raise JourneyError(f"“{step.title}” is already done.")
    if step.state == StepState.LOCKED:
        raise JourneyError(f"“{step.title}” is not open yet. {step.note}")
    if step.state == StepState.BLOCKED:
        raise JourneyError(step.note)
    return journey


@transaction.atomic
def record_step_done(
    *,
    enrollment: Enrollment,
    step_code: str,
    source: str,
    data: dict[str, Any] | None = None,
    actor: User | None = None,
    now: datetime | None = None,
    as_of: datetime | None = None,
) -> StepRecord:
    """The one way a step reports "complete" to the journey (training, exams, courses, surveys).

    `as_of` is when the work began (an exam attempt's start): an attempt started in time counts
    even if it ends after the window closes."""
    now = now or timezone.now()
    enrollment = lock(enrollment, "program")
    _require_current(enrollment, step_code, as_of or now)
    entry = _write_done(enrollment, step_code, source, data, actor, now)
    if journey_for(enrollment, as_of or now).overall == Overall.COMPLETE and enrollment.completed_at is None:
        _write_completed(enrollment, actor, now)
    return entry


def _write_done(
    enrollment: Enrollment,
    step_code: str,
    source: str,
    data: dict[str, Any] | None,
    actor: User | None,
    now: datetime,
) -> StepRecord:
    entry = StepRecord.objects.create(
        enrollment=enrollment,
        step_code=step_code,
        outcome=Outcome.DONE,
        cycle=enrollment.cycle,
        at=now,
        source=source,
        data=data or {},
    )
    record(
        actor=actor,
        verb="enrollment.step_done",
        obj=enrollment,
        data={"step": step_code, "source": source},
        now=now,
    )
    return entry


def _write_completed(enrollment: Enrollment, actor: User | None, now: datetime) -> None:
    enrollment.completed_at = now
    enrollment.save(update_fields=["completed_at"])
    record(actor=actor, verb="enrollment.completed", obj=enrollment, now=now)
    enrollment_completed(enrollment, actor, now)


def _write_failure(
    enrollment: Enrollment,
    step_code: str,
    source: str,
    data: dict[str, Any] | None,
    attempts_left: int | None,
    now: datetime,
) -> None:
    StepRecord.objects.create(
        enrollment=enrollment,
        step_code=step_code,
        outcome=Outcome.FAILED,
        cycle=enrollment.cycle,
        at=now,
        source=source,
        data=data or {},
    )
    record(
        actor=None,
        verb="enrollment.attempt_failed",
        obj=enrollment,
        data={"step": step_code, "attempts_left": attempts_left},
        now=now,
    )


def record_decided_exam_result(
    *,
    enrollment: Enrollment,
    step_code: str,
    passed: bool,
    attempts_left: int | None,
    completes: bool,
    source: str,
    data: dict[str, Any],
    actor: User | None,
    now: datetime,
) -> None:
    """Credit an exam attempt whose step decision the caller already holds: what
    `record_step_done` / `record_step_failure` write, without evaluating the journey twice.

    For `stormcert.exams.services.submit_attempt` only: inside its transaction, with `enrollment`
    locked and its journey inputs checked unchanged since the exam step was decided current
    (the paper's key; see exams.services). Then the step is still current as of the attempt's
    start, `attempts_left` is what the journey said then and `completes` is whether every other
    step was done. Two statements (the record and its audit event); a pass that completes the
    journey adds the completion's (the update, its event and the completion hooks)."""
    if passed:
        _write_done(enrollment, step_code, source, data, actor, now)
        if completes and enrollment.completed_at is None:
            _write_completed(enrollment, actor, now)
        return
    # One more failure in this cycle: what journey_for(...).step(step_code).attempts_left says after it.
    _write_failure(
        enrollment, step_code, source, data, None if attempts_left is None else max(attempts_left - 1, 0), now
    )


@transaction.atomic
def record_step_failure(
    *,
    enrollment: Enrollment,
    step_code: str,
    source: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
    as_of: datetime | None = None,
) -> Journey:
    """The one way an exam reports a failed attempt; returns the journey after it."""
    now = now or timezone.now()
    enrollment = lock(enrollment, "program")
    journey = _require_current(enrollment, step_code, as_of or now)
    if journey.step(step_code).kind != "exam":
        raise JourneyError("Only exams have failed attempts.")
    left = journey.step(step_code).attempts_left
    # The journey after this failure differs only by it: one fewer attempt left (none if unlimited).
    after_left = None if left is None else max(left - 1, 0)
    _write_failure(enrollment, step_code, source, data, after_left, now)
    return journey_for(enrollment, as_of or now)


def acknowledge(*, enrollment: Enrollment, now: datetime | None = None) -> StepRecord:
    step = next(s for s in enrollment.program.steps.all() if s.kind == "acknowledge")
    return record_step_done(
        enrollment=enrollment,
        step_code=step.code,
        source="candidate",
        actor=enrollment.user,
        data={"links": [link["url"] for link in step.resources]},
        now=now,
    )


@dataclass(frozen=True)
class HoursEstimate:
    """How long the online training should take someone: a range of whole hours."""

    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.low}–{self.high}" if self.high > self.low else str(self.low)


def hours_range(values: dict[str, Any], extra: int = 0) -> HoursEstimate:
    """The program's typical range (training.estimated_hours to training.estimated_hours_max)
    moved by `extra` hours from the answers. Never below the program's stated minimum: experience
    shortens the upper end, not the least the program says the training takes."""
    base = int(values["training.estimated_hours"])
    top = max(int(values.get("training.estimated_hours_max", base)), base)
    low = max(base + extra, base)
    return HoursEstimate(low=low, high=max(top + extra, low))


def self_assessment_estimate(
    program: Program, values: dict[str, Any], answers: dict[int, int]
) -> HoursEstimate:
    extra = 0
    for question in SelfAssessmentQuestion.objects.filter(program=program):
        index = answers.get(question.pk)
        if index is not None and 0 <= index < len(question.choices):
            extra += int(question.choices[index].get("hours", 0))
    return hours_range(values, extra)


def estimate_on_record(data: dict[str, Any] | None, values: dict[str, Any]) -> HoursEstimate | None:
    """The estimate a questionnaire record holds, as a range within the rules: records made
    before estimates were ranges hold one figure, which may be below the stated minimum."""
    if not data or data.get("estimated_hours") is None:
        return None
    base = int(values["training.estimated_hours"])
    low = max(int(data["estimated_hours"]), base)
    high = data.get("estimated_hours_max")
    if high is None:
        return hours_range(values, low - base)
    return HoursEstimate(low=low, high=max(int(high), low))


def submit_self_assessment(
    *, enrollment: Enrollment, answers: dict[int, int], now: datetime | None = None
) -> HoursEstimate:
    now = now or timezone.now()
    questions = list(SelfAssessmentQuestion.objects.filter(program=enrollment.program))
    missing = [q for q in questions if q.pk not in answers]
    if missing:
        raise JourneyError(f"Answer every question ({len(missing)} left).")
    values = {v.key: v.value for v in version_for(enrollment, now).values.all()}
    estimate = self_assessment_estimate(enrollment.program, values, answers)
    step = next(s for s in enrollment.program.steps.all() if s.kind == "questionnaire")
    record_step_done(
        enrollment=enrollment,
        step_code=step.code,
        source="candidate",
        actor=enrollment.user,
        now=now,
        data={
            "answers": {str(k): v for k, v in answers.items()},
            "estimated_hours": estimate.low,
            "estimated_hours_max": estimate.high,
        },
    )
    return estimate


@transaction.atomic
def start_registration(*, enrollment: Enrollment, now: datetime | None = None) -> Order:
    """The registration order (one open at a time), at the fee in force today."""
    now = now or timezone.now()
    enrollment = lock(enrollment, "program")
    step = next(s for s in enrollment.program.steps.all() if s.kind == "payment")
    _require_current(enrollment, step.code, now)
    order, _ = get_or_create_order(
        user=enrollment.user,
        program=enrollment.program,
        fee_code=step.code,
        purpose=REGISTRATION,
        reference={"enrollment": enrollment.pk, "step": step.code},
        key="enrollment",
        now=now,
    )
    return order


def fulfil_registration(line: Any, now: datetime) -> None:
    """Paying the registration opens the training window and fixes the rules version."""
    enrollment = lock(Enrollment.objects.get(pk=line.reference["enrollment"]), "program")
    step_code = line.reference["step"]
    if enrollment.records.filter(step_code=step_code, outcome=Outcome.DONE, voided_at__isnull=True).exists():
        # Paid twice (two tabs, a check and a card): keep the money on record for staff to refund.
        record(
            actor=None,
            verb="enrollment.duplicate_registration_payment",
            obj=enrollment,
            data={"order": line.order.number},
            now=now,
        )
        return
    program = enrollment.program
    if enrollment.policy_version is None:
        enrollment.policy_version = version_in_force(program, program_today(program, now))
    values = {v.key: v.value for v in enrollment.policy_version.values.all()}
    enrollment.window_start = now
    enrollment.window_end = window_end_for(now, int(values["enrollment.window_years"]), program.zone)
    enrollment.save(update_fields=["policy_version", "window_start", "window_end"])
    StepRecord.objects.create(
        enrollment=enrollment,
        step_code=step_code,
        outcome=Outcome.DONE,
        cycle=enrollment.cycle,
        at=now,
        source="payment",
        data={"order": line.order.number},
    )
    record(
        actor=None,
        verb="enrollment.registered",
        obj=enrollment,
        data={
            "order": line.order.number,
            "window_end": enrollment.window_end,
            "rules": enrollment.policy_version.name,
        },
        now=now,
    )


@transaction.atomic
def start_resolution(*, enrollment: Enrollment, now: datetime | None = None) -> Order:
    """The order for what a failure or lapse costs (re-registration or extension)."""
    now = now or timezone.now()
    enrollment = lock(enrollment, "program")
    journey = journey_for(enrollment, now)
    if journey.action is None:
        raise JourneyError("Nothing needs to be paid: you can go on with your next step.")
    rule = (version_for(enrollment, now).values.get(key=journey.action.consequence)).value
    order, _ = get_or_create_order(
        user=enrollment.user,
        program=enrollment.program,
        fee_code=rule["fee"],
        purpose=CONSEQUENCE,
        reference={
            "enrollment": enrollment.pk,
            "consequence": journey.action.consequence,
            "cycle": enrollment.cycle,
        },
        key="enrollment",
        now=now,
    )
    return order


def fulfil_resolution(line: Any, now: datetime) -> None:
    """Apply the policy's consequence: redo steps, a new cycle and window, or a longer window."""
    from stormcert.training.models import Course, CourseKind
    from stormcert.training.services import void_progress

    enrollment = lock(Enrollment.objects.get(pk=line.reference["enrollment"]), "program")
    key = line.reference["consequence"]
    journey = journey_for(enrollment, now)
    if (
        journey.action is None
        or journey.action.consequence != key
        or line.reference.get("cycle") != enrollment.cycle
    ):
        record(
            actor=None,
            verb="enrollment.resolution_not_needed",
            obj=enrollment,
            data={"order": line.order.number, "consequence": key},
            now=now,
        )
        return
    program = enrollment.program
    values = {v.key: v.value for v in version_for(enrollment, now).values.all()}
    rule = values[key]
    steps = list(program.steps.all())
    reg_index = next((i for i, s in enumerate(steps) if s.kind == "payment"), -1)
    redo = [s.code for s in steps[reg_index + 1 :]] if rule["redo"] == ["*"] else list(rule["redo"])
    years = int(values["enrollment.window_years"])
    voided = enrollment.records.filter(step_code__in=redo, voided_at__isnull=True).update(
        voided_at=now, void_reason=f"{key}: order {line.order.number}"
    )
    if any(s.kind == "training" and s.code in redo for s in steps):
        for course in Course.objects.filter(program=program, kind=CourseKind.TRAINING):
            void_progress(user=enrollment.user, course=course, reason=f"{key}: redo the training", now=now)
    if rule.get("extends_window"):
        base = max(enrollment.window_end or now, now)
        enrollment.window_end = window_end_for(base, years, program.zone)
    else:
        enrollment.cycle += 1
        enrollment.window_start = now
        # A fresh window from today, but never shorter than the one she has: re-registering
        # must not take back time staff granted with an extension.
        fresh = window_end_for(now, years, program.zone)
        enrollment.window_end = max(fresh, enrollment.window_end) if enrollment.window_end else fresh
    enrollment.save(update_fields=["cycle", "window_start", "window_end"])
    record(
        actor=None,
        verb="enrollment.resolved",
        obj=enrollment,
        data={
            "consequence": key,
            "order": line.order.number,
            "redo": redo,
            "voided_records": voided,
            "cycle": enrollment.cycle,
            "window_end": enrollment.window_end,
        },
        now=now,
    )


@transaction.atomic
def migrate_policy(
    *, enrollment: Enrollment, version: PolicyVersion, actor: User, reason: str, now: datetime | None = None
) -> None:
    """Move someone mid-way onto another rules version (staff only, with a reason)."""
    if not reason.strip():
        raise JourneyError("Give a reason: moving someone to other rules is audited.")
    if version.program_id != enrollment.program_id:
        raise JourneyError("That rules version belongs to another program.")
    enrollment = lock(enrollment, "program")
    before = enrollment.policy_version.name if enrollment.policy_version else None
    enrollment.policy_version = version
    enrollment.save(update_fields=["policy_version"])
    record(
        actor=actor,
        verb="enrollment.policy_migrated",
        obj=enrollment,
        data={"from": before, "to": version.name},
        reason=reason,
        now=now,
    )


@transaction.atomic
def record_self_directed(
    *,
    user: User,
    program: Program,
    license_type: str,
    license_number: str,
    actor: User,
    reason: str,
    now: datetime | None = None,
) -> Enrollment:
    """A licensed engineer or geologist qualifies without the paid steps (staff record it)."""
    now = now or timezone.now()
    if not license_number.strip():
        raise JourneyError("Give the license number.")
    if not reason.strip():
        raise JourneyError("Give a reason: it is kept in the audit log.")
    enrollment = lock(get_enrollment(user=user, program=program, now=now), "program")
    # The kinds the program's rules list (what candidates apply with), besides the built-in ones.
    listed = version_for(enrollment, now).values.filter(key="self_directed.license_types").first()
    allowed = set(LicenseType.values) | {k["code"] for k in (listed.value if listed else [])}
    if license_type not in allowed:
        raise JourneyError("Choose the license type.")
    if enrollment.completed_at is not None:
        raise JourneyError(f"{user} is already qualified in {program}.")
    enrollment.route = Route.SELF_DIRECTED
    enrollment.license_type = license_type
    enrollment.license_number = license_number.strip()
    enrollment.completed_at = now
    if enrollment.policy_version is None:
        enrollment.policy_version = version_in_force(program, program_today(program, now))
    enrollment.save()
    record(
        actor=actor,
        verb="enrollment.self_directed_recorded",
        obj=enrollment,
        data={"license_type": license_type, "license_number": enrollment.license_number},
        reason=reason,
        now=now,
    )
    enrollment_completed(enrollment, actor, now)
    return enrollment


def training_access(user: Any, course: Any, now: datetime) -> str | None:
    """Who may open the program's online training: registered, with the window open."""
    if not getattr(user, "is_authenticated", False):
        return "Sign in to open the training."
    enrollment = Enrollment.objects.filter(user=user, program=course.program).first()
    if enrollment is None or not enrollment.is_registered():
        return "Register for the online training to open it."
    if enrollment.window_end is None or now >= enrollment.window_end:
        journey = journey_for(enrollment, now)
        fee = journey.action.fee if journey.action else None
        cost = f" Pay the ${fee.amount} {fee.name.lower()} to continue." if fee else ""
        return f"Your training access ended on {journey.access_until:%Y-%m-%d}.{cost}"
    return None


def training_completed(user: Any, course: Any, now: datetime) -> None:
    enrollment = Enrollment.objects.filter(user=user, program=course.program).first()
    if enrollment is None:
        return
    step = next((s for s in course.program.steps.all() if s.kind == "training"), None)
    if step is None:
        return
    journey = journey_for(enrollment, now)
    if journey.current is not None and journey.current.code == step.code:
        record_step_done(enrollment=enrollment, step_code=step.code, source="training", actor=user, now=now)


def training_rules(user: Any, course: Any, now: datetime) -> dict[str, Any]:
    """The rules a candidate's study is held to: their enrollment's kept version (what is in force
    today until they register)."""
    enrollment = Enrollment.objects.filter(user=user, program=course.program).first()
    if enrollment is None:
        enrollment = Enrollment(user=user, program=course.program, created_at=now)
    return {v.key: v.value for v in version_for(enrollment, now).values.all()}


@dataclass(frozen=True)
class Handbook:
    title: str
    url: str
    until: date  # the last day of access, in the program's time zone


def handbook_access(enrollment: Enrollment, now: datetime) -> Handbook | None:
    """The handbook registration comes with (handbook.title, handbook.url), for
    handbook.access_years from the registration payment, through the same calendar day; None
    before registration, after the access ends, or when the rules give no handbook."""
    if enrollment.pk is None or enrollment.window_start is None or enrollment.policy_version is None:
        return None
    values = {v.key: v.value for v in enrollment.policy_version.values.all()}
    years = int(values.get("handbook.access_years") or 0)
    url, title = values.get("handbook.url"), values.get("handbook.title")
    if years <= 0 or not url:
        return None
    zone = enrollment.program.zone
    end = window_end_for(enrollment.window_start, years, zone)
    if now >= end:
        return None
    return Handbook(title=str(title or "The handbook"), url=str(url), until=journey_last_day(end, zone))


def rules_for(enrollment: Enrollment, now: datetime) -> Any:
    return rules_for_version(version_for(enrollment, now), program_today(enrollment.program, now))


EXTEND_MAX_DAYS = 3653  # ten years: far past any extension staff grant, short of the calendar's end


@transaction.atomic
def extend_window(
    *, enrollment: Enrollment, last_day: date, actor: User, reason: str, now: datetime | None = None
) -> Enrollment:
    """Staff keep someone's window open longer (illness, a course cancelled late): access then
    runs through `last_day`, in the program's zone."""
    now = now or timezone.now()
    if not reason.strip():
        raise JourneyError("Give a reason: extending a window is audited.")
    enrollment = lock(enrollment, "program")
    if not enrollment.is_registered():
        raise JourneyError("This person has not registered yet, so there is no window to extend.")
    zone = enrollment.program.zone
    if last_day > timezone.localdate(now, zone) + timedelta(days=EXTEND_MAX_DAYS):
        # 9999-12-31 overflowed the date arithmetic below: a 500 (found by the bad-input fuzz test).
        raise JourneyError("Choose a last day within ten years from today.")
    new_end = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=zone)
    if enrollment.window_end is not None and new_end <= enrollment.window_end:
        current = journey_last_day(enrollment.window_end, zone)
        raise JourneyError(
            f"Choose a day after the current last day, {current:%B} {current.day}, {current.year}."
        )
    if new_end <= now:
        raise JourneyError("Choose a day in the future.")
    before = enrollment.window_end
    enrollment.window_end = new_end
    enrollment.save(update_fields=["window_end"])
    record(
        actor=actor,
        verb="enrollment.window_extended",
        obj=enrollment,
        data={"from": before, "to": new_end},
        reason=reason,
        now=now,
    )
    return enrollment


@transaction.atomic
def grant_attempt(
    *, enrollment: Enrollment, step_code: str, actor: User, reason: str, now: datetime | None = None
) -> StepRecord:
    """Staff give back one exam attempt (a power cut, a proctoring fault): the latest failed
    attempt of this cycle is voided, so it no longer counts against the limit. Nothing is
    deleted; the attempt and its score stay on record."""
    now = now or timezone.now()
    if not reason.strip():
        raise JourneyError("Give a reason: granting an attempt is audited.")
    enrollment = lock(enrollment, "program")
    step = enrollment.program.steps.filter(code=step_code, kind="exam").first()
    if step is None:
        raise JourneyError(f"{enrollment.program} has no exam step {step_code!r}.")
    failed = (
        enrollment.records.filter(
            step_code=step_code, outcome=Outcome.FAILED, cycle=enrollment.cycle, voided_at__isnull=True
        )
        .order_by("-at", "-id")
        .first()
    )
    if failed is None:
        raise JourneyError(
            f"No failed attempt at “{step.title}” counts in this cycle: there is nothing to give back."
        )
    failed.voided_at = now
    failed.void_reason = f"Attempt granted back by staff: {reason.strip()}"[:200]
    failed.save(update_fields=["voided_at", "void_reason"])
    record(
        actor=actor,
        verb="enrollment.attempt_granted",
        obj=enrollment,
        data={"step": step_code, "record": failed.pk, "cycle": enrollment.cycle},
        reason=reason,
        now=now,
    )
    return failed
