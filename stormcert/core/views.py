from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone

from stormcert.accounts.claims import pending_claims
from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.audit.models import AuditEvent
from stormcert.certificates.names import pending_name_changes
from stormcert.courses.models import CourseSession, PlanStatus, Seat
from stormcert.courses.services import sessions_needing_a_trainer
from stormcert.emails.models import EmailStatus, OutboundEmail
from stormcert.enrollments.forms import AcknowledgeForm
from stormcert.enrollments.services import journey_for, peek_enrollment, qualification_program, rules_for
from stormcert.exams.models import Exam
from stormcert.exams.services import pending_accommodation_requests
from stormcert.lib.staff import staff_required
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState, Provider
from stormcert.programs.models import Program
from stormcert.programs.rules import RuleMissing, rules_in_force
from stormcert.trainers.models import Application, ApplicationStatus
from stormcert.training.models import Course, CourseKind
from stormcert.training.services import course_progress


def home(request: HttpRequest) -> HttpResponse:
    """The public QISP program page: what a QISP is, the steps, the fees, where to read more."""
    program = Program.objects.filter(kind="qualification", is_public=True).prefetch_related("steps").first()
    trainer_program = Program.objects.filter(kind="trainer", is_public=True).first()
    rules = None
    if program is not None:
        try:
            rules = rules_in_force(program)
        except RuleMissing:
            rules = None
    return render(
        request,
        "core/home.html",
        {"program": program, "rules": rules, "trainer_program": trainer_program},
    )


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    program = qualification_program()
    verified = EmailAddress.objects.filter(user=request.user, verified=True).exists()
    journey = None
    if program is not None:
        journey = journey_for(peek_enrollment(user=request.user, program=program))
    return render(
        request, "core/dashboard.html", {"program": program, "email_verified": verified, "journey": journey}
    )


@login_required
def qualification(request: AuthedRequest) -> HttpResponse:
    """The Qualification page: every step of the person's QISP journey with what to do next.

    It lives here, in the composition root, because it shows the state of every app the journey
    passes through (enrollment, training, the course seat, the exam, orders); its URL keeps the
    name `enrollments:qualification` (stormcert/urls.py). Reading it writes nothing: the
    enrollment row is made by the first POST that acts."""
    user = request.user
    program = qualification_program()
    enrollment = peek_enrollment(user=user, program=program) if program is not None else None
    if enrollment is None:
        return render(request, "core/qualification.html", {"enrollment": None})
    now = timezone.now()
    journey = journey_for(enrollment, now)
    course = Course.objects.filter(
        program=enrollment.program, kind=CourseKind.TRAINING, is_published=True
    ).first()
    current = journey.current
    context = {
        "enrollment": enrollment,
        "journey": journey,
        "rules": rules_for(enrollment, now),
        "course": course,
        "progress": course_progress(user, course) if course and enrollment.is_registered() else None,
        "ack_form": AcknowledgeForm(),
        "guides": next((s.resources for s in enrollment.program.steps.all() if s.kind == "acknowledge"), []),
        "pending_orders": Order.objects.filter(user=user, status=OrderStatus.PENDING),
        "estimate": None
        if enrollment.pk is None
        else enrollment.records.filter(
            step_code__in=[s.code for s in journey.steps if s.kind == "questionnaire"], voided_at__isnull=True
        )
        .values_list("data__estimated_hours", flat=True)
        .first(),
        "current_kind": current.kind if current else None,
        "course_seat": Seat.objects.filter(user=user, program=enrollment.program, cycle=enrollment.cycle)
        .select_related("session", "session__trainer")
        .order_by("-created_at")
        .first()
        if current and current.kind in ("course", "survey")
        else None,
        "exam_ready": bool(
            current
            and current.kind == "exam"
            and Exam.objects.filter(program=enrollment.program, step_code=current.code).exists()
        ),
    }
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
        "claims_waiting": pending_claims(),
        "accommodations_waiting": pending_accommodation_requests(),
        "name_changes_waiting": pending_name_changes(),
        "emails_failed": email_counts.get(EmailStatus.FAILED, 0),
        "checks_waiting": Payment.objects.filter(provider=Provider.CHECK, state=PaymentState.PENDING).count(),
        "emails_total": sum(email_counts.values()),
        "plans_waiting": CourseSession.objects.filter(plan_status=PlanStatus.SUBMITTED).count(),
        "sessions_without_trainer": len(sessions_needing_a_trainer()),
        "recent_events": AuditEvent.objects.select_related("actor")[:8],
        "programs": [(p, _rules_or_none(p)) for p in Program.objects.all()],
    }
    return render(request, "core/staff_home.html", context)


def _rules_or_none(program: Program) -> object:
    try:
        return rules_in_force(program)
    except RuleMissing:
        return None
