"""Staff-only pages: people and their records, legacy imports, claims."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from stormcert.accounts.claims import ClaimError, decide_claim, find_record
from stormcert.accounts.merge import MergeError, check_merge, merge_accounts, preview
from stormcert.accounts.models import ClaimRequest, ClaimStatus, LegacyRecord, User
from stormcert.accounts.requests import AuthedRequest
from stormcert.accounts.services import AccountError, set_sign_in_allowed
from stormcert.audit.models import AuditEvent
from stormcert.backoffice import imports
from stormcert.backoffice.forms import (
    AccommodationForm,
    ClaimDecisionForm,
    ColumnMappingForm,
    ExtendWindowForm,
    GrantAttemptForm,
    ImportUploadForm,
    MergeForm,
    PeopleSearchForm,
    SelfDirectedForm,
    SignInForm,
)
from stormcert.backoffice.models import ImportRun, RunStatus
from stormcert.certificates.models import Certificate, NameChangeRequest
from stormcert.courses.models import Seat
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import (
    JourneyError,
    extend_window,
    grant_attempt,
    journey_for,
    record_self_directed,
)
from stormcert.exams.models import Accommodation, Attempt
from stormcert.exams.services import ExamError, grant_accommodation
from stormcert.lib import csvsafe
from stormcert.lib.numbers import canonical_number
from stormcert.lib.staff import staff_required
from stormcert.payments.models import Order
from stormcert.programs.lookup import program_from_query, qualification_programs
from stormcert.programs.models import Program, ProgramKind
from stormcert.training.services import training_record


def _staff(request: AuthedRequest) -> User:
    return request.user


# --- People -----------------------------------------------------------------------------------


@staff_required
def people(request: HttpRequest) -> HttpResponse:
    form = PeopleSearchForm(request.GET)
    q = form.data.get("q", "").strip()
    found = User.objects.filter(placeholder=False).order_by("last_name", "first_name", "email")
    if q:
        words = q.split()
        match = Q(email__icontains=q) | Q(certificates__number=canonical_number(q))
        name = Q()
        for word in words:
            name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        found = found.filter(match | name).distinct()
    # ?program=CODE: people with an enrollment or a certificate in that program.
    program = program_from_query(request.GET.get("program"))
    if program is not None:
        found = found.filter(Q(enrollments__program=program) | Q(certificates__program=program)).distinct()
    found = found.prefetch_related("enrollments__program", "certificates__program")
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    rows = [
        (
            person,
            sorted(
                {str(e.program) for e in person.enrollments.all()}
                | {str(c.program) for c in person.certificates.all()}
            ),
        )
        for person in page
    ]
    query = urlencode({k: v for k, v in {"q": q, "program": program.code if program else ""}.items() if v})
    return render(
        request,
        "backoffice/people.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "q": q,
            "query": query,
            "program": program,
            "programs": Program.objects.all(),
        },
    )


def _exam_choices(enrollments: list[Enrollment]) -> list[tuple[str, str]]:
    return [
        (f"{e.pk}:{s.code}", f"{e.program}: {s.title}")
        for e in enrollments
        for s in e.program.steps.all()
        if s.kind == "exam"
    ]


@staff_required
def person(request: AuthedRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(User.objects.select_related("profile", "merged_into"), pk=pk)
    enrollments = list(
        Enrollment.objects.filter(user=subject)
        .select_related("program", "policy_version")
        .prefetch_related("program__steps")
    )
    registered = [e for e in enrollments if e.is_registered()]
    action = request.POST.get("action") if request.method == "POST" else None
    data = request.POST if request.method == "POST" else None
    forms: dict[str, Any] = {
        "extend": ExtendWindowForm(
            data if action == "extend" else None, enrollments=registered, prefix="extend"
        ),
        "attempt": GrantAttemptForm(
            data if action == "attempt" else None, exams=_exam_choices(registered), prefix="attempt"
        ),
        "accommodation": AccommodationForm(data if action == "accommodation" else None, prefix="acc"),
        "self_directed": SelfDirectedForm(
            data if action == "self_directed" else None,
            programs=list(qualification_programs(public_only=False)),
            prefix="sd",
        ),
        "merge": MergeForm(data if action == "merge" else None, prefix="merge"),
        "sign_in": SignInForm(data if action == "sign_in" else None, prefix="signin"),
    }
    merge_preview: dict[str, Any] | None = None
    if action in forms:
        form = forms[action]
        if form.is_valid():
            try:
                done = _act(request, action, form, subject, enrollments)
                if done is None:
                    merge_preview = _merge_preview(form, subject)
                else:
                    messages.success(request, done)
                    return redirect("backoffice:person", pk=pk)
            except (JourneyError, ExamError, MergeError, AccountError) as exc:
                form.add_error(None, str(exc))
    status = 400 if action in forms and merge_preview is None else 200
    return render(
        request,
        "backoffice/person.html",
        {
            **_record(subject, enrollments),
            "forms": forms,
            "merge_preview": merge_preview,
            "open_action": action,
        },
        status=status,
    )


def _act(
    request: AuthedRequest, action: str, form: Any, subject: User, enrollments: list[Enrollment]
) -> str | None:
    """Carry out one staff action; the message to show, or None when the merge needs confirming."""
    staff = _staff(request)
    data = form.cleaned_data
    by_pk = {e.pk: e for e in enrollments}
    if action == "extend":
        e = extend_window(
            enrollment=by_pk[data["enrollment"]],
            last_day=data["last_day"],
            actor=staff,
            reason=data["reason"],
        )
        return f"{e.program} window extended: access runs through {data['last_day']:%B} {data['last_day'].day}, {data['last_day'].year}."
    if action == "attempt":
        enrollment_id, step_code = data["exam"].split(":", 1)
        grant_attempt(
            enrollment=by_pk[int(enrollment_id)], step_code=step_code, actor=staff, reason=data["reason"]
        )
        return "One attempt given back: the latest failed attempt no longer counts."
    if action == "accommodation":
        grant_accommodation(user=subject, factor=data["factor"], reason=data["reason"], actor=staff)
        return f"Accommodation granted: {data['factor']}× time on every exam started from now on."
    if action == "self_directed":
        program = data["program"]
        record_self_directed(
            user=subject,
            program=program,
            license_type=data["license_type"],
            license_number=data["license_number"],
            actor=staff,
            reason=data["reason"],
        )
        return (
            f"{subject} is recorded as qualified in {program.short_name} by the self-directed route; "
            "the certificate is issued."
        )
    if action == "sign_in":
        allowed = not subject.is_active
        set_sign_in_allowed(user=subject, allowed=allowed, actor=staff, reason=data["reason"])
        return "Sign-in restored." if allowed else "Sign-in stopped: every session of this account has ended."
    if action == "merge":
        other = User.objects.filter(email__iexact=data["other"]).first()
        if other is None:
            raise MergeError("No account uses that address.")
        check_merge(source=other, target=subject)
        if not data["confirm"]:
            return None
        summary = merge_accounts(source=other, target=subject, actor=staff, reason=data["reason"])
        return f"{other.email} is merged into this account: {summary.total} records moved; it can no longer sign in."
    raise ValueError(action)


def _merge_preview(form: MergeForm, subject: User) -> dict[str, Any]:
    other = User.objects.get(email__iexact=form.cleaned_data["other"])
    return {"other": other, "counts": preview(source=other)}


def _record(subject: User, enrollments: list[Enrollment]) -> dict[str, Any]:
    """Everything about one person, each list bounded and fetched in one query."""
    orders = list(Order.objects.filter(user=subject).prefetch_related("lines")[:50])
    certificates = list(Certificate.objects.filter(holder=subject).select_related("program", "renews"))
    attempts = list(Attempt.objects.filter(user=subject).select_related("exam")[:50])
    seats = list(Seat.objects.filter(user=subject).select_related("session", "session__trainer")[:50])
    name_changes = list(NameChangeRequest.objects.filter(person=subject)[:20])
    ids = {
        "accounts.user": [subject.pk],
        "enrollments.enrollment": [e.pk for e in enrollments],
        "payments.order": [o.pk for o in orders],
        "certificates.certificate": [c.pk for c in certificates],
        "exams.attempt": [a.pk for a in attempts],
        "courses.seat": [s.pk for s in seats],
        "certificates.namechangerequest": [r.pk for r in name_changes],
    }
    about = Q(actor=subject)
    for kind, pks in ids.items():
        if pks:
            about |= Q(object_type=kind, object_id__in=[str(p) for p in pks])
    return {
        "subject": subject,
        "journeys": [(e, journey_for(e)) for e in enrollments],
        "attempts": attempts,
        "training": training_record(subject),
        "orders": orders,
        "certificates": certificates,
        "name_changes": name_changes,
        "seats": seats,
        "accommodations": Accommodation.objects.filter(user=subject)[:10],
        "legacy": LegacyRecord.objects.filter(holder=subject).select_related("program"),
        "claims": ClaimRequest.objects.filter(requester=subject),
        "merged": User.objects.filter(merged_into=subject),
        "emails": OutboundEmail.objects.filter(Q(user=subject) | Q(to=subject.email))[:30],
        "events": AuditEvent.objects.filter(about).select_related("actor")[:60],
    }


# --- Legacy import -----------------------------------------------------------------------------


@staff_required
def imports_home(request: AuthedRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = imports.start_run(actor=_staff(request), filename=upload.name, data=upload.read())
                return redirect("backoffice:import_columns", pk=run.pk)
            except imports.ImportFileError as exc:
                form.add_error("file", str(exc))
        status = 400
    return render(
        request,
        "backoffice/imports.html",
        {
            "form": form,
            "runs": ImportRun.objects.select_related("created_by")[:20],
            "columns": imports.COLUMNS,
            # The example lines and the codes that may go in the program column come from data.
            "programs": Program.objects.all(),
            "example": Program.objects.filter(kind=ProgramKind.QUALIFICATION).first(),
        },
        status=status,
    )


@staff_required
def import_sample(request: HttpRequest) -> HttpResponse:
    """A small file in the expected shape, to start from."""
    response = HttpResponse(imports.SAMPLE.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="earlier-records-sample.csv"'
    return response


@staff_required
def import_columns(request: AuthedRequest, pk: int) -> HttpResponse:
    """Match the file's columns to the fields, seeing its header and first rows; the dry run
    starts once the choices give what an import needs."""
    run = get_object_or_404(ImportRun, pk=pk)
    header = run.header or imports.read_header(run.content)
    if run.status == RunStatus.MAPPING:
        suggestion = imports.suggest(header)
        initial, how = suggestion.mapping, suggestion.how
    elif run.status == RunStatus.APPLIED:
        initial, how = imports.run_mapping(run), "as this file was read when it was imported"
    else:
        # Checked (or being checked) already: the columns it is read with.
        initial, how = imports.run_mapping(run), "as chosen for this file; changing them checks it again"
    form = ColumnMappingForm(
        request.POST if request.method == "POST" else None,
        header=header,
        initial={name: str(index) for name, index in initial.items()},
    )
    status = 200
    if run.status == RunStatus.APPLIED:
        # Imported: the page shows what was read from where; nothing can change it.
        for field in form.fields.values():
            field.disabled = True
        if request.method == "POST":
            form.add_error(None, "This file is already imported; its columns cannot change.")
            status = 400
    elif request.method == "POST":
        if form.is_valid():
            try:
                imports.map_columns(run=run, mapping=form.mapping, actor=_staff(request))
                return redirect("backoffice:import_run", pk=pk)
            except imports.MappingError as exc:  # pragma: no cover: the form checks the same rule
                for name, problem in exc.problems.items():
                    form.add_error(name or None, problem)
            except imports.ImportFileError as exc:
                form.add_error(None, str(exc))
        status = 400
    samples = imports.sample_rows(run.content)
    return render(
        request,
        "backoffice/import_columns.html",
        {
            "run": run,
            "form": form,
            "how": how,
            "columns": [(imports.letter(i), name) for i, name in enumerate(header)],
            "samples": [
                (line, [*cells, *[""] * (len(header) - len(cells))][: len(header)]) for line, cells in samples
            ],
        },
        status=status,
    )


@staff_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    if run.status == RunStatus.MAPPING:
        return redirect("backoffice:import_columns", pk=pk)
    columns = imports.column_names(run)
    return render(
        request,
        "backoffice/import_run.html",
        {
            "run": run,
            "shown": imports.SHOWN,
            "columns": [(imports.LABELS[name], columns[name]) for name in imports.FIELDS if name in columns],
        },
    )


@staff_required
@require_POST
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the next chunk (the page's script calls this until done) or, without the script,
    everything at once."""
    run = get_object_or_404(ImportRun, pk=pk)
    if request.headers.get("Accept", "").startswith("application/json"):
        run = imports.check_next(run=run)
        return JsonResponse(
            {
                "checked": run.checked_rows,
                "total": run.total_rows,
                "percent": run.percent,
                "done": run.status != RunStatus.CHECKING,
                "rejected": run.count("reject"),
            }
        )
    imports.check_all(run=run)
    return redirect("backoffice:import_run", pk=pk)


