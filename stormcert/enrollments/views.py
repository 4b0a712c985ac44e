from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.enrollments.forms import (
    AcknowledgeForm,
    MigratePolicyForm,
    SelfAssessmentForm,
    SelfDirectedForm,
)
from stormcert.enrollments.models import Enrollment, SelfAssessmentQuestion
from stormcert.enrollments.services import (
    JourneyError,
    acknowledge,
    candidate_program_or_404,
    get_enrollment,
    journey_for,
    migrate_policy,
    peek_enrollment,
    record_self_directed,
    start_registration,
    start_resolution,
    submit_self_assessment,
)
from stormcert.lib.staff import staff_required
from stormcert.payments.models import Order
from stormcert.programs.lookup import program_from_query, qualification_programs
from stormcert.programs.models import ProgramKind


def _my_enrollment(request: AuthedRequest, code: str) -> Enrollment:
    """The person's enrollment in the qualification program the URL names (404 for no such
    program)."""
    program = candidate_program_or_404(user=request.user, code=code)
    # Reading a page writes nothing: the enrollment row is made by the first POST that acts.
    find = get_enrollment if request.method == "POST" else peek_enrollment
    return find(user=request.user, program=program)


@login_required
@require_POST
def acknowledge_view(request: AuthedRequest, code: str) -> HttpResponse:
    enrollment = _my_enrollment(request, code)
    back = redirect("enrollments:qualification", enrollment.program.code)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick the box to confirm you have read the documents.")
        return back
    try:
        acknowledge(enrollment=enrollment)
        messages.success(request, "Thank you. Next: the self-assessment questionnaire.")
    except JourneyError as exc:
        messages.error(request, str(exc))
    return back


@login_required
def self_assessment(request: AuthedRequest, code: str) -> HttpResponse:
    enrollment = _my_enrollment(request, code)
    back = redirect("enrollments:qualification", enrollment.program.code)
    questions = list(SelfAssessmentQuestion.objects.filter(program=enrollment.program))
    form = SelfAssessmentForm(request.POST if request.method == "POST" else None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            estimate = submit_self_assessment(enrollment=enrollment, answers=form.answers())
        except JourneyError as exc:
            messages.error(request, str(exc))
            return back
        messages.success(
            request, f"Thank you. We estimate the online training will take you about {estimate} hours."
        )
        return back
    return render(request, "enrollments/self_assessment.html", {"form": form, "enrollment": enrollment})


def _pay_for(request: AuthedRequest, code: str, start: Callable[..., Order]) -> HttpResponse:
    """Create (or reuse) the order a journey step needs and send the person to pay it."""
    enrollment = _my_enrollment(request, code)
    try:
        order = start(enrollment=enrollment)
    except JourneyError as exc:
        messages.error(request, str(exc))
        return redirect("enrollments:qualification", enrollment.program.code)
    return redirect("payments:order", number=order.number)


@login_required
@require_POST
def register(request: AuthedRequest, code: str) -> HttpResponse:
    return _pay_for(request, code, start_registration)


@login_required
@require_POST
def resolve(request: AuthedRequest, code: str) -> HttpResponse:
    return _pay_for(request, code, start_resolution)


# --- Staff -----------------------------------------------------------------------------


def _staff_list(
    request: HttpRequest, form: SelfDirectedForm, *, q: str = "", program_code: str = "", status: int = 200
) -> HttpResponse:
    program = program_from_query(program_code, kind=ProgramKind.QUALIFICATION)
    enrollments = Enrollment.objects.select_related("user", "program", "policy_version").order_by(
        "-created_at"
    )
    if program is not None:
        enrollments = enrollments.filter(program=program)
    if q:
        enrollments = enrollments.filter(user__email__icontains=q) | enrollments.filter(
            user__last_name__icontains=q
        )
    page = Paginator(enrollments, 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (("q", q), ("program", program.code if program else "")) if v})
    return render(
        request,
        "enrollments/staff_list.html",
        {
            "page": page,
            "q": q,
            "query": query,
            "program": program,
            "programs": qualification_programs(public_only=False).order_by("name"),
            "self_directed_form": form,
        },
        status=status,
    )


@staff_required
def staff_enrollments(request: HttpRequest) -> HttpResponse:
    return _staff_list(
        request,
        SelfDirectedForm(prefix="sd"),
        q=request.GET.get("q", "").strip(),
        program_code=request.GET.get("program", ""),
    )


@staff_required
@require_POST
def staff_self_directed(request: AuthedRequest) -> HttpResponse:
    form = SelfDirectedForm(request.POST, prefix="sd")
    if form.is_valid():
        program = form.cleaned_data["program"]
        user = User.objects.filter(email__iexact=form.cleaned_data["email"]).first()
        if user is None:
            form.add_error("email", "No account uses this address; ask the person to sign up first.")
        else:
            try:
                enrollment = record_self_directed(
                    user=user,
                    program=program,
                    license_type=form.cleaned_data["license_type"],
                    license_number=form.cleaned_data["license_number"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(
                    request,
                    f"{user} is recorded as qualified in {program.short_name} by the self-directed route.",
                )
                return redirect("enrollments:staff_detail", pk=enrollment.pk)
            except JourneyError as exc:
                form.add_error(None, str(exc))
    return _staff_list(request, form, status=400)


@staff_required
def staff_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("user", "program", "policy_version"), pk=pk
    )
    form = MigratePolicyForm(request.POST if request.method == "POST" else None, program=enrollment.program)
    if request.method == "POST" and form.is_valid():
        try:
            migrate_policy(
                enrollment=enrollment,
                version=form.cleaned_data["version"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, f"Moved to the rules “{form.cleaned_data['version'].name}”.")
            return redirect("enrollments:staff_detail", pk=pk)
        except JourneyError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "enrollments/staff_detail.html",
        {
            "enrollment": enrollment,
            "journey": journey_for(enrollment),
            "records": enrollment.records.all(),
            "form": form,
        },
    )
