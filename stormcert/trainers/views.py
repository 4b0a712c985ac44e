"""Thin views over trainers.applications and trainers.yearly."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from stormcert.accounts.models import Role, User
from stormcert.accounts.requests import AuthedRequest
from stormcert.courses.services import sessions_needing_a_trainer
from stormcert.lib.http import client_ip
from stormcert.lib.markdown import render_markdown
from stormcert.lib.staff import has_staff_powers, staff_required
from stormcert.lib.uploads import pdf_response
from stormcert.programs.lookup import program_from_query, program_or_404, trainer_programs
from stormcert.programs.models import Program, ProgramKind
from stormcert.programs.rules import fees_in_force, rules_in_force
from stormcert.trainers import applications as apps
from stormcert.trainers import assigning, content, reminders, yearly
from stormcert.trainers.forms import (
    AgreementForm,
    ApplicationForm,
    AssignForm,
    AttendanceForm,
    BulkAssignForm,
    ConflictForm,
    CycleForm,
    DecisionForm,
    DocumentForm,
    EndTermForm,
    HowForm,
    ReasonForm,
    ScoreForm,
)
from stormcert.trainers.models import (
    Application,
    ApplicationCycle,
    ApplicationDocument,
    ApplicationStatus,
    ContentCompletion,
    ContentKind,
    ReviewAssignment,
    TermRenewal,
    TrainerContent,
    TrainerTerm,
)
from stormcert.trainers.services import TrainerError, active_term, end_term
from stormcert.trainers.standing import standing_on

# --- Applicants and ToRs ------------------------------------------------------------------------


def _program(code: str) -> Program:
    return program_or_404(code, kind=ProgramKind.TRAINER)


def programs(request: HttpRequest) -> HttpResponse:
    """The person's trainer programs: their terms and applications in each, and the open
    application cycles of every public trainer program. With exactly one public trainer
    program, its page."""
    public = list(trainer_programs())
    if len(public) == 1:
        return redirect("trainers:home", public[0].code)
    now = timezone.now()
    user = request.user
    rows = []
    for program in trainer_programs(public_only=False):
        mine = isinstance(user, User) and (
            TrainerTerm.objects.filter(user=user, program=program).exists()
            or Application.objects.filter(applicant=user, cycle__program=program).exists()
        )
        if not program.is_public and not mine:
            continue
        cycle = apps.current_cycle(program, now)
        rows.append(
            {
                "program": program,
                "cycle": cycle,
                "cycle_state": cycle.state(now) if cycle else "",
                "term": active_term(user, now, program=program) if isinstance(user, User) else None,
                "applications": list(
                    Application.objects.filter(applicant=user, cycle__program=program).select_related("cycle")
                )
                if isinstance(user, User)
                else [],
            }
        )
    return render(request, "trainers/programs.html", {"rows": rows, "now": now})


def home(request: HttpRequest, code: str) -> HttpResponse:
    """A trainer program's page: the RFQ, your application and its steps, your yearly renewal."""
    program = _program(code)
    now = timezone.now()
    cycle = apps.current_cycle(program, now)
    user = request.user
    context: dict[str, object] = {
        "program": program,
        "teaches": list(program.teaches.order_by("position", "code")),
        "cycle": cycle,
        "cycle_state": cycle.state(now) if cycle else "",
        "criteria": list(cycle.criteria.all()) if cycle else [],
        "now": now,
        "rfq": render_markdown(cycle.rfq_text) if cycle else "",
        "fees": rules_in_force(program, timezone.localtime(now, program.zone).date()).fees,
        "renewal_steps": yearly.renewal_steps(program, timezone.localtime(now, program.zone).date()),
    }
    # A public page: the isinstance (not a cast) is what tells a signed-in person from a visitor.
    if isinstance(user, User):
        me = user
        application = apps.my_application(me, program, now)
        problem = None
        if cycle is not None and (application is None or application.cycle_id != cycle.pk):
            try:
                apps.check_can_apply(user=me, cycle=cycle, now=now)
            except TrainerError as exc:
                problem = str(exc)
        selected = apps.selected_application(me, program)
        context.update(
            {
                "application": application,
                "problem": problem,
                # Every cycle's application, with its result: a new cycle never hides one.
                "my_applications": list(
                    Application.objects.filter(applicant=me, cycle__program=program)
                    .select_related("cycle")
                    .order_by("-cycle__opens_at")
                ),
                "selected": selected,
                "approval_missing": apps.approval_missing(selected, now)
                if selected and not selected.approved_at
                else [],
                "agreement": apps.agreement_in_force(program, now),
                "signed": apps.has_signed_current(me, program, now),
                "term": active_term(me, now, program=program),
                "renewal": yearly.term_renewal_status(me, program, now),
                "how_form": HowForm(),
                "content": content.content_by_kind(program, now),
                "completed": set(
                    ContentCompletion.objects.filter(user=me, content__program=program).values_list(
                        "content_id", flat=True
                    )
                ),
            }
        )
    return render(request, "trainers/home.html", context)


