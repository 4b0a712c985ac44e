"""Course workflows: publish and change sessions, seats and the waitlist, attendance, the survey.

`check_*` functions explain why something cannot happen (the page shows the sentence);
the verbs change state under the session's row lock, so availability computed inside the lock
is the truth: capacity minus registered seats minus waitlist offers still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.courses.hooks import may_teach, teaching_problems, who_may_teach
from stormcert.courses.ical import invitation
from stormcert.courses.models import (
    LIVE_STATUSES,
    TAKEN_STATUSES,
    CourseSession,
    Mode,
    PlanStatus,
    QuestionKind,
    Seat,
    SeatStatus,
    SessionStatus,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from stormcert.emails.services import send_once, send_templated_email
from stormcert.enrollments.journey import StepState
from stormcert.enrollments.models import Enrollment, StepRecord
from stormcert.enrollments.services import (
    JourneyError,
    journey_for,
    record_step_done,
)
from stormcert.lib.db import claim_stamp, lock
from stormcert.lib.links import absolute_url
from stormcert.programs.models import Program
from stormcert.programs.rules import Rules, program_today, rules_in_force


class CourseError(Exception):
    """A request the rules refuse; the message says why, in words for the person asking."""


TRAINER_CANNOT_TEACH = (
    "Registration for this session is closed: its trainer cannot teach it at the moment. "
    "Program staff will reassign it to another trainer or cancel it, and tell everyone registered."
)


EDITABLE_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "time_zone",
    "mode",
    "venue",
    "address",
    "city",
    "meeting_details",
    "capacity",
    "registration_deadline",
    "price",
    "contact",
    "notes",
)


def _rules(program: Program, now: datetime) -> Rules:
    return rules_in_force(program, program_today(program, now))


def _step_code(program: Program, kind: str) -> str:
    step = next((s for s in program.steps.all() if s.kind == kind), None)
    if step is None:
        raise CourseError(f"{program} has no {kind} step.")
    return step.code


def course_title(program: Program) -> str:
    """The program's own words for its course step ("the course" when it names none)."""
    step = next((s for s in program.steps.all() if s.kind == "course"), None)
    return step.title if step is not None else "the course"


def _exams_before_course(program: Program) -> str:
    """The titles of the exam steps that come before the course step, from the program's data."""
    steps = list(program.steps.all())
    course = next((i for i, s in enumerate(steps) if s.kind == "course"), len(steps))
    titles = [s.title for s in steps[:course] if s.kind == "exam"]
    return " and ".join(titles)


def _day(moment: datetime, session: CourseSession) -> str:
    return f"{timezone.localtime(moment, session.zone):%A %B %-d, %Y at %-I:%M %p %Z}"


# --- Trainers: publishing and changing sessions -------------------------------------------------


def check_can_publish(user: User, program: Program, now: datetime) -> None:
    """Standing to teach sessions of the qualification `program` (in a trainer program that
    teaches it: a term in force, the required certificates current, the agreement in force
    signed), asked of the trainers app through courses.hooks; the reasons go to the person."""
    problems = teaching_problems(user, program, now)
    if problems:
        raise CourseError(
            f"Only a Trainer of Record in good standing for {program.short_name} can publish its sessions. "
            + " ".join(problems)
        )


def check_trainer_standing(*, actor: Any, session: CourseSession, now: datetime) -> None:
    """A session's trainer changes it, records attendance or reads its roster only while in
    standing. Anyone else acting on it was let in by the view's staff-powers check
    (`check_can_teach(staff=...)`, the staff queue) and handles the sessions of a trainer who
    lost standing, so only the trainer is held to it."""
    if actor.pk != session.trainer_id:
        return
    problems = teaching_problems(actor, session.program, now)
    if problems:
        raise CourseError(
            "You cannot manage this session while you are not in good standing as a Trainer of Record: "
            + " ".join(problems)
            + " Program staff will reassign or cancel your upcoming sessions."
        )