@staff_required
@require_POST
def import_apply(request: AuthedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        run = imports.apply_run(run=run, actor=_staff(request))
        messages.success(
            request,
            f"Imported in {run.seconds:.1f} s: {run.count('create')} created, {run.count('update')} updated, "
            f"{run.count('unchanged')} unchanged.",
        )
    except imports.ImportRejected as exc:
        messages.error(request, str(exc))
    except imports.ImportFileError as exc:
        messages.error(request, str(exc))
    return redirect("backoffice:import_run", pk=pk)


@staff_required
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Every line's outcome as CSV, for fixing the file in a spreadsheet."""
    run = get_object_or_404(ImportRun, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-report.csv"'
    writer = csvsafe.writer(response)
    writer.writerow(["line", "outcome", "certificate_or_email", "field", "value", "reason_or_changes"])
    rows: list[tuple[int, list[Any]]] = []
    for outcome in ("create", "update", "unchanged"):
        for e in run.report.get(outcome, []):
            rows.append((e["line"], [e["line"], outcome, e["key"], "", "", " ".join(e.get("changes", []))]))
    for e in run.report.get("reject", []):
        rows.append((e["line"], [e["line"], "reject", "", e["field"], e["value"], e["reason"]]))
    for _, row in sorted(rows, key=lambda r: r[0]):
        writer.writerow(row)
    return response


# --- Claims ------------------------------------------------------------------------------------


@staff_required
def claims(request: HttpRequest) -> HttpResponse:
    # ?program=CODE: the claims whose matching record is of that program (a claim that matched
    # no record has no program, and is listed only without the filter).
    program = program_from_query(request.GET.get("program"))
    of_program = Q(record__program=program) if program is not None else Q()
    pending = ClaimRequest.objects.filter(of_program, status=ClaimStatus.PENDING).select_related(
        "requester", "record", "record__program"
    )
    decided = (
        ClaimRequest.objects.filter(of_program)
        .exclude(status=ClaimStatus.PENDING)
        .select_related("requester", "decided_by", "record__program")
        .order_by("-decided_at")[:30]
    )
    return render(
        request,
        "backoffice/claims.html",
        {
            "pending": [(c, _claim_form(c)) for c in pending],
            "decided": decided,
            "program": program,
            "programs": Program.objects.all(),
        },
    )


def _claim_form(claim: ClaimRequest, data: Any = None) -> ClaimDecisionForm:
    initial = {"record": claim.record.certificate_number if claim.record else claim.certificate_number}
    return ClaimDecisionForm(data, initial=initial, prefix=f"c{claim.pk}")


@staff_required
@require_POST
def claim_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    claim = get_object_or_404(ClaimRequest.objects.select_related("requester", "record"), pk=pk)
    form = _claim_form(claim, request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        record = claim.record
        number = form.cleaned_data["record"].strip()
        if approve and number:
            record = find_record(number)
            if record is None:
                form.add_error("record", f"No imported record has the number {number}.")
        if form.is_valid():
            try:
                decide_claim(
                    claim=claim,
                    approve=approve,
                    reason=form.cleaned_data["reason"],
                    actor=_staff(request),
                    record=record,
                )
                messages.success(
                    request, f"Request by {claim.requester.email} {'approved' if approve else 'declined'}."
                )
                return redirect("backoffice:claims")
            except ClaimError as exc:
                form.add_error(None, str(exc))
    pending = [
        (c, form if c.pk == claim.pk else _claim_form(c))
        for c in ClaimRequest.objects.filter(status=ClaimStatus.PENDING).select_related(
            "requester", "record", "record__program"
        )
    ]
    return render(request, "backoffice/claims.html", {"pending": pending, "decided": []}, status=400)