def rfq_document(request: HttpRequest, code: str, pk: int) -> FileResponse:
    cycle = get_object_or_404(ApplicationCycle, pk=pk, program=_program(code))
    if not cycle.rfq_document:
        raise Http404("This cycle has no RFQ document.")
    return pdf_response(cycle.rfq_document, f"rfq-{cycle.pk}.pdf")


@login_required
@require_POST
def apply(request: AuthedRequest, code: str) -> HttpResponse:
    program = _program(code)
    cycle = apps.current_cycle(program, timezone.now())
    if cycle is None:
        raise Http404("No application cycle.")
    try:
        apps.start_application(user=request.user, cycle=cycle)
    except TrainerError as exc:
        messages.error(request, str(exc))
        return redirect("trainers:home", code)
    return redirect("trainers:application", code)


def _my_application(request: AuthedRequest, code: str) -> Application:
    application = apps.my_application(request.user, _program(code), timezone.now())
    if application is None:
        raise Http404("You have no application waiting in this program.")
    return application


@login_required
def application(request: AuthedRequest, code: str) -> HttpResponse:
    current = _my_application(request, code)
    now = timezone.now()
    initial = {k: getattr(current, k) for k in apps.ANSWER_FIELDS}
    submitting = request.method == "POST" and "submit" in request.POST
    form = ApplicationForm(request.POST or None, initial=initial, draft=not submitting)
    if request.method == "POST" and form.is_valid():
        try:
            current = apps.save_draft(application=current, answers=form.cleaned_data, now=now)
            if submitting:
                apps.submit_application(application=current, now=now)
                messages.success(
                    request, "Your Statement of Qualifications is submitted. We email you the result."
                )
                return redirect("trainers:home", code)
            messages.success(request, "Draft saved.")
            return redirect("trainers:application", code)
        except TrainerError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "trainers/application.html",
        {
            "program": current.cycle.program,
            "application": current,
            "form": form,
            "document_form": DocumentForm(),
            "documents": current.documents.all(),
            "open_order": apps.open_fee_order(current),
            "fee": rules_in_force(
                current.cycle.program, timezone.localtime(now, current.cycle.program.zone).date()
            ).fees.get(current.fee_code),
            "missing": apps.missing_for_submission(current) if current.is_draft else [],
            "editable": current.is_draft and now < current.cycle.closes_at,
        },
    )


@login_required
@require_POST
def pay(request: AuthedRequest, code: str) -> HttpResponse:
    current = _my_application(request, code)
    try:
        order = apps.start_fee_payment(application=current)
    except TrainerError as exc:
        messages.error(request, str(exc))
        return redirect("trainers:application", code)
    return redirect("payments:order", number=order.number)


@login_required
@require_POST
def upload(request: AuthedRequest, code: str) -> HttpResponse:
    current = _my_application(request, code)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("trainers:application", code)
    try:
        apps.add_document(
            application=current, label=form.cleaned_data["label"], upload=form.cleaned_data["file"]
        )
        messages.success(request, "Document added.")
    except TrainerError as exc:
        messages.error(request, str(exc))
    return redirect("trainers:application", code)