def _check_fields(
    fields: dict[str, Any], *, program: Program, now: datetime, session: CourseSession | None = None
) -> None:
    starts, ends, deadline = fields["starts_at"], fields["ends_at"], fields["registration_deadline"]
    if ends <= starts:
        raise CourseError("The session must end after it starts.")
    if deadline > starts:
        raise CourseError("Registration must close before the session starts.")
    moved = session is None or session.starts_at != starts
    if moved and starts <= now:
        raise CourseError("The session must start in the future.")
    if fields["capacity"] < 1:
        raise CourseError("A session needs at least one seat.")
    if fields["mode"] == Mode.IN_PERSON and not (fields.get("venue") and fields.get("city")):
        raise CourseError("An in-person session needs a venue and a city.")
    if fields["mode"] == Mode.VIRTUAL and not fields.get("meeting_details"):
        raise CourseError("A virtual session needs its meeting details (shared with registrants only).")
    becomes_virtual = fields["mode"] == Mode.VIRTUAL and (session is None or session.mode != Mode.VIRTUAL)
    if becomes_virtual or (fields["mode"] == Mode.VIRTUAL and moved):
        lead = _rules(program, now).value("course.virtual_contact_lead_days")
        start_day = timezone.localtime(starts, program.zone).date()
        if (start_day - program_today(program, now)).days < lead:
            raise CourseError(
                f"A virtual session must be set up with staff at least {lead} days before the class: "
                f"the earliest date you can choose today is "
                f"{program_today(program, now) + timedelta(days=lead):%B %-d, %Y}."
            )
    if session is not None:
        held = session.held_seats(now)
        if fields["capacity"] < held:
            raise CourseError(
                f"{held} seats are already taken or offered; the capacity cannot go below that."
            )


@transaction.atomic
def publish_session(
    *, trainer: User, program: Program, fields: dict[str, Any], now: datetime | None = None
) -> CourseSession:
    """A session of the qualification `program`, published by a trainer in standing for it."""
    now = now or timezone.now()
    if program.kind != "qualification":
        raise CourseError(f"{program} is not a qualification program: its sessions cannot be published.")
    check_can_publish(trainer, program, now)
    _check_fields(fields, program=program, now=now)
    values = {k: fields[k] for k in EDITABLE_FIELDS if k in fields}
    session = CourseSession.objects.create(
        program=program,
        trainer=trainer,
        plan_status=PlanStatus.AWAITING if fields["mode"] == Mode.VIRTUAL else PlanStatus.NOT_NEEDED,
        created_at=now,
        **values,
    )
    record(
        actor=trainer,
        verb="course.session_published",
        obj=session,
        data={
            "program": program.code,
            "starts_at": session.starts_at.isoformat(),
            "mode": session.mode,
            "capacity": session.capacity,
        },
        now=now,
    )
    return session


def _registrants(session: CourseSession) -> list[Seat]:
    return list(
        session.seats.filter(status__in=[SeatStatus.REGISTERED, SeatStatus.OFFERED]).select_related("user")
    )


# What a trainer is asked for when they change or cancel a session without a reason.
_ASK_REASON = {
    "changed": "Give a reason for the change: registrants are told what changed and why.",
    "cancelled": "Give a reason for cancelling: registrants are told why.",
}


def _lock_ahead(
    session: CourseSession, *, actor: User, reason: str, now: datetime, done: str
) -> CourseSession:
    """What changing and cancelling a session check first, in this order: a reason, the session's
    row lock, the actor's standing, and a session neither cancelled nor started (after which it
    can no longer be `done`: "changed" or "cancelled")."""
    if not reason.strip():
        raise CourseError(_ASK_REASON[done])
    session = lock(session, "program", "trainer")
    check_trainer_standing(actor=actor, session=session, now=now)
    if session.is_cancelled:
        raise CourseError(
            "This session is already cancelled."
            if done == "cancelled"
            else f"This session was cancelled; it can no longer be {done}."
        )
    if session.has_started(now):
        raise CourseError(f"This session has started; it can no longer be {done}.")
    return session


@transaction.atomic
def update_session(
    *, session: CourseSession, actor: User, fields: dict[str, Any], reason: str, now: datetime | None = None
) -> CourseSession:
    now = now or timezone.now()
    session = _lock_ahead(session, actor=actor, reason=reason, now=now, done="changed")
    _check_fields(fields, program=session.program, now=now, session=session)
    changes = {
        k: [str(getattr(session, k)), str(fields[k])]
        for k in EDITABLE_FIELDS
        if k in fields and getattr(session, k) != fields[k]
    }
    if not changes:
        raise CourseError("Nothing changed.")
    for key in changes:
        setattr(session, key, fields[key])
    if "mode" in changes:
        session.plan_status = PlanStatus.AWAITING if session.mode == Mode.VIRTUAL else PlanStatus.NOT_NEEDED
    session.revision += 1
    session.save()
    record(
        actor=actor,
        verb="course.session_changed",
        obj=session,
        data={"changes": changes},
        reason=reason,
        now=now,
    )
    labels = {f.name: str(f.verbose_name) for f in CourseSession._meta.fields}
    for seat in _registrants(session):
        send_templated_email(
            template="courses/email/session_changed",
            to=seat.user.email,
            user=seat.user,
            context={
                "seat": seat,
                "session": session,
                "changed": sorted(labels[k] for k in changes),
                "reason": reason,
                "url": absolute_url("courses:session", session.pk),
            },
            attachments=[invitation(session, stamp=now)] if seat.status == SeatStatus.REGISTERED else None,
        )
    _fill_from_waitlist(session, now)
    return session


