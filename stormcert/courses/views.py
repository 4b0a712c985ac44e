"""Thin views over courses.services: the calendar, sessions, seats, rosters, the survey."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.courses import services
from stormcert.courses.forms import (
    AttendanceForm,
    CalendarFilterForm,
    PlanDecisionForm,
    PlanForm,
    ReasonForm,
    ReassignForm,
    SessionEditForm,
    SessionForm,
    SurveyForm,
)
from stormcert.courses.hooks import teaching_problems, who_may_teach
from stormcert.courses.ical import calendar_for
from stormcert.courses.models import (
    LIVE_STATUSES,
    TAKEN_STATUSES,
    CourseSession,
    Mode,
    PlanStatus,
    QuestionKind,
    Seat,
    SeatStatus,
    SurveyAnswer,
    SurveyQuestion,
)
from stormcert.courses.pdf import sign_in_sheet
from stormcert.courses.services import CourseError
from stormcert.enrollments.services import journey_for, peek_enrollment
from stormcert.lib.http import id_param
from stormcert.lib.links import absolute_url
from stormcert.lib.staff import has_staff_powers, staff_required
from stormcert.programs.lookup import program_from_query, qualification_programs
from stormcert.programs.models import Program


def _upcoming(now: datetime, program: Program | None = None) -> QuerySet[CourseSession]:
    """Listed sessions still to come (of `program`, None: of every program)."""
    listed = CourseSession.objects.public().filter(starts_at__gt=now)
    if program is not None:
        listed = listed.filter(program=program)
    # A session whose trainer lost standing (for the session's own program) is closed to
    # registration until staff reassign or cancel it, so it leaves the calendar at once
    # (derived: no job has to run first).
    keep = Q(pk__in=[])
    for program_id in set(listed.order_by().values_list("program_id", flat=True).distinct()):
        of_program = listed.filter(program_id=program_id)
        trainers = who_may_teach(
            of_program.order_by().values_list("trainer_id", flat=True).distinct(),
            Program.objects.get(pk=program_id),
            now,
        )
        keep |= Q(program_id=program_id, trainer_id__in=trainers)
    return (
        listed.filter(keep).with_seats(now).select_related("trainer", "program").order_by("starts_at", "id")
    )


def _calendar_program(request: HttpRequest) -> Program | None:
    """The `?program=CODE` filter (None: every qualification program)."""
    return program_from_query(request.GET.get("program"), kind="qualification")


def _filtered(request: HttpRequest, now: datetime) -> tuple[QuerySet[CourseSession], CalendarFilterForm]:
    program = _calendar_program(request)
    sessions = _upcoming(now, program)
    listed = list(qualification_programs())
    shown = program or (listed[0] if listed else None)
    zone = shown.zone if shown is not None else timezone.get_current_timezone()
    cities = sorted({c for c in sessions.exclude(city="").values_list("city", flat=True)}, key=str.lower)
    months = sorted(
        {timezone.localtime(s, zone).strftime("%Y-%m") for s in sessions.values_list("starts_at", flat=True)}
    )
    form = CalendarFilterForm(
        request.GET or None,
        programs=listed,
        cities=cities,
        months=[(m, datetime.strptime(m, "%Y-%m").strftime("%B %Y")) for m in months],  # noqa: DTZ007 (a label)
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["city"]:
            sessions = sessions.filter(city__iexact=data["city"])
        if data["mode"]:
            sessions = sessions.filter(mode=data["mode"])
        if data["month"]:
            first = datetime.strptime(data["month"] + "-01", "%Y-%m-%d").replace(tzinfo=zone)
            following = (first + timedelta(days=32)).replace(day=1)
            sessions = sessions.filter(starts_at__gte=first, starts_at__lt=following)
        if data["seats"]:
            sessions = sessions.filter(Q(open_seats__gt=0))  # an annotation from with_seats()
    return sessions, form


def calendar(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    sessions, form = _filtered(request, now)
    page = Paginator(sessions, 20).get_page(request.GET.get("page"))
    user = request.user
    program = _calendar_program(request)
    seats = (
        Seat.objects.filter(user=user, status__in=LIVE_STATUSES)
        .select_related("session", "session__program")
        .order_by("session__starts_at")
        if isinstance(user, User)
        else Seat.objects.none()
    )
    if program is not None:
        seats = seats.filter(program=program)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "courses/calendar.html",
        {
            "page": page,
            "form": form,
            "now": now,
            "my_seats": list(seats),
            "program": program,
            "programs": len(qualification_programs()),
            "query": query.urlencode(),
            "feed_url": request.build_absolute_uri(
                reverse("courses:calendar_ics") + (f"?program={program.code}" if program else "")
            ),
        },
    )


def _public_json(session: CourseSession, now: datetime) -> dict[str, Any]:
    held = getattr(session, "held", None)
    seats_left = max(0, session.capacity - held) if held is not None else session.seats_left(now)
    return {
        "id": session.pk,
        "program": session.program.code,
        "program_name": session.program.short_name,
        "title": session.title,
        "starts_at": session.local_start.isoformat(),
        "ends_at": session.local_end.isoformat(),
        "time_zone": session.time_zone,
        "mode": session.mode,
        "venue": session.venue,
        "address": session.address,
        "city": session.city,
        "capacity": session.capacity,
        "seats_left": seats_left,
        "registration_deadline": session.local_deadline.isoformat(),
        "registration_open": session.registration_open(now),
        "price": str(session.price) if session.price is not None else None,
        "trainer": str(session.trainer),
        "contact": session.contact,
        "notes": session.notes,
        "url": absolute_url("courses:session", session.pk),
    }


def calendar_json(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    sessions, form = _filtered(request, now)
    if request.GET and not form.is_valid():
        return JsonResponse({"error": "Invalid filter.", "fields": form.errors.get_json_data()}, status=400)
    return JsonResponse({"sessions": [_public_json(s, now) for s in sessions[:500]]})


def calendar_ics(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    program = _calendar_program(request)
    name = f"{program.short_name} course calendar" if program else "Course calendar"
    body = calendar_for(_upcoming(now, program)[:500], stamp=now, name=name)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    stem = f"{program.code.lower()}-course-calendar" if program else "course-calendar"
    response["Content-Disposition"] = f'inline; filename="{stem}.ics"'
    return response


def _can_see(request: HttpRequest, session: CourseSession) -> bool:
    if session.is_listed:
        return True
    user = request.user
    if not user.is_authenticated:
        return False
    return (
        has_staff_powers(request) or session.trainer_id == user.pk or session.seats.filter(user=user).exists()
    )


def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(CourseSession.objects.select_related("trainer", "program"), pk=pk)
    user = request.user
    if not _can_see(request, session):
        raise Http404("No such session.")
    now = timezone.now()
    seat = (
        Seat.objects.filter(session=session, user_id=user.pk).order_by("-created_at").first()
        if user.is_authenticated
        else None
    )
    problem = None
    switch_from = None
    if seat is None or not seat.is_live:
        switch_from = services.switchable_waitlist_seat(user=user, session=session, now=now)
        if switch_from is None:
            problem = services.registration_problem(user=user, session=session, now=now)
    is_trainer = user.is_authenticated and (session.trainer_id == user.pk or has_staff_powers(request))
    return render(
        request,
        "courses/session.html",
        {
            "session": session,
            "seat": seat,
            "problem": problem,
            "switch_from": switch_from,
            "seats_left": session.seats_left(now),
            "waiting": session.waiting().count(),
            "now": now,
            "is_trainer": is_trainer,
            "show_details": is_trainer or (seat is not None and seat.status == SeatStatus.REGISTERED),
            "position": seat.waitlist_position() if seat else None,
        },
    )


def session_ics(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(CourseSession.objects.select_related("trainer", "program"), pk=pk)
    if not _can_see(request, session):
        raise Http404("No such session.")
    registered = (
        request.user.is_authenticated
        and session.seats.filter(user_id=request.user.pk, status=SeatStatus.REGISTERED).exists()
    )
    body = calendar_for([session], stamp=timezone.now(), with_details=registered)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="course-{session.pk}.ics"'
    return response


@login_required
@require_POST
def register(request: AuthedRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(CourseSession, pk=pk)
    try:
        result = services.register_for_session(user=request.user, session=session)
    except CourseError as exc:
        messages.error(request, str(exc))
        return redirect("courses:session", pk=pk)
    if not result.waitlisted:
        messages.success(request, "You are registered. A calendar invitation is on its way by email.")
    elif result.seat.status == SeatStatus.OFFERED:
        messages.success(request, "A seat is free for you: accept it below to confirm.")
    else:
        messages.info(
            request,
            f"The session is full: you are number {result.position} on the waitlist. "
            "We will email you if a seat frees up.",
        )
    return redirect("courses:session", pk=pk)


@login_required
@require_POST
def switch(request: AuthedRequest, pk: int) -> HttpResponse:
    """Take this session's free seat and leave a waitlist elsewhere in the program, in one step."""
    session = get_object_or_404(CourseSession, pk=pk)
    try:
        services.switch_to_free_seat(user=request.user, session=session)
    except CourseError as exc:
        messages.error(request, str(exc))
        return redirect("courses:session", pk=pk)
    messages.success(
        request,
        "You are registered and have left the other session's waitlist. A calendar invitation is on its way.",
    )
    return redirect("courses:session", pk=pk)


