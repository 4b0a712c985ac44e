from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from stormcert.accounts.claims import pending_claims
from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, Status
from stormcert.certificates.names import pending_name_changes
from stormcert.core.next_steps import next_step_in
from stormcert.courses.models import CourseSession, PlanStatus, Seat
from stormcert.courses.services import sessions_needing_a_trainer
from stormcert.emails.models import EmailStatus, OutboundEmail
from stormcert.enrollments.forms import AcknowledgeForm
from stormcert.enrollments.journey import Journey
from stormcert.enrollments.models import Enrollment, SelfDirectedApplication
from stormcert.enrollments.self_directed import offer_for, pending_self_directed_applications
from stormcert.enrollments.services import (
    Handbook,
    candidate_program_or_404,
    estimate_on_record,
    handbook_access,
    journey_for,
    peek_enrollment,
    rules_for,
)
from stormcert.exams.models import Attempt, AttemptStatus, Exam
from stormcert.exams.services import close_overdue_for, pending_accommodation_requests
from stormcert.lib.staff import staff_required
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState, Provider
from stormcert.programs.lookup import program_or_404, qualification_programs, trainer_programs_teaching
from stormcert.programs.models import Program, ProgramKind
from stormcert.programs.policy import missing_keys, shape_of
from stormcert.programs.rules import RuleMissing, Rules, rules_in_force
from stormcert.renewals.services import RenewalStatus, Stage, current_certificate, renewal_status
from stormcert.trainers.applications import candidates_to_approve
from stormcert.trainers.models import Application, ApplicationStatus, TrainerTerm
from stormcert.trainers.services import active_term
from stormcert.trainers.yearly import TermRenewalStatus, renewals_to_confirm, term_renewal_status
from stormcert.training.models import Course, CourseKind
from stormcert.training.services import course_progress


@dataclass(frozen=True)
class ProgramState:
    """One qualification program as the person stands in it, for the dashboard and the list."""

    program: Program
    enrollment: Enrollment | None
    journey: Journey | None
    certificate: Certificate | None
    certificate_status: str
    state: str
    open_attempt: Attempt | None = None  # an exam attempt in progress: time left and Resume
    minutes_left: int | None = None
    last_attempt: Attempt | None = None  # the latest graded one, shown when its time ran out
    handbook: Handbook | None = None  # the handbook registration includes, while access lasts