@transaction.atomic
def cancel_session(
    *, session: CourseSession, actor: User, reason: str, now: datetime | None = None
) -> CourseSession:
    now = now or timezone.now()
    session = _lock_ahead(session, actor=actor, reason=reason, now=now, done="cancelled")
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = now
    session.cancel_reason = reason
    session.revision += 1
    session.save()
    seats = list(session.seats.filter(status__in=LIVE_STATUSES).select_related("user"))
    for seat in seats:
        _close(seat, SeatStatus.CANCELLED, f"The session was cancelled: {reason}", now)
        send_templated_email(
            template="courses/email/session_cancelled",
            to=seat.user.email,
            user=seat.user,
            context={
                "seat": seat,
                "session": session,
                "reason": reason,
                "url": absolute_url("courses:calendar"),
            },
            attachments=[invitation(session, stamp=now)],
        )
    record(
        actor=actor,
        verb="course.session_cancelled",
        obj=session,
        data={"seats_released": len(seats)},
        reason=reason,
        now=now,
    )
    return session


@transaction.atomic
def submit_virtual_plan(
    *, session: CourseSession, actor: User, plan: str, now: datetime | None = None
) -> CourseSession:
    now = now or timezone.now()
    session = lock(session, "program", "trainer")
    check_trainer_standing(actor=actor, session=session, now=now)
    if session.mode != Mode.VIRTUAL:
        raise CourseError("Only a virtual session needs a virtual training plan.")
    if session.plan_status not in (PlanStatus.AWAITING, PlanStatus.REJECTED):
        raise CourseError(f"The plan is {session.get_plan_status_display().lower()}.")
    if not plan.strip():
        raise CourseError("Describe the plan: platform, how participation and attendance are checked.")
    lead = _rules(session.program, now).value("course.virtual_plan_lead_days")
    due = session.start_day() - timedelta(days=lead)
    if program_today(session.program, now) > due:
        raise CourseError(
            f"A virtual training plan is due at least {lead} days before the class, "
            f"by {due:%B %-d, %Y} for this one; it can no longer be submitted. "
            "Move the session to a later date to submit a plan."
        )
    session.virtual_plan = plan.strip()
    session.plan_status = PlanStatus.SUBMITTED
    session.plan_submitted_at = now
    session.save()
    record(actor=actor, verb="course.plan_submitted", obj=session, now=now)
    return session


@transaction.atomic
def decide_virtual_plan(
    *, session: CourseSession, actor: User, accept: bool, reason: str, now: datetime | None = None
) -> CourseSession:
    now = now or timezone.now()
    if not reason.strip():
        raise CourseError("Give a reason: the trainer sees it and it is kept in the audit log.")
    session = lock(session, "program", "trainer")
    if session.plan_status != PlanStatus.SUBMITTED:
        raise CourseError(f"There is no plan waiting for a decision ({session.get_plan_status_display()}).")
    session.plan_status = PlanStatus.ACCEPTED if accept else PlanStatus.REJECTED
    session.plan_decided_at = now
    session.plan_decided_by = actor
    session.plan_note = reason
    session.save()
    record(
        actor=actor,
        verb="course.plan_accepted" if accept else "course.plan_rejected",
        obj=session,
        reason=reason,
        now=now,
    )
    send_templated_email(
        template="courses/email/plan_decided",
        to=session.trainer.email,
        user=session.trainer,
        context={
            "session": session,
            "accepted": accept,
            "reason": reason,
            "url": absolute_url("courses:mine"),
        },
    )
    return session


# --- Candidates: seats and the waitlist ---------------------------------------------------------


def live_seat(user: User, program: Program) -> Seat | None:
    return (
        Seat.objects.filter(user=user, program=program, status__in=LIVE_STATUSES)
        .select_related("session", "session__trainer")
        .first()
    )