def _my_seat(request: HttpRequest, seat_id: int) -> Seat:
    try:
        return services.get_seat_for_user(user=request.user, seat_id=seat_id)
    except Seat.DoesNotExist:
        raise Http404("No such place.") from None


@login_required
@require_POST
def accept_offer(request: AuthedRequest, seat_id: int) -> HttpResponse:
    seat = _my_seat(request, seat_id)
    try:
        services.accept_offer(seat=seat, user=request.user)
        messages.success(request, "The seat is yours. A calendar invitation is on its way by email.")
    except CourseError as exc:
        messages.error(request, str(exc))
    return redirect("courses:session", pk=seat.session_id)


@login_required
@require_POST
def cancel_seat(request: AuthedRequest, seat_id: int) -> HttpResponse:
    seat = _my_seat(request, seat_id)
    was = seat.status
    try:
        services.cancel_seat(seat=seat, actor=request.user)
        messages.success(
            request,
            "You left the waitlist."
            if was == SeatStatus.WAITING
            else "Your place is cancelled. Choose another session when you are ready.",
        )
    except CourseError as exc:
        messages.error(request, str(exc))
    return redirect("courses:session", pk=seat.session_id)


@login_required
def survey(request: AuthedRequest, seat_id: int) -> HttpResponse:
    seat = _my_seat(request, seat_id)
    questions = services.survey_questions(seat.session.program)
    try:
        services.check_can_answer_survey(seat=seat, now=timezone.now())
    except CourseError as exc:
        messages.info(request, str(exc))
        return redirect("enrollments:qualification")
    form = SurveyForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_survey(seat=seat, user=request.user, answers=form.answers())
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            program = seat.session.program
            journey = journey_for(peek_enrollment(user=request.user, program=program))
            following = f" Next: {journey.current.title}." if journey.current else ""
            messages.success(request, f"Thank you for the survey.{following}")
            return redirect("enrollments:qualification", program.code)
    return render(request, "courses/survey.html", {"seat": seat, "session": seat.session, "form": form})