@login_required
@require_POST
def remove_document(request: AuthedRequest, code: str, pk: int) -> HttpResponse:
    current = _my_application(request, code)
    document = get_object_or_404(ApplicationDocument, pk=pk, application=current)
    try:
        apps.remove_document(document=document)
        messages.success(request, "Document removed.")
    except TrainerError as exc:
        messages.error(request, str(exc))
    return redirect("trainers:application", code)


@login_required
def document(request: HttpRequest, code: str, pk: int) -> FileResponse:
    found = get_object_or_404(
        ApplicationDocument.objects.select_related("application"),
        pk=pk,
        application__cycle__program=_program(code),
    )
    if not apps.can_read_documents(request.user, found.application, staff=has_staff_powers(request)):
        # Not found rather than forbidden: nobody learns which documents exist.
        raise Http404("No such document.")
    return pdf_response(found.file, found.original_name)


def _published(code: str, kind: str) -> bool:
    return content.content_in_force(_program(code), kind, timezone.now()) is not None


def _content(request: AuthedRequest, code: str, pk: int) -> TrainerContent:
    item = get_object_or_404(TrainerContent.objects.select_related("program"), pk=pk, program=_program(code))
    if not content.may_open(request.user, item) and not has_staff_powers(request):
        raise PermissionDenied(
            f"This is for selected candidates and Trainers of Record of {item.program.short_name}."
        )
    return item


@login_required
def content_page(request: AuthedRequest, code: str, pk: int) -> HttpResponse:
    """A content item: opening a page or document completes it; a meeting is confirmed after
    it has taken place."""
    item = _content(request, code, pk)
    now = timezone.now()
    if not item.is_meeting and content.may_open(request.user, item):
        content.open_content(user=request.user, content=item, now=now)
    return render(
        request,
        "trainers/content.html",
        {
            "program": item.program,
            "item": item,
            "body": render_markdown(item.body),
            "completion": content.completion_of(request.user, item),
            "taken_place": content.meeting_has_taken_place(item, now),
        },
    )


@login_required
def content_document(request: AuthedRequest, code: str, pk: int) -> FileResponse:
    item = _content(request, code, pk)
    if not item.document:
        raise Http404("This item has no document.")
    if not item.is_meeting and content.may_open(request.user, item):
        content.open_content(user=request.user, content=item)
    return pdf_response(item.document, f"{slugify(item.title) or 'document'}.pdf")


@login_required
@require_POST
def content_attended(request: AuthedRequest, code: str, pk: int) -> HttpResponse:
    item = _content(request, code, pk)
    try:
        content.confirm_attendance(user=request.user, content=item)
        messages.success(request, f"Thank you: your attendance at {item.title} is recorded.")
    except TrainerError as exc:
        messages.error(request, str(exc))
        return redirect("trainers:content", code, pk)
    return redirect("trainers:home", code)


def _selected(request: AuthedRequest, code: str) -> Application:
    program = _program(code)
    selected = apps.selected_application(request.user, program)
    if selected is None:
        raise PermissionDenied(f"This step is for selected candidates of {program.short_name}.")
    return selected


@login_required
@require_POST
def orientation(request: AuthedRequest, code: str) -> HttpResponse:
    if _published(code, ContentKind.ORIENTATION):
        messages.error(request, "Complete the orientation on its page: the program has published it.")
        return redirect("trainers:home", code)
    form = HowForm(request.POST)
    try:
        apps.record_orientation(application=_selected(request, code), how=form.data.get("how", ""))
        messages.success(request, "Orientation recorded.")
    except TrainerError as exc:
        messages.error(request, str(exc))
    return redirect("trainers:home", code)


@login_required
@require_POST
def course_info(request: AuthedRequest, code: str) -> HttpResponse:
    if _published(code, ContentKind.COURSE_INFORMATION):
        messages.error(request, "Complete the course information on its page: the program has published it.")
        return redirect("trainers:home", code)
    apps.acknowledge_course_info(application=_selected(request, code))
    messages.success(request, "Thank you: the course information is recorded as read.")
    return redirect("trainers:home", code)