def check_can_register(*, user: Any, session: CourseSession, now: datetime) -> Enrollment:
    """Who may take a seat: registered in the session's program with its course step open (the
    steps before it done), no other place held in that program."""
    if not getattr(user, "is_authenticated", False):
        raise CourseError("Sign in to register for a session.")
    if session.is_cancelled:
        raise CourseError("This session was cancelled.")
    if not session.is_listed:
        raise CourseError("This session is not open for registration yet.")
    if now >= session.registration_deadline:
        raise CourseError(f"Registration closed on {_day(session.registration_deadline, session)}.")
    if session.trainer_id == user.pk:
        raise CourseError("You teach this session.")
    if not may_teach(session.trainer, session.program, now):
        raise CourseError(TRAINER_CANNOT_TEACH)
    program = session.program
    course = course_title(program)
    exams = _exams_before_course(program)
    enrollment = Enrollment.objects.filter(user=user, program=program).first()
    if enrollment is None or not enrollment.is_registered():
        raise CourseError(
            f"{course} is for candidates of {program.short_name}"
            + (f" who have passed the {exams}." if exams else ".")
        )
    journey = journey_for(enrollment, now)
    step = journey.step(_step_code(program, "course"))
    if step.state == StepState.DONE:
        raise CourseError(f"You have already attended {course}.")
    if step.state == StepState.LOCKED:
        raise CourseError(
            f"{course} opens once you have done the steps before it"
            + (f" (passing the {exams})" if exams else "")
            + f". Your {program.short_name} page shows where you are."
        )
    if step.state == StepState.BLOCKED:
        raise CourseError(step.note)
    held = live_seat(user, session.program)
    if held is not None:
        where = "this session" if held.session_id == session.pk else f"the session on {held.session}"
        raise CourseError(
            f"You already have a place on {where} ({held.get_status_display().lower()}). "
            "Cancel it first to choose another session."
        )
    return enrollment


def registration_problem(*, user: Any, session: CourseSession, now: datetime) -> str | None:
    try:
        check_can_register(user=user, session=session, now=now)
    except CourseError as exc:
        return str(exc)
    return None


def _close(seat: Seat, status: str, reason: str, now: datetime) -> None:
    seat.status = status
    seat.closed_at = now
    seat.close_reason = reason
    seat.save(update_fields=["status", "closed_at", "close_reason"])


def _seat_email(seat: Seat, now: datetime) -> dict[str, Any]:
    """What every email about a place says and carries: the session, its page and the invitation."""
    return {
        "to": seat.user.email,
        "user": seat.user,
        "context": {
            "seat": seat,
            "session": seat.session,
            "url": absolute_url("courses:session", seat.session_id),
        },
        "attachments": [invitation(seat.session, stamp=now)],
    }


def _confirm(seat: Seat, now: datetime) -> None:
    send_templated_email(template="courses/email/registered", **_seat_email(seat, now))


def _expire_offers(session: CourseSession, now: datetime) -> int:
    """Offers whose time ran out pass on: the seat is free again for the next person waiting."""
    lapsed = list(
        session.seats.filter(status=SeatStatus.OFFERED, offer_expires_at__lte=now).select_related("user")
    )
    for seat in lapsed:
        _close(seat, SeatStatus.LAPSED, "The seat offer was not taken up in time.", now)
        record(actor=None, verb="course.offer_lapsed", obj=seat, now=now)
        send_templated_email(
            template="courses/email/offer_lapsed",
            to=seat.user.email,
            user=seat.user,
            context={"seat": seat, "session": session, "url": absolute_url("courses:calendar")},
        )
    return len(lapsed)


def _fill_from_waitlist(session: CourseSession, now: datetime) -> int:
    """Offer free seats to the people waiting, in order. The caller holds the session's lock."""
    _expire_offers(session, now)
    if session.is_cancelled:
        return 0
    if now >= session.registration_deadline:
        _close_waitlist(session, now)
        return 0
    if not may_teach(session.trainer, session.program, now):
        # Closed to new registrations until staff reassign or cancel it (the waitlist waits).
        return 0
    free = session.seats_left(now)
    if free <= 0:
        return 0
    hours = _rules(session.program, now).value("course.waitlist_offer_hours")
    # An offer never outlives registration: near the deadline it is shorter.
    expires = min(now + timedelta(hours=hours), session.registration_deadline)
    offered = 0
    for seat in session.waiting().select_related("user")[:free]:
        seat.status = SeatStatus.OFFERED
        seat.offered_at = now
        seat.offer_expires_at = expires
        seat.save(update_fields=["status", "offered_at", "offer_expires_at"])
        record(
            actor=None, verb="course.seat_offered", obj=seat, data={"expires": expires.isoformat()}, now=now
        )
        send_templated_email(
            template="courses/email/offer",
            to=seat.user.email,
            user=seat.user,
            context={
                "seat": seat,
                "session": session,
                "expires": _day(expires, session),
                "url": absolute_url("courses:session", session.pk),
            },
        )
        offered += 1
    return offered


