from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.enrollments.forms import (
    AcknowledgeForm,
    DecideApplicationForm,
    MigratePolicyForm,
    SelfAssessmentForm,
    SelfDirectedApplicationForm,
    SelfDirectedForm,
)
from stormcert.enrollments.models import (
    ApplicationStatus,
    Enrollment,
    SelfAssessmentQuestion,
    SelfDirectedApplication,
)
from stormcert.enrollments.self_directed import (
    ApplicationClosed,
    apply_self_directed,
    decide_self_directed,
    route_offer,
)
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
from stormcert.lib.staff import has_staff_powers, staff_required
from stormcert.lib.uploads import pdf_response
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


# --- The self-directed route: candidates apply, staff decide ---------------------------------


@login_required
def self_directed(request: AuthedRequest, code: str) -> HttpResponse:
    """Apply for the self-directed route (programs whose rules define it; others: not found)."""
    program = candidate_program_or_404(user=request.user, code=code)
    offer = route_offer(user=request.user, program=program)
    if offer is None:
        raise Http404("This program has no self-directed route.")
    mine = list(SelfDirectedApplication.objects.filter(user=request.user, program=program))
    pending = next((a for a in mine if a.is_pending), None)
    enrollment = peek_enrollment(user=request.user, program=program)
    form = SelfDirectedApplicationForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        offer=offer,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                apply_self_directed(
                    user=request.user,
                    program=program,
                    license_type=form.cleaned_data["license_type"],
                    license_number=form.cleaned_data["license_number"],
                    license_state=form.cleaned_data["license_state"],
                    document=form.cleaned_data["document"],
                )
            except JourneyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    "Your application was sent. We emailed you a copy; staff will email you their decision.",
                )
                return redirect("enrollments:qualification", program.code)
        status = 400
        if "document" not in form.errors:
            # A page sent back cannot keep the chosen file (browsers never refill a file input).
            form.add_error("document", "Choose the file again: it is not kept when the page is sent back.")
    return render(
        request,
        "enrollments/self_directed.html",
        {
            "program": program,
            "offer": offer,
            "form": form,
            "applications": mine,
            "pending": pending,
            "qualified": enrollment.completed_at is not None,
        },
        status=status,
    )


@login_required
def self_directed_document(request: AuthedRequest, pk: int) -> FileResponse:
    found = SelfDirectedApplication.objects.filter(pk=pk).first()
    # Not found rather than forbidden for anyone but the candidate and staff: nothing leaks.
    if (
        found is None
        or not found.document
        or not (found.user_id == request.user.pk or has_staff_powers(request))
    ):
        raise Http404("No such document.")
    return pdf_response(found.document, found.document_name or "license.pdf")


def _queue_page(
    request: HttpRequest, *, refused: tuple[int, DecideApplicationForm] | None = None, status: int = 200
) -> HttpResponse:
    pending = [
        (
            application,
            # What staff typed stays in the form of the application it was typed for.
            refused[1] if refused and refused[0] == application.pk else DecideApplicationForm(),
        )
        for application in SelfDirectedApplication.objects.filter(status=ApplicationStatus.PENDING)
        .select_related("user", "program")
        .order_by("applied_at", "id")
    ]
    decided = (
        SelfDirectedApplication.objects.exclude(status=ApplicationStatus.PENDING)
        .select_related("user", "program", "decided_by")
        .order_by("-decided_at", "-id")[:50]
    )
    return render(
        request,
        "enrollments/staff_self_directed_queue.html",
        {"pending": pending, "decided": decided},
        status=status,
    )


@staff_required
@require_GET
def staff_self_directed_queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@staff_required
@require_POST
def staff_self_directed_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(SelfDirectedApplication.objects.select_related("user", "program"), pk=pk)
    form = DecideApplicationForm(request.POST)
    form.is_valid()  # plain text: the service says what is missing
    data = form.cleaned_data
    if data.get("decision") not in ("approve", "refuse"):
        messages.error(request, "Choose Approve or Refuse.")
        return _queue_page(request, refused=(pk, form), status=400)
    approve = data["decision"] == "approve"
    try:
        decide_self_directed(
            application=application,
            approve=approve,
            reason=data.get("reason", ""),
            actor=request.user,
            staff=has_staff_powers(request),
        )
    except ApplicationClosed as exc:
        messages.info(request, str(exc))
        return redirect("enrollments:staff_self_directed_queue")
    except JourneyError as exc:
        messages.error(request, str(exc))
        return _queue_page(request, refused=(pk, form), status=400)
    who = application.user.email
    if approve:
        messages.success(
            request,
            f"Approved: {who} is qualified in {application.program.short_name} by the self-directed route; "
            "the certificate was issued and they have been emailed.",
        )
    else:
        messages.success(request, f"Refused {who}'s application; they have been emailed the reason.")
    return redirect("enrollments:staff_self_directed_queue")