@login_required
def agreement(request: AuthedRequest, code: str) -> HttpResponse:
    program = _program(code)
    current = apps.agreement_in_force(program, timezone.now())
    if current is None:
        raise Http404("No Compliance Agreement is published.")
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            apps.sign_agreement(
                user=request.user,
                program=program,
                typed_name=form.cleaned_data["typed_name"],
                ip_address=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
            messages.success(request, f"Signed: {current}.")
            return redirect("trainers:home", code)
        except TrainerError as exc:
            form.add_error("typed_name", str(exc))
    signature = current.signatures.filter(user=request.user).first()
    return render(
        request,
        "trainers/agreement.html",
        {
            "program": program,
            "agreement": current,
            "body": render_markdown(current.body),
            "form": form,
            "signature": signature,
        },
    )


@login_required
@require_POST
def renewal_meeting(request: AuthedRequest, code: str) -> HttpResponse:
    if _published(code, ContentKind.RENEWAL_MEETING):
        messages.error(request, "Complete the renewal meeting on its page: the program has published it.")
        return redirect("trainers:home", code)
    try:
        yearly.record_meeting(user=request.user, program=_program(code), how=request.POST.get("how", ""))
        messages.success(request, "Renewal meeting recorded.")
    except TrainerError as exc:
        messages.error(request, str(exc))
    return redirect("trainers:home", code)


@login_required
@require_POST
def renewal_pay(request: AuthedRequest, code: str) -> HttpResponse:
    try:
        order = yearly.start_term_fee(user=request.user, program=_program(code))
    except TrainerError as exc:
        messages.error(request, str(exc))
        return redirect("trainers:home", code)
    return redirect("payments:order", number=order.number)


def public_list(request: HttpRequest) -> HttpResponse:
    """Every public trainer program's Trainers of Record in standing, under their program
    (`?program=CODE`: one program's)."""
    now = timezone.now()
    chosen = program_from_query(request.GET.get("program"), kind=ProgramKind.TRAINER)
    public = list(trainer_programs())
    shown = [chosen] if chosen is not None and chosen.is_public else public
    groups = [
        {
            "program": program,
            "teaches": list(program.teaches.order_by("position", "code")),
            "terms": apps.public_trainers(now, program=program),
        }
        for program in shown
    ]
    return render(
        request,
        "trainers/public_list.html",
        {"groups": groups, "programs": public, "program": chosen if chosen in shown else None},
    )


# --- Reviewers ----------------------------------------------------------------------------------


def _reviewer(request: AuthedRequest) -> User:
    user = request.user
    if not user.groups.filter(name=Role.REVIEWER).exists():
        raise PermissionDenied("This page is for reviewers of Trainer of Record applications.")
    return user


@login_required
def reviews(request: AuthedRequest) -> HttpResponse:
    reviewer = _reviewer(request)
    assignments = ReviewAssignment.objects.filter(reviewer=reviewer).select_related(
        "application__applicant", "application__cycle"
    )
    return render(request, "trainers/reviews.html", {"assignments": assignments})


@login_required
def review(request: AuthedRequest, pk: int) -> HttpResponse:
    _reviewer(request)
    try:
        assignment = apps.get_assignment_for_reviewer(user=request.user, assignment_id=pk)
    except ReviewAssignment.DoesNotExist:
        raise Http404("No such review.") from None
    criteria = list(assignment.application.cycle.criteria.all())
    conflict_form = ConflictForm(request.POST if "declare" in request.POST else None)
    score_form = ScoreForm(request.POST if "score" in request.POST else None, criteria=criteria)
    if request.method == "POST":
        try:
            if "declare" in request.POST and conflict_form.is_valid():
                apps.declare_conflict(
                    assignment=assignment,
                    conflict=conflict_form.cleaned_data["conflict"] == "yes",
                    note=conflict_form.cleaned_data["note"],
                )
                return redirect("trainers:review", pk=pk)
            if "score" in request.POST and score_form.is_valid():
                apps.submit_scores(
                    assignment=assignment,
                    scores=score_form.scores(),
                    comment=score_form.cleaned_data["comment"],
                )
                messages.success(request, "Scores submitted. Thank you.")
                return redirect("trainers:reviews")
        except TrainerError as exc:
            (score_form if "score" in request.POST else conflict_form).add_error(None, str(exc))
    return render(
        request,
        "trainers/review.html",
        {
            "assignment": assignment,
            "application": assignment.application,
            "conflict_form": conflict_form,
            "score_form": score_form,
            "show": assignment.conflict is False,
        },
    )


# --- Staff --------------------------------------------------------------------------------------


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """Trainer programs at a glance; `?program=CODE` narrows every list to one program."""
    now = timezone.now()
    program = program_from_query(request.GET.get("program"), kind=ProgramKind.TRAINER)
    every = list(trainer_programs(public_only=False))
    cycles = ApplicationCycle.objects.select_related("program")
    to_approve = apps.candidates_to_approve().select_related("applicant", "cycle__program")
    flagged = yearly.sessions_without_a_term(now)
    if program is not None:
        cycles = cycles.filter(program=program)
        to_approve = to_approve.filter(cycle__program=program)
        taught = set(program.teaches.values_list("pk", flat=True))
        flagged = [s for s in flagged if s.program_id in taught]
    terms = apps.public_trainers(now, program=program, in_standing_only=False)
    return render(
        request,
        "trainers/staff_home.html",
        {
            "program": program,
            "programs": every,
            "show_program": len(every) > 1,
            "cycles": [(c, c.state(now)) for c in cycles],
            "now": now,
            "to_approve": to_approve,
            "renewals": yearly.renewals_to_confirm(program),
            "flagged": flagged,
            "terms": [(t, standing_on(t.user, t.program, now=now)) for t in terms],
            "queue": len(sessions_needing_a_trainer(now)),
            "reason_form": ReasonForm(),
            "content_items": TrainerContent.objects.filter(
                **({"program": program} if program else {})
            ).select_related("program"),
        },
    )


@staff_required
def staff_new_cycle(request: AuthedRequest) -> HttpResponse:
    """A new application cycle of the trainer program `?program=CODE` (the only one when there
    is one; else staff choose)."""
    every = list(trainer_programs(public_only=False))
    chosen = program_from_query(
        request.GET.get("program") or request.POST.get("program"), kind=ProgramKind.TRAINER
    )
    program = chosen or (every[0] if len(every) == 1 else None)
    if program is None:
        if not every:
            raise Http404("No trainer program is set up.")
        return render(request, "trainers/staff_choose_program.html", {"programs": every})
    fees = rules_in_force(program).fees
    form = CycleForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "soq_fee": fees["soq"].amount if "soq" in fees else None,
            "resubmittal_fee": fees["soq_resubmittal"].amount if "soq_resubmittal" in fees else None,
            "title": f"{program.short_name} Request for Qualifications",
            "criteria": "Subject experience | 3 | 5\nTraining and teaching experience | 3 | 5\n"
            "Knowledge of the program's requirements | 2 | 5\nAvailability and reach | 1 | 5",
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cycle = apps.open_cycle(
                program=program,
                actor=request.user,
                title=data["title"],
                rfq_text=data["rfq_text"],
                rfq_document=data["rfq_document"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                notice_on=data["notice_on"],
                criteria=data["criteria"],
                soq_fee=data["soq_fee"],
                resubmittal_fee=data["resubmittal_fee"],
            )
        except TrainerError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The application cycle is set up.")
            return redirect("trainers:staff_cycle", pk=cycle.pk)
    return render(request, "trainers/staff_cycle_form.html", {"form": form, "program": program})


@staff_required
def staff_cycle(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(ApplicationCycle, pk=pk)
    criteria = list(cycle.criteria.all())
    rows = []
    submitted = (
        cycle.applications.exclude(status=ApplicationStatus.DRAFT)
        .select_related("applicant")
        .prefetch_related("reviews__reviewer", "reviews__scores__criterion")
    )
    for application in submitted:
        assignments = list(application.reviews.all())
        totals = [a.weighted_total() for a in assignments]
        scored = [t for t in totals if t is not None]
        rows.append(
            {
                "application": application,
                "reviews": list(zip(assignments, totals, strict=True)),
                "average": round(sum(scored) / len(scored), 1) if scored else None,
            }
        )
    rows.sort(key=lambda r: -(r["average"] or -1))  # type: ignore[operator]
    drafts = cycle.applications.filter(status=ApplicationStatus.DRAFT).count()
    return render(
        request,
        "trainers/staff_cycle.html",
        {"cycle": cycle, "criteria": criteria, "rows": rows, "drafts": drafts, "now": timezone.now()},
    )


@staff_required
def staff_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    """Assign reviewers to every submitted statement of a cycle: staff preview the plan, then
    confirm it with a reason (audited)."""
    cycle = get_object_or_404(ApplicationCycle.objects.select_related("program"), pk=pk)
    form = BulkAssignForm(request.POST or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        confirming = "confirm" in request.POST and data["seed"] is not None
        if confirming and data["previewed"] != data["method"]:
            # What is confirmed must be what was previewed: a changed method is previewed again.
            confirming = False
            messages.error(request, "You changed how to assign after the preview: here is the new preview.")
        # A fresh draw for each preview; the confirmation reuses the previewed one.
        seed = data["seed"] if confirming else secrets.randbelow(2**31)
        try:
            if confirming:
                made = assigning.assign_in_bulk(
                    cycle=cycle, method=data["method"], seed=seed, actor=request.user, reason=data["reason"]
                )
                messages.success(
                    request,
                    f"{len(made.pairs)} assignment{'s' if len(made.pairs) != 1 else ''} made "
                    f"to {len(made.by_application())} statement{'s' if len(made.by_application()) != 1 else ''}."
                    + (f" {len(made.short)} statement(s) remain short of reviewers." if made.short else ""),
                )
                return redirect("trainers:staff_cycle", pk=cycle.pk)
            plan = assigning.plan_assignments(cycle=cycle, method=data["method"], seed=seed)
            form = BulkAssignForm(initial={**data, "seed": seed, "previewed": data["method"]})
        except TrainerError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "trainers/staff_assign.html",
        {
            "cycle": cycle,
            "form": form,
            "plan": plan,
            "minimum": assigning.minimum_reviewers(cycle, timezone.now()),
            "reviewer_count": len(apps.reviewers()),
        },
    )


def _fee_name(application: Application) -> str:
    """The SOQ fee by its name and amount in the cycle's rules ("SOQ submittal fee, $300.00"),
    not its code."""
    program = application.cycle.program
    day = timezone.localtime(application.created_at, program.zone).date()
    fee = fees_in_force(program, day).get(application.fee_code)
    # A fee since removed from the program's rules: still say which it was.
    return f"{fee.name}, ${fee.amount}" if fee else application.fee_code


@staff_required
def staff_application(request: AuthedRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(Application.objects.select_related("cycle__program", "applicant"), pk=pk)
    assign_form = AssignForm(request.POST if "assign" in request.POST else None, reviewers=apps.reviewers())
    decision_form = DecisionForm(request.POST if "decide" in request.POST else None)
    approve_form = ReasonForm(request.POST if "approve" in request.POST else None)
    if request.method == "POST":
        try:
            if "assign" in request.POST and assign_form.is_valid():
                reviewer = get_object_or_404(User, pk=int(assign_form.cleaned_data["reviewer"]))
                apps.assign_reviewer(application=application, reviewer=reviewer, actor=request.user)
                messages.success(request, f"{reviewer} will review this statement.")
                return redirect("trainers:staff_application", pk=pk)
            if "decide" in request.POST and decision_form.is_valid():
                apps.decide(
                    application=application,
                    selected=decision_form.cleaned_data["decision"] == "selected",
                    actor=request.user,
                    reason=decision_form.cleaned_data["reason"],
                )
                messages.success(
                    request,
                    f"Decision saved. The applicant is told on {application.cycle.notice_on:%B %-d, %Y}.",
                )
                return redirect("trainers:staff_cycle", pk=application.cycle_id)
            if "approve" in request.POST and approve_form.is_valid():
                apps.approve_candidate(
                    application=application, actor=request.user, reason=approve_form.cleaned_data["reason"]
                )
                messages.success(request, "Approved: the ToR certificate is issued and the term has begun.")
                return redirect("trainers:staff_home")
        except TrainerError as exc:
            messages.error(request, str(exc))
    assignments = list(application.reviews.select_related("reviewer").prefetch_related("scores__criterion"))
    criteria = list(application.cycle.criteria.all())
    grid = [
        {
            "criterion": c,
            "scores": [
                next((s.score for s in a.scores.all() if s.criterion_id == c.pk), None) for a in assignments
            ],
        }
        for c in criteria
    ]
    return render(
        request,
        "trainers/staff_application.html",
        {
            "decision_blocker": apps.decision_blocker(application, timezone.now()),
            "fee_name": _fee_name(application),
            "application": application,
            "assignments": assignments,
            "totals": [a.weighted_total() for a in assignments],
            "grid": grid,
            "assign_form": assign_form,
            "decision_form": decision_form,
            "approve_form": approve_form,
            "approval_missing": apps.approval_missing(application, timezone.now())
            if application.status == ApplicationStatus.SELECTED
            else [],
        },
    )


@staff_required
@require_POST
def staff_confirm_renewal(request: AuthedRequest, pk: int) -> HttpResponse:
    renewal = get_object_or_404(TermRenewal.objects.select_related("user", "program"), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: confirmations are audited.")
        return redirect("trainers:staff_home")
    try:
        yearly.confirm_renewal(renewal=renewal, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            f"Confirmed: {renewal.user} is a Trainer of Record of {renewal.program.short_name} "
            f"for the term from {renewal.term_start:%B %-d, %Y}.",
        )
    except TrainerError as exc:
        messages.error(request, str(exc))
    return redirect("trainers:staff_home")


@staff_required
def staff_content(request: AuthedRequest, pk: int) -> HttpResponse:
    """Who completed a content item, and staff marking someone's attendance (with a reason)."""
    item = get_object_or_404(TrainerContent.objects.select_related("program"), pk=pk)
    form = AttendanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = User.objects.filter(email__iexact=form.cleaned_data["email"].strip()).first()
        if person is None:
            form.add_error("email", "No account has this email address.")
        else:
            try:
                content.mark_attendance(
                    user=person, content=item, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except TrainerError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{person} is recorded as having completed {item.title}.")
                return redirect("trainers:staff_content", pk=pk)
    return render(
        request,
        "trainers/staff_content.html",
        {
            "item": item,
            "form": form,
            "completions": item.completions.select_related("user", "marked_by"),
        },
    )


@staff_required
@require_POST
def staff_send_fee_notice(request: AuthedRequest, pk: int) -> HttpResponse:
    """Send one ToR the yearly fee and renewal notice now, instead of waiting for its day."""
    term = get_object_or_404(TrainerTerm.objects.select_related("user", "program"), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: notices sent by staff are audited.")
        return redirect("trainers:staff_home")
    try:
        reminders.send_fee_notice_now(
            user=term.user, program=term.program, actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"The yearly fee notice is on its way to {term.user} ({term.user.email}).")
    except TrainerError as exc:
        messages.error(request, str(exc))
    return redirect("trainers:staff_home")


@staff_required
def staff_end_term(request: AuthedRequest, pk: int) -> HttpResponse:
    """End a ToR's term early, with a reason: the ToR certificate (and any later term's) ends
    for verification, and their upcoming sessions go to the staff queue by derivation."""
    term = get_object_or_404(TrainerTerm.objects.select_related("user", "program", "certificate"), pk=pk)
    form = EndTermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ended = end_term(
                term=term,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ended_on=form.cleaned_data["ended_on"],
            )
        except TrainerError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"{term.user}'s term ended ({len(ended)} term{'s' if len(ended) != 1 else ''}). "
                "Their upcoming sessions are in the queue of sessions without a trainer in standing.",
            )
            return redirect("courses:staff_queue")
    later = TrainerTerm.objects.filter(user=term.user, program=term.program, starts_on__gt=term.starts_on)
    return render(
        request,
        "trainers/staff_end_term.html",
        {
            "term": term,
            "form": form,
            "later": later.select_related("certificate"),
            "standing": standing_on(term.user, term.program),
        },
    )