def _close_waitlist(session: CourseSession, now: datetime) -> None:
    """Registration closed with people still waiting: let them go so they can choose elsewhere."""
    for seat in session.waiting().select_related("user"):
        _close(seat, SeatStatus.LAPSED, "Registration closed before a seat came free.", now)
        record(actor=None, verb="course.waitlist_closed", obj=seat, now=now)
        send_templated_email(
            template="courses/email/waitlist_closed",
            to=seat.user.email,
            user=seat.user,
            context={"seat": seat, "session": session, "url": absolute_url("courses:calendar")},
        )


@dataclass(frozen=True)
class Registration:
    seat: Seat
    waitlisted: bool
    position: int | None


@transaction.atomic
def register_for_session(*, user: User, session: CourseSession, now: datetime | None = None) -> Registration:
    now = now or timezone.now()
    enrollment = check_can_register(user=user, session=session, now=now)
    session = lock(session, "program", "trainer")
    _expire_offers(session, now)
    # People already waiting come first, even if a seat has just come free.
    registered = session.seats_left(now) > 0 and not session.waiting().exists()
    try:
        with transaction.atomic():
            seat = Seat.objects.create(
                session=session,
                program=session.program,
                user=user,
                enrollment=enrollment,
                cycle=enrollment.cycle,
                status=SeatStatus.REGISTERED if registered else SeatStatus.WAITING,
                created_at=now,
                registered_at=now if registered else None,
            )
    except IntegrityError:
        raise CourseError(
            "You already have a place on a session in this program. Cancel it first to choose another."
        ) from None
    record(
        actor=user,
        verb="course.registered" if registered else "course.waitlisted",
        obj=seat,
        data={"session": session.pk},
        now=now,
    )
    if registered:
        _confirm(seat, now)
        return Registration(seat, False, None)
    _fill_from_waitlist(session, now)
    seat.refresh_from_db()
    if seat.status == SeatStatus.OFFERED:
        return Registration(seat, True, None)
    position = seat.waitlist_position()
    send_templated_email(
        template="courses/email/waitlisted",
        to=user.email,
        user=user,
        context={
            "seat": seat,
            "session": session,
            "position": position,
            "hours": _rules(session.program, now).value("course.waitlist_offer_hours"),
            "url": absolute_url("courses:session", session.pk),
        },
    )
    return Registration(seat, True, position)


def get_seat_for_user(*, user: Any, seat_id: int) -> Seat:
    """A seat its holder may act on; anyone else gets "not found"."""
    if not getattr(user, "is_authenticated", False):
        raise Seat.DoesNotExist
    return Seat.objects.select_related("session", "session__program", "session__trainer").get(
        pk=seat_id, user_id=user.pk
    )


@transaction.atomic
def accept_offer(*, seat: Seat, user: User, now: datetime | None = None) -> Seat:
    now = now or timezone.now()
    session = lock(seat.session, "program", "trainer")
    seat = Seat.objects.select_for_update(of=("self",)).get(pk=seat.pk, user=user)
    if seat.status == SeatStatus.REGISTERED:
        return seat
    if seat.status != SeatStatus.OFFERED:
        raise CourseError("This seat offer is no longer open.")
    if not may_teach(session.trainer, session.program, now):
        raise CourseError(TRAINER_CANNOT_TEACH)
    if not seat.offer_open(now):
        raise CourseError(
            f"The offer ran out on {_day(seat.offer_expires_at or now, session)}; "
            "the seat has passed to the next person waiting."
        )
    seat.status = SeatStatus.REGISTERED
    seat.registered_at = now
    seat.save(update_fields=["status", "registered_at"])
    record(actor=user, verb="course.offer_accepted", obj=seat, data={"session": session.pk}, now=now)
    seat.session = session
    _confirm(seat, now)
    return seat


@transaction.atomic
def cancel_seat(
    *, seat: Seat, actor: User, reason: str = "", now: datetime | None = None, notify: bool = True
) -> Seat:
    """The holder gives up a place (or declines an offer) before registration closes. `notify`
    off: the caller tells the person itself (switch_to_free_seat says "moved", not "cancelled")."""
    now = now or timezone.now()
    session = lock(seat.session, "program", "trainer")
    seat = Seat.objects.select_for_update(of=("self",)).select_related("user").get(pk=seat.pk)
    if not seat.is_live:
        raise CourseError(f"This place is already {seat.get_status_display().lower()}.")
    # A registered seat is the trainer's to plan for once registration closes; leaving a
    # waitlist or declining an offer is always allowed.
    if (
        actor.pk == seat.user_id
        and seat.status == SeatStatus.REGISTERED
        and now >= session.registration_deadline
    ):
        raise CourseError(
            f"Cancellations closed on {_day(session.registration_deadline, session)}. "
            f"Contact the trainer: {session.contact}."
        )
    was = seat.status
    _close(seat, SeatStatus.CANCELLED, reason or "Cancelled by the candidate.", now)
    record(actor=actor, verb="course.seat_cancelled", obj=seat, data={"was": was}, reason=reason, now=now)
    seat.session = session
    if notify:
        send_templated_email(
            template="courses/email/seat_cancelled",
            to=seat.user.email,
            user=seat.user,
            context={"seat": seat, "session": session, "was": was, "url": absolute_url("courses:calendar")},
        )
    _fill_from_waitlist(session, now)
    return seat