# --- Trainers ------------------------------------------------------------------------------------


def _trainer_session(request: HttpRequest, pk: int) -> CourseSession:
    session = get_object_or_404(CourseSession.objects.select_related("trainer", "program"), pk=pk)
    try:
        services.check_can_teach(user=request.user, session=session, staff=has_staff_powers(request))
    except CourseError as exc:
        raise PermissionDenied(str(exc)) from None
    return session


def teaching_standing(user: User, now: datetime) -> tuple[list[Program], list[tuple[Program, list[str]]]]:
    """The qualification programs `user` may teach now, and for the others that concern them
    (taught by a trainer program they hold or held a term in; else every program some trainer
    program teaches) the reasons they may not."""
    taught = [p for p in qualification_programs(public_only=False) if p.taught_by.exists()]
    mine = set(user.trainer_terms.values_list("program_id", flat=True))
    concern = [p for p in taught if set(p.taught_by.values_list("pk", flat=True)) & mine] or taught
    able: list[Program] = []
    problems: list[tuple[Program, list[str]]] = []
    for program in taught:
        reasons = teaching_problems(user, program, now)
        if not reasons:
            able.append(program)
        elif program in concern:
            problems.append((program, reasons))
    return able, problems


@login_required
def mine(request: AuthedRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    able, problems = teaching_standing(user, now)
    sessions = (
        CourseSession.objects.filter(trainer=user)
        .select_related("program")
        .with_seats(now)
        .order_by("-starts_at")
    )
    if not able and not sessions.exists() and not user.trainer_terms.exists():
        raise PermissionDenied("This page is for Trainers of Record.")
    return render(
        request,
        "courses/mine.html",
        {
            "able": able,
            "problems": problems,
            "show_program": len({s.program_id for s in sessions}) > 1 or len(able) > 1,
            "upcoming": [s for s in sessions if s.ends_at > now][::-1],
            "past": [s for s in sessions if s.ends_at <= now],
            "now": now,
        },
    )


@login_required
def new_session(request: AuthedRequest) -> HttpResponse:
    """Publish a session of a qualification program the trainer may teach (a choice only when
    there is more than one)."""
    user = request.user
    able, problems = teaching_standing(user, timezone.now())
    if not able:
        reasons = " ".join(r for _, each in problems for r in each)
        raise PermissionDenied("Only a Trainer of Record in good standing can publish sessions. " + reasons)
    initial: dict[str, Any] = {"contact": user.email}
    if len(able) == 1:
        initial["title"] = f"{able[0].short_name}: {services.course_title(able[0])}"
    form = SessionForm(request.POST or None, initial=initial, programs=able)
    if request.method == "POST" and form.is_valid():
        program = form.chosen_program()
        try:
            if program is None:
                raise CourseError("Choose the qualification program this session teaches.")
            session = services.publish_session(trainer=user, program=program, fields=form.cleaned_data)
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            if session.mode == Mode.VIRTUAL:
                messages.success(
                    request,
                    "Saved. Submit the virtual training plan: staff accept it before the session is listed.",
                )
                return redirect("courses:plan", pk=session.pk)
            messages.success(request, "Published on the course calendar.")
            return redirect("courses:session", pk=session.pk)
    # A refused form is a 400, so a client (and the no-5xx fuzz test) can tell it from a page view.
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "courses/session_form.html",
        {"form": form, "session": None, "program": able[0] if len(able) == 1 else None},
        status=status,
    )