def _program_states(user: User, now: datetime) -> list[ProgramState]:
    """Every public qualification program, plus any other the person holds or pursues, in
    name order, with where they stand: not started, step N of M, or certified until a day."""
    enrollments = {
        e.program_id: e
        for e in Enrollment.objects.filter(user=user, program__kind=ProgramKind.QUALIFICATION).select_related(
            "program", "policy_version"
        )
    }
    certificates: dict[int, Certificate] = {}
    for held in Certificate.objects.filter(
        holder=user, program__kind=ProgramKind.QUALIFICATION, superseded_at__isnull=True
    ).order_by("issued_on"):
        certificates[held.program_id] = held
    ids = set(enrollments) | set(certificates)
    if enrollments:
        close_overdue_for(user=user, now=now)
    attempts: dict[int, list[Attempt]] = {}
    for attempt in Attempt.objects.filter(user=user).select_related("exam").order_by("-started_at"):
        attempts.setdefault(attempt.exam.program_id, []).append(attempt)
    programs = (qualification_programs() | Program.objects.filter(pk__in=ids)).distinct().order_by("name")
    rows = []
    for program in programs.prefetch_related("steps"):
        enrollment = enrollments.get(program.pk)
        certificate = certificates.get(program.pk)
        journey = journey_for(enrollment, now) if enrollment is not None else None
        status = certificate.status_at(now).label if certificate is not None else ""
        mine = [a for a in attempts.get(program.pk, []) if enrollment and a.enrollment_id == enrollment.pk]
        open_attempt = next((a for a in mine if a.status == AttemptStatus.IN_PROGRESS), None)
        row = ProgramState(
            program,
            enrollment,
            journey,
            certificate,
            status,
            _state_words(journey, certificate, now),
            open_attempt=open_attempt,
            minutes_left=-(-open_attempt.seconds_left(now) // 60) if open_attempt else None,
            last_attempt=next((a for a in mine if a.status != AttemptStatus.IN_PROGRESS), None),
            handbook=handbook_access(enrollment, now) if enrollment is not None else None,
        )
        rows.append(row)
    return rows


def _state_words(journey: Journey | None, certificate: Certificate | None, now: datetime) -> str:
    if certificate is not None and certificate.status_at(now) == Status.ACTIVE:
        if certificate.expires_on is None:
            return f"Certified (certificate {certificate.number})"
        return f"Certified until {certificate.expires_on:%B} {certificate.expires_on.day}, {certificate.expires_on.year}"
    if certificate is not None and (journey is None or journey.current is None):
        return f"Certificate {certificate.number}: {certificate.status_at(now).label.lower()}"
    if journey is None:
        return "Not started"
    if journey.current is None:
        return "Every step done"
    state = f"Step {journey.current.position} of {len(journey.steps)}: {journey.current.title}"
    return f"{state} (action needed)" if journey.action is not None else state


def home(request: HttpRequest) -> HttpResponse:
    """The public front page: every public qualification program, each with the trainer
    programs whose trainers teach it."""
    programs = [
        (program, list(trainer_programs_teaching(program).filter(is_public=True)))
        for program in qualification_programs().order_by("name")
    ]
    return render(request, "core/home.html", {"programs": programs})


def program_page(request: HttpRequest, code: str) -> HttpResponse:
    """A public program page: its steps, fees, rules in plain words, resources, and where the
    figures come from."""
    program = program_or_404(code)
    if not program.is_public:
        raise Http404("No such program.")
    try:
        rules: Rules | None = rules_in_force(program)
    except RuleMissing:
        rules = None
    return render(
        request,
        "core/program.html",
        {
            "program": program,
            "steps": list(program.steps.all()),
            "rules": rules,
            "trainer_programs": list(trainer_programs_teaching(program).filter(is_public=True)),
            "teaches": list(program.teaches.filter(is_public=True)),
        },
    )


def help_page(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Help: each public program's frequently asked questions and its office's contact, from the
    program's definition. `/help/<code>/` shows one program; `#contact` is where every "contact
    us" sentence on the site points."""
    if code is not None:
        program = program_or_404(code)
        if not program.is_public:
            raise Http404("No such program.")
        programs = [program]
    else:
        programs = list(Program.objects.filter(is_public=True).order_by("position", "code"))
    return render(request, "core/help.html", {"programs": programs, "one": code is not None})


@dataclass(frozen=True)
class Holding:
    """A certificate the person holds and may keep by renewing: what they are, not what they do."""

    certificate: Certificate
    status: str
    renewal: RenewalStatus


def _holding(certificate: Certificate | None, now: datetime) -> Holding | None:
    """The certificate as a holding, or None when it no longer makes its holder qualified: revoked,
    or expired beyond renewal (then the program's steps are the person's way back)."""
    if certificate is None:
        return None
    renewal = renewal_status(certificate, now)
    if renewal.stage in (Stage.REVOKED, Stage.REQUALIFY):
        return None
    return Holding(certificate, certificate.status_at(now).label, renewal)


@dataclass(frozen=True)
class TrainerStanding:
    """A Trainer of Record program the person holds (or held) a term of: the term in force and
    what the next term needs by its due day, read from the trainers app as its pages show it."""

    program: Program
    term: TrainerTerm | None
    renewal: TermRenewalStatus


def _trainer_standings(user: User, now: datetime) -> list[TrainerStanding]:
    found = []
    for program in Program.objects.filter(kind=ProgramKind.TRAINER, trainer_terms__user=user).distinct():
        renewal = term_renewal_status(user, program, now)
        if renewal is not None:
            found.append(TrainerStanding(program, active_term(user, now, program=program), renewal))
    return found


def _trainer_programs_open_to(user: User, held: set[int]) -> list[Program]:
    """Public trainer programs the person may apply to: they hold every certificate the program
    requires and no term of it yet."""
    return [
        program
        for program in Program.objects.filter(kind=ProgramKind.TRAINER, is_public=True)
        .exclude(trainer_terms__user=user)
        .prefetch_related("requires")
        .order_by("position", "code")
        if {p.pk for p in program.requires.all()} and {p.pk for p in program.requires.all()} <= held
    ]


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """What the person holds first (certificates, renewal, ToR terms), then what they are working
    on, then what they may start. Staff (with their powers: two-factor given) see their queues
    first: a staff account is someone's workplace before it is a candidate's."""
    user = request.user
    now = timezone.now()
    verified = EmailAddress.objects.filter(user=user, verified=True).exists()
    rows = _program_states(user, now)
    holdings = {r.program.pk: _holding(r.certificate, now) for r in rows}
    held = [(r, h) for r in rows if (h := holdings[r.program.pk]) is not None]
    # Working on: an enrollment not finished, unless the person holds the program's certificate
    # and the enrollment is only the unfinished remains of an earlier cycle.
    working = [
        r
        for r in rows
        if r.enrollment is not None
        and r.journey is not None
        and r.journey.overall != "complete"
        and holdings[r.program.pk] is None
    ]
    # May start: the rest, including a program whose certificate lapsed beyond renewal (the page
    # says so: qualifying again starts with its steps).
    shown = {r.program.pk for r, _ in held} | {r.program.pk for r in working}
    others = [r for r in rows if r.program.pk not in shown]
    trainer = _trainer_standings(user, now)
    # Each program worked on with its one next step as the card's button (the training, the exam).
    # (None when that step is the Qualification page itself: the card's own link goes there.)
    next_steps = {r.program.pk: next_step_in(user, r.program, now) for r in working}
    for r in working:
        step = next_steps[r.program.pk]
        if step is not None and step.path == reverse("enrollments:qualification", args=[r.program.code]):
            next_steps[r.program.pk] = None
    return render(
        request,
        "core/dashboard.html",
        {
            "held": held,
            "trainer": trainer,
            "working": [(r, next_steps[r.program.pk]) for r in working],
            "others": others,
            "trainer_open": _trainer_programs_open_to(user, {r.program.pk for r, _ in held}),
            "email_verified": verified,
        },
    )


@login_required
def qualification_list(request: AuthedRequest) -> HttpResponse:
    """The person's qualification programs; straight to the program's page when there is
    only one public qualification program and nothing else to show."""
    rows = _program_states(request.user, timezone.now())
    public = list(qualification_programs()[:2])
    if len(public) == 1 and len(rows) == 1:
        return redirect("enrollments:qualification", public[0].code)
    return render(request, "core/qualification_list.html", {"rows": rows})


@login_required
def qualification(request: AuthedRequest, code: str) -> HttpResponse:
    """A qualification program's page: every step of the person's journey with what to do next.

    It lives here, in the composition root, because it shows the state of every app the journey
    passes through (enrollment, training, the course seat, the exam, orders); its URL keeps the
    name `enrollments:qualification` (stormcert/urls.py). Reading it writes nothing of its own:
    the enrollment row is made by the first POST that acts. The one exception is what the clock
    already decided: an exam attempt whose time ran out is graded first, so the page shows its
    result and the attempts left rather than an attempt still open."""
    user = request.user
    program = candidate_program_or_404(user=user, code=code)
    enrollment = peek_enrollment(user=user, program=program)
    now = timezone.now()
    if enrollment.pk is not None:
        close_overdue_for(user=user, program=program, now=now)
    journey = journey_for(enrollment, now)
    course = Course.objects.filter(program=program, kind=CourseKind.TRAINING, is_published=True).first()
    current = journey.current
    rules = rules_for(enrollment, now)
    context = {
        "program": program,
        # A holder of the program's certificate (current, or still renewable) is not a candidate:
        # the page leads with the certificate and renewal, never the first step of a new journey.
        "holding": _holding(current_certificate(user, program), now),
        "enrollment": enrollment,
        "journey": journey,
        "rules": rules,
        "handbook": handbook_access(enrollment, now),
        "course": course,
        "progress": course_progress(user, course) if course and enrollment.is_registered() else None,
        "ack_form": AcknowledgeForm(),
        "guides": next((s.resources for s in program.steps.all() if s.kind == "acknowledge"), []),
        "pending_orders": Order.objects.filter(user=user, status=OrderStatus.PENDING),
        "estimate": None
        if enrollment.pk is None or "training.estimated_hours" not in rules.values
        else estimate_on_record(
            enrollment.records.filter(
                step_code__in=[s.code for s in journey.steps if s.kind == "questionnaire"],
                voided_at__isnull=True,
            )
            .values_list("data", flat=True)
            .first(),
            rules.values,
        ),
        "current_kind": current.kind if current else None,
        "course_seat": Seat.objects.filter(user=user, program=program, cycle=enrollment.cycle)
        .select_related("session", "session__trainer")
        .order_by("-created_at")
        .first()
        if current and current.kind in ("course", "survey")
        else None,
        "exam": Exam.objects.filter(program=program, step_code=current.code).first()
        if current and current.kind == "exam"
        else None,
    }
    # The self-directed route, when the program's rules define it: what it is and this person's
    # latest application (the page says nothing of it otherwise).
    offer = offer_for(enrollment, now)
    context["self_directed"] = offer
    context["self_directed_application"] = (
        SelfDirectedApplication.objects.filter(user=user, program=program).first() if offer else None
    )
    exam = context["exam"]
    if isinstance(exam, Exam) and enrollment.pk is not None:
        attempts = Attempt.objects.filter(user=user, exam=exam, enrollment=enrollment)
        open_attempt = attempts.filter(status=AttemptStatus.IN_PROGRESS).first()
        context["open_attempt"] = open_attempt
        context["minutes_left"] = -(-open_attempt.seconds_left(now) // 60) if open_attempt else None
        context["last_attempt"] = (
            attempts.exclude(status=AttemptStatus.IN_PROGRESS).order_by("-started_at").first()
        )
    return render(request, "core/qualification.html", context)


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed static name exists only once collectstatic has run.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@login_required
def ping(request: HttpRequest) -> JsonResponse:
    """The smallest signed-in request: the exam page uses it to check the session, and the
    benchmarks use it as the floor that save throughput is compared with."""
    return JsonResponse({"ok": True, "user": request.user.pk})


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    email_counts = dict(OutboundEmail.objects.values_list("status").annotate(n=Count("id")))
    context = {
        "people": User.objects.filter(placeholder=False).count(),
        "unverified": User.objects.filter(placeholder=False, is_active=True)
        .exclude(emailaddress__verified=True)
        .count(),
        "soqs_to_assign": Application.objects.filter(
            status=ApplicationStatus.SUBMITTED, reviews__isnull=True
        ).count(),
        "tor_approvals_waiting": candidates_to_approve().count(),
        "tor_renewals_waiting": len(renewals_to_confirm()),
        "claims_waiting": pending_claims(),
        "accommodations_waiting": pending_accommodation_requests(),
        "name_changes_waiting": pending_name_changes(),
        "self_directed_waiting": pending_self_directed_applications(),
        "emails_failed": email_counts.get(EmailStatus.FAILED, 0),
        "checks_waiting": Payment.objects.filter(provider=Provider.CHECK, state=PaymentState.PENDING).count(),
        "emails_total": sum(email_counts.values()),
        "plans_waiting": CourseSession.objects.filter(plan_status=PlanStatus.SUBMITTED).count(),
        "sessions_without_trainer": len(sessions_needing_a_trainer()),
        "recent_events": AuditEvent.objects.select_related("actor")[:8],
        "programs": [_rules_in_force_and_gaps(p) for p in Program.objects.all()],
    }
    return render(request, "core/staff_home.html", context)


def _rules_in_force_and_gaps(program: Program) -> tuple[Program, Rules | None, list[str]]:
    """The program, its rules in force (None when there are none), and the keys they lack (a
    version saved before the editor checked, or loaded by other means): each missing key makes
    the pages that read it answer 503, so staff home flags it."""
    try:
        rules = rules_in_force(program)
    except RuleMissing:
        return program, None, []
    return program, rules, missing_keys(rules.values, shape_of(program))