def switchable_waitlist_seat(*, user: Any, session: CourseSession, now: datetime) -> Seat | None:
    """The person's waitlist place on another session of this program, when `session` has a free
    seat they could take instead (what the session page offers as one button)."""
    if not getattr(user, "is_authenticated", False):
        return None
    held = live_seat(user, session.program)
    if held is None or held.session_id == session.pk or held.status != SeatStatus.WAITING:
        return None
    if session.seats_left(now) <= 0 or session.waiting().exists():
        return None
    return held


@transaction.atomic
def switch_to_free_seat(*, user: User, session: CourseSession, now: datetime | None = None) -> Registration:
    """Leave a waitlist and take a free seat on another session of the same program, as one step:
    both happen, or (the seat went meanwhile, the person may not register) neither, and the
    person keeps their place on the waitlist."""
    now = now or timezone.now()
    held = live_seat(user, session.program)
    if held is None or held.status != SeatStatus.WAITING or held.session_id == session.pk:
        raise CourseError("You have no place on another session's waitlist to leave.")
    cancel_seat(
        seat=held, actor=user, reason=f"Took a free seat on the session on {session}.", now=now, notify=False
    )
    result = register_for_session(user=user, session=session, now=now)
    if result.seat.status != SeatStatus.REGISTERED:
        # Raising undoes the cancellation too: they keep their waitlist place.
        raise CourseError(
            f"The last seat on this session was just taken; you are still on the waitlist for {held.session}."
        )
    return result


# --- Attendance and the survey ------------------------------------------------------------------


def check_can_teach(*, user: Any, session: CourseSession, staff: bool, now: datetime | None = None) -> None:
    """The session's trainer (in standing), or a request with staff powers (`has_staff_powers`,
    decided by the view): the roster, changes, the plan, attendance."""
    if not getattr(user, "is_authenticated", False) or (session.trainer_id != user.pk and not staff):
        raise CourseError("Only the session's trainer and program staff can see this.")
    check_trainer_standing(actor=user, session=session, now=now or timezone.now())


def attendance_days_after(session: CourseSession, now: datetime) -> int:
    """The program's figure: how many days after the session day attendance may still be recorded."""
    return int(_rules(session.program, now).value("course.attendance_days_after"))


def check_attendance_window(session: CourseSession, now: datetime) -> None:
    opens, closes = session.attendance_window(attendance_days_after(session, now))
    if now < opens:
        raise CourseError(f"Attendance can be recorded once the session starts ({_day(opens, session)}).")
    if now >= closes:
        last = timezone.localtime(closes - timedelta(microseconds=1), session.zone)
        raise CourseError(
            f"Attendance could be recorded until {last:%B %-d, %Y} (the end of that day, {last:%Z}); "
            "ask program staff to correct it."
        )


@transaction.atomic
def record_attendance(
    *, session: CourseSession, actor: User, marks: dict[int, bool], now: datetime | None = None
) -> list[str]:
    """Mark each seat present (True) or absent (False); returns problems, one sentence per person.

    Marking present gives the candidate the course step; a correction to absent takes it back,
    unless the candidate has gone on to answer the survey (then staff must sort it out)."""
    now = now or timezone.now()
    session = lock(session, "program", "trainer")
    if session.is_cancelled:
        raise CourseError("This session was cancelled.")
    check_trainer_standing(actor=actor, session=session, now=now)
    check_attendance_window(session, now)
    course_code = _step_code(session.program, "course")
    seats = {
        s.pk: s for s in session.seats.filter(status__in=TAKEN_STATUSES).select_related("user", "enrollment")
    }
    problems: list[str] = []
    for seat_id, present in marks.items():
        seat = seats.get(seat_id)
        if seat is None:
            problems.append(f"Seat {seat_id} is not on this session's roster.")
            continue
        wanted = SeatStatus.ATTENDED if present else SeatStatus.ABSENT
        if seat.status == wanted:
            continue
        try:
            with transaction.atomic():
                if present:
                    record_step_done(
                        enrollment=seat.enrollment,
                        step_code=course_code,
                        source="course",
                        data={"session": session.pk, "seat": seat.pk},
                        actor=actor,
                        now=now,
                    )
                elif seat.status == SeatStatus.ATTENDED:
                    _take_back_course_credit(seat, course_code, now)
                was = seat.status
                seat.status = wanted
                seat.attendance_recorded_at = now
                seat.attendance_recorded_by = actor
                seat.save(update_fields=["status", "attendance_recorded_at", "attendance_recorded_by"])
                record(
                    actor=actor,
                    verb="course.attendance_recorded",
                    obj=seat,
                    data={"session": session.pk, "was": was, "now": wanted},
                    now=now,
                )
        except (JourneyError, CourseError) as exc:
            problems.append(f"{seat.user}: {exc}")
            continue
        if present:
            send_templated_email(
                template="courses/email/survey_invite",
                to=seat.user.email,
                user=seat.user,
                context={"seat": seat, "session": session, "url": absolute_url("courses:survey", seat.pk)},
            )
    return problems