@login_required
def edit_session(request: AuthedRequest, pk: int) -> HttpResponse:
    session = _trainer_session(request, pk)
    form = SessionEditForm(request.POST or None, initial=SessionEditForm.initial_for(session))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_session(
                session=session,
                actor=request.user,
                fields=form.cleaned_data,
                reason=form.cleaned_data["reason"],
            )
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Saved. Registrants have been told what changed.")
            return redirect("courses:session", pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "courses/session_form.html", {"form": form, "session": session}, status=status)


@login_required
def cancel_session(request: AuthedRequest, pk: int) -> HttpResponse:
    session = _trainer_session(request, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_session(session=session, actor=request.user, reason=form.cleaned_data["reason"])
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The session is cancelled and its registrants have been told.")
            return redirect("courses:session", pk=pk)
    registered = session.seats.filter(
        status__in=[SeatStatus.REGISTERED, SeatStatus.OFFERED, SeatStatus.WAITING]
    ).count()
    return render(
        request, "courses/cancel.html", {"form": form, "session": session, "registered": registered}
    )


@login_required
def plan(request: AuthedRequest, pk: int) -> HttpResponse:
    session = _trainer_session(request, pk)
    form = PlanForm(request.POST or None, initial={"plan": session.virtual_plan})
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_virtual_plan(session=session, actor=request.user, plan=form.cleaned_data["plan"])
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Plan submitted. Staff will accept it or tell you what to change.")
            return redirect("courses:mine")
    return render(request, "courses/plan.html", {"form": form, "session": session})


def _roster(session: CourseSession) -> list[Seat]:
    return list(
        session.seats.filter(status__in=TAKEN_STATUSES)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


@login_required
def roster(request: AuthedRequest, pk: int) -> HttpResponse:
    session = _trainer_session(request, pk)
    seats = _roster(session)
    form = AttendanceForm(request.POST or None, seats=seats)
    if request.method == "POST" and form.is_valid():
        try:
            problems = services.record_attendance(session=session, actor=request.user, marks=form.marks())
        except CourseError as exc:
            messages.error(request, str(exc))
        else:
            for problem in problems:
                messages.error(request, problem)
            messages.success(
                request, "Attendance saved." if not problems else "Attendance saved for everyone else."
            )
            return redirect("courses:roster", pk=pk)
    waiting = session.seats.filter(status__in=[SeatStatus.WAITING, SeatStatus.OFFERED]).select_related("user")
    return render(
        request,
        "courses/roster.html",
        {
            "session": session,
            "form": form,
            "waiting": waiting,
            "attendance_closed": _attendance_closed(session),
        },
    )


def _attendance_closed(session: CourseSession) -> str | None:
    """None when attendance may be recorded now, else why not (shown on the roster)."""
    try:
        services.check_attendance_window(session, timezone.now())
    except CourseError as exc:
        return str(exc)
    return None


@login_required
def sign_in_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    session = _trainer_session(request, pk)
    response = HttpResponse(sign_in_sheet(session, _roster(session)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sign-in-session-{session.pk}.pdf"'
    return response


# --- Staff ---------------------------------------------------------------------------------------


def _staff_program(request: HttpRequest) -> tuple[Program | None, dict[str, Any]]:
    """A staff list's `?program=CODE` filter and what its template needs to offer it."""
    program = program_from_query(request.GET.get("program"), kind="qualification")
    programs = list(qualification_programs(public_only=False))
    return program, {"program": program, "programs": programs, "show_program": len(programs) > 1}


@staff_required
def staff_plans(request: HttpRequest) -> HttpResponse:
    program, filters = _staff_program(request)
    sessions = CourseSession.objects.all()
    if program is not None:
        sessions = sessions.filter(program=program)
    pending = sessions.filter(plan_status=PlanStatus.SUBMITTED).select_related("trainer", "program")
    decided = (
        sessions.filter(plan_status__in=[PlanStatus.ACCEPTED, PlanStatus.REJECTED])
        .select_related("trainer", "plan_decided_by", "program")
        .order_by("-plan_decided_at")[:30]
    )
    awaiting = sessions.filter(plan_status=PlanStatus.AWAITING, starts_at__gt=timezone.now())
    return render(
        request,
        "courses/staff_plans.html",
        {
            "pending": pending,
            "decided": decided,
            "awaiting": awaiting.select_related("trainer", "program"),
            "form": PlanDecisionForm(),
            **filters,
        },
    )


@staff_required
def staff_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(CourseSession.objects.select_related("trainer", "program"), pk=pk)
    form = PlanDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decide_virtual_plan(
                session=session,
                actor=request.user,
                accept=form.cleaned_data["decision"] == "accept",
                reason=form.cleaned_data["reason"],
            )
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Decision saved; the trainer has been told.")
            return redirect("courses:staff_plans")
    return render(request, "courses/staff_decide.html", {"session": session, "form": form})


@staff_required
def staff_surveys(request: HttpRequest) -> HttpResponse:
    """Survey results of one qualification program (its own questions): the `?program=` one,
    else the first that has questions."""
    program, filters = _staff_program(request)
    if program is None:
        program = next(
            (p for p in filters["programs"] if SurveyQuestion.objects.filter(program=p).exists()),
            filters["programs"][0] if filters["programs"] else None,
        )
        filters["program"] = program
    questions = (
        list(SurveyQuestion.objects.filter(program=program, kind=QuestionKind.RATING)) if program else []
    )
    answers = SurveyAnswer.objects.filter(rating__isnull=False, response__session__program=program)
    trainer_id = id_param(request.GET.get("trainer"))
    session_id = id_param(request.GET.get("session"))
    if trainer_id is not None:
        answers = answers.filter(response__session__trainer_id=trainer_id)
    if session_id is not None:
        answers = answers.filter(response__session_id=session_id)
    by_question = {
        row["question_id"]: row
        for row in answers.values("question_id").annotate(avg=Avg("rating"), n=Count("id"))
    }
    overall = [
        {
            "question": q,
            "avg": by_question.get(q.pk, {}).get("avg"),
            "n": by_question.get(q.pk, {}).get("n", 0),
        }
        for q in questions
    ]
    distribution = {row["rating"]: row["n"] for row in answers.values("rating").annotate(n=Count("id"))}
    total = sum(distribution.values()) or 1
    by_trainer = (
        answers.values(
            "response__session__trainer_id",
            "response__session__trainer__first_name",
            "response__session__trainer__last_name",
            "response__session__trainer__email",
        )
        .annotate(avg=Avg("rating"), responses=Count("response", distinct=True))
        .order_by("-avg")
    )
    by_session = (
        answers.values(
            "response__session_id",
            "response__session__starts_at",
            "response__session__city",
            "response__session__mode",
            "response__session__trainer__email",
        )
        .annotate(avg=Avg("rating"), responses=Count("response", distinct=True))
        .order_by("-response__session__starts_at")[:50]
    )
    comments = (
        SurveyAnswer.objects.filter(~Q(comment=""), response__in=answers.values("response"))
        .select_related("question", "response__session")
        .order_by("-response__submitted_at")[:30]
    )
    return render(
        request,
        "courses/staff_surveys.html",
        {
            "overall": overall,
            "distribution": [
                (n, distribution.get(n, 0), round(100 * distribution.get(n, 0) / total))
                for n in (1, 2, 3, 4, 5)
            ],
            "by_trainer": by_trainer,
            "by_session": by_session,
            "comments": comments,
            "trainer_id": trainer_id,
            "session_id": session_id,
            **filters,
        },
    )


# --- Staff: sessions whose trainer lost standing ------------------------------------------------


@staff_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    """Upcoming sessions closed to registration because their trainer may not teach today."""
    now = timezone.now()
    program, filters = _staff_program(request)
    sessions = services.sessions_needing_a_trainer(now, program=program)
    reasons = {(s.trainer, s.program): teaching_problems(s.trainer, s.program, now) for s in sessions}
    rows = [
        (
            s,
            reasons[(s.trainer, s.program)],
            s.seats.filter(
                status__in=[SeatStatus.REGISTERED, SeatStatus.OFFERED, SeatStatus.WAITING]
            ).count(),
        )
        for s in sessions
    ]
    return render(request, "courses/staff_queue.html", {"rows": rows, **filters})


def _able_trainers(session: CourseSession, now: datetime) -> tuple[set[int], list[User]]:
    """Who may take this session over: Trainers of Record in standing for the session's
    program, except its own trainer."""
    able = who_may_teach(None, session.program, now) - {session.trainer_id}
    return able, list(User.objects.filter(pk__in=able).order_by("last_name", "first_name", "email"))


def _queue_session(pk: int) -> CourseSession:
    return get_object_or_404(CourseSession.objects.select_related("trainer", "program"), pk=pk)


def _queue_session_page(
    request: HttpRequest,
    session: CourseSession,
    *,
    reassign_form: ReassignForm | None = None,
    cancel_form: ReasonForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    _, trainers = _able_trainers(session, now)
    registrants = session.seats.filter(
        status__in=[SeatStatus.REGISTERED, SeatStatus.OFFERED, SeatStatus.WAITING]
    ).select_related("user")
    return render(
        request,
        "courses/staff_queue_session.html",
        {
            "session": session,
            "problems": teaching_problems(session.trainer, session.program, now),
            "registrants": registrants,
            "reassign_form": reassign_form or ReassignForm(trainers=trainers, prefix="reassign"),
            "cancel_form": cancel_form or ReasonForm(prefix="cancel"),
            "has_trainers": bool(trainers),
        },
    )


@staff_required
@require_GET
def staff_queue_session(request: HttpRequest, pk: int) -> HttpResponse:
    """One session from the queue: reassign it to a ToR in standing, or cancel it (each its own
    view below); both need a reason, are audited and email the registrants (the services do both)."""
    return _queue_session_page(request, _queue_session(pk))


@staff_required
@require_POST
def staff_queue_reassign(request: AuthedRequest, pk: int) -> HttpResponse:
    session = _queue_session(pk)
    able, trainers = _able_trainers(session, timezone.now())
    form = ReassignForm(request.POST, trainers=trainers, prefix="reassign")
    if form.is_valid():
        trainer = get_object_or_404(User, pk=int(form.cleaned_data["trainer"]), pk__in=able)
        try:
            services.reassign_session(
                session=session,
                trainer=trainer,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The session is now {trainer}'s; its registrants have been told.")
            return redirect("courses:staff_queue")
    return _queue_session_page(request, session, reassign_form=form)


@staff_required
@require_POST
def staff_queue_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    session = _queue_session(pk)
    form = ReasonForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            services.cancel_session(session=session, actor=request.user, reason=form.cleaned_data["reason"])
        except CourseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The session is cancelled and its registrants have been told.")
            return redirect("courses:staff_queue")
    return _queue_session_page(request, session, cancel_form=form)