def _take_back_course_credit(seat: Seat, course_code: str, now: datetime) -> None:
    if SurveyResponse.objects.filter(seat=seat).exists():
        raise CourseError("has already answered the course survey; ask program staff to correct attendance.")
    StepRecord.objects.filter(
        enrollment=seat.enrollment, step_code=course_code, voided_at__isnull=True, data__seat=seat.pk
    ).update(voided_at=now, void_reason="Attendance corrected to absent by the trainer.")


def survey_questions(program: Program) -> list[SurveyQuestion]:
    return list(SurveyQuestion.objects.filter(program=program, is_active=True))


def check_can_answer_survey(*, seat: Seat, now: datetime) -> None:
    if seat.status != SeatStatus.ATTENDED:
        raise CourseError("The survey opens once the trainer has recorded that you attended.")
    if SurveyResponse.objects.filter(seat=seat).exists():
        raise CourseError("You have already answered the survey for this course. Thank you.")
    journey = journey_for(seat.enrollment, now)
    step = journey.step(_step_code(seat.session.program, "survey"))
    if step.state != StepState.CURRENT:
        raise CourseError(step.note or "The survey is not open for you.")


@transaction.atomic
def submit_survey(
    *, seat: Seat, user: User, answers: dict[int, dict[str, Any]], now: datetime | None = None
) -> SurveyResponse:
    """`answers` maps question id to {"rating": 1-5 or None, "comment": str}."""
    now = now or timezone.now()
    seat = (
        Seat.objects.select_for_update(of=("self",))
        .select_related("session", "enrollment")
        .get(pk=seat.pk, user=user)
    )
    check_can_answer_survey(seat=seat, now=now)
    questions = survey_questions(seat.session.program)
    for question in questions:
        given = answers.get(question.pk, {})
        rating = given.get("rating")
        if question.kind == QuestionKind.RATING and rating is not None and not 1 <= int(rating) <= 5:
            raise CourseError(f"“{question.text}”: choose a rating from 1 to 5.")
        if question.required and question.kind == QuestionKind.RATING and rating is None:
            raise CourseError(f"“{question.text}” needs an answer.")
        if (
            question.required
            and question.kind == QuestionKind.COMMENT
            and not str(given.get("comment", "")).strip()
        ):
            raise CourseError(f"“{question.text}” needs an answer.")
    response = SurveyResponse.objects.create(seat=seat, session=seat.session, submitted_at=now)
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(
            response=response,
            question=q,
            rating=answers.get(q.pk, {}).get("rating") if q.kind == QuestionKind.RATING else None,
            comment=str(answers.get(q.pk, {}).get("comment", "")).strip(),
        )
        for q in questions
    )
    record_step_done(
        enrollment=seat.enrollment,
        step_code=_step_code(seat.session.program, "survey"),
        source="survey",
        data={"session": seat.session_id},
        actor=user,
        now=now,
    )
    record(actor=user, verb="course.survey_submitted", obj=seat, data={"session": seat.session_id}, now=now)
    return response


# --- Periodic work (tick): messages and offers, safe to run twice or late -----------------------


def send_reminders(*, now: datetime | None = None) -> int:
    """One reminder per registered seat, `course.reminder_hours_before` ahead of the session."""
    now = now or timezone.now()
    sent = 0
    candidates = Seat.objects.filter(
        status=SeatStatus.REGISTERED,
        reminder_sent_at__isnull=True,
        session__status=SessionStatus.SCHEDULED,
        session__starts_at__gt=now,
    ).select_related("session", "session__program", "user")
    hours_by_program: dict[int, int] = {}
    # No reminder for a session waiting in the staff queue (its trainer lost standing): staff
    # will reassign it, and the registrants hear from that, or cancel it.
    able: dict[int, set[int]] = {}
    for seat in candidates:
        if seat.session.program_id not in able:
            trainers = {
                s.session.trainer_id for s in candidates if s.session.program_id == seat.session.program_id
            }
            able[seat.session.program_id] = who_may_teach(trainers, seat.session.program, now)
        if seat.session.trainer_id not in able[seat.session.program_id]:
            continue
        program = seat.session.program
        if program.pk not in hours_by_program:
            hours_by_program[program.pk] = _rules(program, now).value("course.reminder_hours_before")
        if seat.session.starts_at > now + timedelta(hours=hours_by_program[program.pk]):
            continue
        # A second tick running at the same time loses the claim and skips the seat.
        if send_once(
            claim=partial(claim_stamp, seat, "reminder_sent_at", now),
            template="courses/email/reminder",
            **_seat_email(seat, now),
        ):
            sent += 1
    return sent


def process_waitlists(*, now: datetime | None = None) -> int:
    """Lapse offers that ran out and offer freed seats to the next person waiting."""
    now = now or timezone.now()
    due = (
        CourseSession.objects.filter(status=SessionStatus.SCHEDULED)
        .filter(
            Q(seats__status=SeatStatus.OFFERED, seats__offer_expires_at__lte=now)
            | Q(seats__status=SeatStatus.WAITING)
        )
        .distinct()
    )
    offered = 0
    for session in due:
        with transaction.atomic():
            offered += _fill_from_waitlist(lock(session, "program", "trainer"), now)
    return offered


# --- Staff: sessions whose trainer lost standing ------------------------------------------------


def sessions_needing_a_trainer(
    now: datetime | None = None, *, program: Program | None = None
) -> list[CourseSession]:
    """Scheduled sessions still to come (of `program`, None: of every program) whose trainer
    may not teach the session's own program today (term ended early or lapsed, a required
    certificate expired, the agreement in force unsigned): closed to registration until staff
    reassign or cancel them. Derived, so a session is here the moment its trainer loses standing."""
    now = now or timezone.now()
    upcoming = CourseSession.objects.filter(status=SessionStatus.SCHEDULED, starts_at__gt=now)
    if program is not None:
        upcoming = upcoming.filter(program=program)
    flagged = []
    for program_id in set(upcoming.order_by().values_list("program_id", flat=True).distinct()):
        of_program = upcoming.filter(program_id=program_id)
        trainers = set(of_program.order_by().values_list("trainer_id", flat=True).distinct())
        able = who_may_teach(trainers, Program.objects.get(pk=program_id), now)
        flagged += list(of_program.exclude(trainer_id__in=able).select_related("trainer", "program"))
    return sorted(flagged, key=lambda s: (s.starts_at, s.pk))


@transaction.atomic
def reassign_session(
    *, session: CourseSession, trainer: User, actor: User, reason: str, now: datetime | None = None
) -> CourseSession:
    """Staff hand a session to another Trainer of Record in standing; registrants keep their
    places and are told who teaches now, and registration reopens."""
    now = now or timezone.now()
    if not reason.strip():
        raise CourseError("Give a reason: registrants are told why their trainer changed.")
    session = lock(session, "program", "trainer")
    if session.is_cancelled:
        raise CourseError("This session was cancelled; it cannot be reassigned.")
    if session.has_started(now):
        raise CourseError("This session has started; it can no longer be reassigned.")
    if trainer.pk == session.trainer_id:
        raise CourseError(f"{trainer} already teaches this session.")
    problems = teaching_problems(trainer, session.program, now)
    if problems:
        raise CourseError(f"{trainer} cannot take this session: " + " ".join(problems))
    before = session.trainer
    session.trainer = trainer
    if session.contact.strip().lower() == before.email.lower():
        session.contact = trainer.email
    session.revision += 1
    session.save(update_fields=["trainer", "contact", "revision"])
    record(
        actor=actor,
        verb="course.session_reassigned",
        obj=session,
        data={"from": before.pk, "to": trainer.pk},
        reason=reason.strip(),
        now=now,
    )
    for seat in _registrants(session):
        send_templated_email(
            template="courses/email/session_reassigned",
            to=seat.user.email,
            user=seat.user,
            context={
                "seat": seat,
                "session": session,
                "reason": reason.strip(),
                "url": absolute_url("courses:session", session.pk),
            },
            attachments=[invitation(session, stamp=now)] if seat.status == SeatStatus.REGISTERED else None,
        )
    _fill_from_waitlist(session, now)
    return session
