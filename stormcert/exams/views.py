from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.enrollments.models import Enrollment
from stormcert.exams.accommodations import (
    RequestAlreadyClosed,
    decide_accommodation_request,
    request_accommodation,
    withdraw_accommodation_request,
)
from stormcert.exams.banks.services import (
    AlreadyDecided,
    BankImportError,
    confirm_import,
    discard_import,
    export_questions,
    plan,
    preview_import,
    reading,
)
from stormcert.exams.forms import (
    AccommodationRequestForm,
    BankUploadForm,
    DecideRequestForm,
    EndAccommodationForm,
    GrantAccommodationForm,
)
from stormcert.exams.importers import FORMATS
from stormcert.exams.models import (
    Accommodation,
    AccommodationRequest,
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    BankImport,
    Exam,
    Navigation,
    QuestionBank,
    RequestStatus,
)
from stormcert.exams.paper_html import PaperItem, question_fieldsets, question_grid
from stormcert.exams.services import (
    AttemptClosed,
    AttemptNotFound,
    ExamError,
    exam_status,
    exam_values,
    grant_accommodation,
    revoke_accommodation,
    save_answer,
    start_attempt,
    submit_attempt,
    too_late_message,
    topic_breakdown,
)
from stormcert.exams.stats import exam_stats
from stormcert.exams.text import render_question_text
from stormcert.lib.http import BadJSON, bounded_int, id_param, json_body
from stormcert.lib.staff import has_staff_powers, staff_required
from stormcert.lib.uploads import pdf_response
from stormcert.programs.models import ProgramKind

SMALL_MAX = 32767  # PositiveSmallIntegerField's upper bound on every database Django supports
BIG_MAX = 2**63 - 1  # PositiveBigIntegerField's
MAX_UPLOAD = 5 * 1024 * 1024  # a question file; larger is refused before it is read
# A bank export of a few hundred questions is previewed whole; a 5 MB file can hold 50,000, which
# no one reads on one page (and which takes minutes to render): the first ones show, the counts
# and every rejection always do.
PREVIEW_SHOWN = 300


def get_attempt_for_user(user: User, attempt_id: int) -> Attempt:
    """The candidate's own attempt, or 404: nobody reads or saves into someone else's."""
    attempt = Attempt.objects.select_related("exam", "enrollment").filter(pk=attempt_id, user=user).first()
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def _exam_or_404(code: str, step_code: str) -> Exam:
    """The exam a URL names: the program's code (a qualification program) and the exam step's
    code. One query, the program joined: the start's statement count depends on it."""
    return get_object_or_404(
        Exam.objects.select_related("program"),
        program__code=code,
        program__kind=ProgramKind.QUALIFICATION,
        step_code=step_code,
    )


@login_required
def exam_intro(request: AuthedRequest, code: str, step_code: str) -> HttpResponse:
    exam = _exam_or_404(code, step_code)
    back = redirect("enrollments:qualification", exam.program.code)
    if not Enrollment.objects.filter(user=request.user, program=exam.program).exists():
        return back
    try:
        status = exam_status(user=request.user, exam=exam)
    except ExamError as exc:
        messages.error(request, str(exc))
        return back
    return render(request, "exams/intro.html", {"exam": exam, "status": status})


@login_required
@require_POST
def start(request: AuthedRequest, code: str, step_code: str) -> HttpResponse:
    exam = _exam_or_404(code, step_code)
    try:
        attempt = start_attempt(user=request.user, exam=exam)
    except (ExamError, Enrollment.DoesNotExist) as exc:
        messages.error(request, str(exc) if isinstance(exc, ExamError) else "Register for the program first.")
        return redirect("exams:intro", exam.program.code, exam.step_code)
    return redirect("exams:attempt", attempt_id=attempt.pk)


@login_required
def attempt_page(request: AuthedRequest, attempt_id: int) -> HttpResponse:
    attempt = get_attempt_for_user(request.user, attempt_id)
    now = timezone.now()
    if attempt.is_overdue(now):
        submit_attempt(attempt_id=attempt.pk, now=now, timed_out=True)
        return redirect("exams:result", attempt_id=attempt.pk)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return redirect("exams:result", attempt_id=attempt.pk)
    # One query, plain values: the page every candidate of a sitting opens at once (issue 20).
    rows = (
        AttemptQuestion.objects.filter(attempt=attempt)
        .order_by("position")
        .values_list(
            "position",
            "choice_order",
            "question__text",
            "question__text_format",
            "question__choices",
            "answer__choice",
            "answer__flagged",
            "answer__seq",
        )
    )
    items: list[PaperItem] = [
        {
            "position": position,
            "text": render_question_text(text, text_format),
            # Only the texts, in the shuffled order: the key (which one is correct) is not sent.
            "choices": [choices[i] for i in order],
            "chosen": chosen,
            "flagged": bool(flagged),
            "seq": seq or 0,
        }
        for position, order, text, text_format, choices, chosen, flagged, seq in rows
    ]
    one_per_page = attempt.exam.navigation == Navigation.ONE
    current = id_param(request.GET.get("q")) or 1
    current = min(max(current, 1), len(items))
    shown = [items[current - 1]] if one_per_page else items
    return render(
        request,
        "exams/attempt.html",
        {
            "attempt": attempt,
            "total": len(items),
            "one_per_page": one_per_page,
            "current": current,
            "questions_html": question_fieldsets(shown, len(items)),
            "grid_html": question_grid(items, one_per_page=one_per_page),
            "server_now": now,
            "answered": sum(1 for i in items if i["chosen"] is not None),
            "save_token": save_token(attempt),
        },
    )


SAVE_SALT = "stormcert.exams.save"
SAVE_TOKEN_HEADER = "X-Exam-Token"  # noqa: S105 (a header name)


def save_token(attempt: Attempt) -> str:
    """The exam page's key to its own saves: the attempt, its owner, the exam's grace, and when
    saves stop (deadline plus grace), signed. With it a save needs neither the session nor the
    user row: two reads fewer on the request exam day sends most. It grants nothing the owner's
    page did not have: saves into that one attempt, until its time runs out (the database checks
    owner, state and deadline again in the save's UPDATE), and CSRF is still enforced."""
    grace = attempt.exam.grace_seconds
    closes = attempt.deadline + timedelta(seconds=grace)
    return signing.dumps(
        {"a": attempt.pk, "u": attempt.user_id, "g": grace, "x": int(closes.timestamp()) + 1}, salt=SAVE_SALT
    )


@dataclass(frozen=True)
class TokenHolder:
    user_id: int
    grace_seconds: int
    closes: float  # a POSIX time: deadline plus grace


def _token_holder(request: HttpRequest, attempt_id: int) -> TokenHolder | None:
    """Who holds a valid token for this attempt; None when there is no token; PermissionDenied
    when it is not valid for this attempt (forged, another attempt's)."""
    token = request.headers.get(SAVE_TOKEN_HEADER)
    if not token:
        return None
    try:
        data = signing.loads(token, salt=SAVE_SALT)
        if data["a"] != attempt_id:
            raise PermissionDenied("This page's key is for another attempt.")
        return TokenHolder(int(data["u"]), int(data["g"]), float(data["x"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise PermissionDenied("This page's key is not valid; reload the exam page.") from None


def save(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The autosave endpoint: small JSON in, small JSON out, ownership checked in the same query.

    The exam page sends its signed token (`save_token`) in the X-Exam-Token header: the save is
    then the answer's UPDATE alone, no session or user read (no middleware reads request.user on
    this path). Without a token (an older page), the signed-in user is the owner, as before.
    A token for another attempt or a forged one is a 403; a signed-out request without one is
    sent to sign in (as every page that needs it). Once the deadline has passed, the UPDATE
    refuses the save and it is a 409 either way.

    Numbers are bounded by their columns (position and choice: PositiveSmallIntegerField; seq:
    PositiveBigIntegerField), so a forged one is a 400 rather than an integer overflow."""
    try:
        holder = _token_holder(request, attempt_id)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    if holder is None:
        return _save_signed_in(request, attempt_id)  # type: ignore[arg-type]  # login_required: signed in
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if time.time() > holder.closes:
        # The token expires with the attempt's time: a late save is refused without a query.
        deadline = datetime.fromtimestamp(holder.closes - 1 - holder.grace_seconds, tz=UTC)
        return JsonResponse({"error": too_late_message(deadline), "closed": True}, status=409)
    return _save(request, attempt_id, user_id=holder.user_id, grace_seconds=holder.grace_seconds)


@login_required
@require_POST
def _save_signed_in(request: AuthedRequest, attempt_id: int) -> HttpResponse:
    return _save(request, attempt_id, user_id=request.user.pk, grace_seconds=None)


def _save(request: HttpRequest, attempt_id: int, *, user_id: int, grace_seconds: int | None) -> JsonResponse:
    try:
        payload = json_body(request)
        if not isinstance(payload, dict):
            raise BadJSON("Send a JSON object.")
        position = bounded_int(payload.get("position"), name="position", low=0, high=SMALL_MAX)
        choice = payload.get("choice")
        choice = None if choice is None else bounded_int(choice, name="choice", low=0, high=SMALL_MAX)
        seq = bounded_int(payload.get("seq"), name="seq", low=0, high=BIG_MAX)
        result = save_answer(
            attempt_id=attempt_id,
            user_id=user_id,
            grace_seconds=grace_seconds,
            position=position,
            choice=choice,
            flagged=bool(payload.get("flagged", False)),
            seq=seq,
        )
    except BadJSON as exc:
        return JsonResponse(
            {"error": f"{exc} Send JSON with position, choice (or null), flagged and seq."}, status=400
        )
    except AttemptNotFound:
        return JsonResponse({"error": "No such attempt."}, status=404)
    except AttemptClosed as exc:
        return JsonResponse({"error": str(exc), "closed": True}, status=409)
    except ExamError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except OperationalError:
        # The database is busy (a lock wait, a dropped connection): the page keeps the answer and
        # sends it again, so say "later" rather than fail.
        busy = JsonResponse(
            {"error": "The server is busy; this answer will be sent again.", "retry": True}, status=503
        )
        busy["Retry-After"] = "3"
        return busy
    return JsonResponse(
        {
            "accepted": result.accepted,
            "seq": result.seq,
            "position": position,
            "saved_at": timezone.localtime(result.saved_at).strftime("%H:%M:%S"),
        }
    )


@login_required
@require_POST
def submit(request: AuthedRequest, attempt_id: int) -> HttpResponse:
    """The submit button, or the exam page's own post when the timer reaches 0:00. A submit that
    arrives after the deadline (grace or not) is a time-out: the saved answers are graded and the
    result is shown, never an error. A second submit shows the result of the first."""
    # The owner check is in the grading's own locking read: no separate read of the attempt.
    try:
        submit_attempt(
            attempt_id=attempt_id,
            user_id=request.user.pk,
            now=timezone.now(),
            carried=_posted_answers(request.POST),
        )
    except AttemptNotFound:
        raise Http404("No such attempt.") from None
    return redirect("exams:result", attempt_id=attempt_id)


MAX_POSTED_ANSWERS = 400  # more questions than any exam has; bounds the UPDATE a forged post builds


def _posted_answers(post: QueryDict) -> dict[int, int]:
    """The answers a submit's form carried: `q<position>` = the shown index (services._carry).
    Anything else, or a number out of range, is ignored: these only fill questions never saved."""
    answers: dict[int, int] = {}
    for name, value in post.items():
        position = id_param(name[1:]) if name.startswith("q") else None
        if position is None:
            continue
        try:
            answers[position] = bounded_int(value, name=name, low=0, high=SMALL_MAX)
        except BadJSON:
            continue
        if len(answers) >= MAX_POSTED_ANSWERS:
            break
    return answers


@login_required
def result(request: AuthedRequest, attempt_id: int) -> HttpResponse:
    attempt = get_attempt_for_user(request.user, attempt_id)
    if attempt.status == AttemptStatus.IN_PROGRESS:
        if not attempt.is_overdue(timezone.now()):
            return redirect("exams:attempt", attempt_id=attempt.pk)
        attempt = submit_attempt(attempt_id=attempt.pk, timed_out=True)
    review = exam_values(attempt.enrollment, attempt.exam, attempt.started_at)["review"]
    context: dict[str, object] = {"attempt": attempt, "review": review}
    if review in ("score_and_topics", "full"):
        context["topics"] = topic_breakdown(attempt)
    if review == "full":
        rows = []
        for answer in (
            Answer.objects.filter(attempt=attempt).select_related("item__question").order_by("item__position")
        ):
            question = answer.item.question
            original = answer.original_choice()
            rows.append(
                {
                    "position": answer.item.position,
                    "text": question.rendered_text(),
                    "chosen": question.choices[original] if original is not None else None,
                    "correct": question.choices[question.correct],
                    "right": answer.is_correct(),
                }
            )
        context["rows"] = rows
    # The whole sitting reads this page in the same minute (issue 20, part 6): no paper drawn here,
    # and the journey asked about attempts left only when there is a failure to explain (a pass
    # shows the next step instead).
    if not attempt.passed:
        context["status"] = exam_status(user=request.user, exam=attempt.exam, prepare=False)
    return render(request, "exams/result.html", context)


# --- Staff -------------------------------------------------------------------------------


def _exams_page(request: HttpRequest, *, form: BankUploadForm | None = None) -> HttpResponse:
    banks = []
    for bank in QuestionBank.objects.select_related("program"):
        in_use = bank.questions.filter(retired_at__isnull=True)
        banks.append(
            {
                "bank": bank,
                "active": in_use.count(),
                "topics": list(in_use.order_by("topic").values_list("topic", flat=True).distinct()),
            }
        )
    exams = []
    for exam in Exam.objects.select_related("bank", "program").prefetch_related("blueprint"):
        total = sum(item.count for item in exam.blueprint.all())
        active = {
            item.topic: exam.bank.questions.filter(topic=item.topic, retired_at__isnull=True).count()
            for item in exam.blueprint.all()
        }
        exams.append({"exam": exam, "total": total, "active": active})
    return render(
        request,
        "exams/staff_exams.html",
        {
            "banks": banks,
            "exams": exams,
            "form": form or BankUploadForm(initial={"file_format": "detect"}),
            "formats": FORMATS,
            "imports": BankImport.objects.select_related("bank", "created_by").defer("content", "parsed")[
                :10
            ],
        },
    )


@staff_required
@require_GET
def staff_exams(request: HttpRequest) -> HttpResponse:
    return _exams_page(request)


@staff_required
@require_POST
def staff_bank_upload(request: AuthedRequest) -> HttpResponse:
    """Read the file and keep it for the preview: nothing is written to the bank yet."""
    form = BankUploadForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    bank = QuestionBank.objects.filter(pk=id_param(data.get("bank")) or 0).first()
    upload = request.FILES.get("file")
    file_format = data.get("file_format") or "detect"
    try:
        if bank is None:
            raise BankImportError("Choose the question bank to import into.")
        if upload is None:
            raise BankImportError("Choose a GIFT, Aiken or Moodle XML file.")
        if file_format not in FORMATS:
            raise BankImportError("Choose one of the formats offered.")
        if upload.size and upload.size > MAX_UPLOAD:
            raise BankImportError("That file is larger than 5 MB; split it into smaller files.")
        run = preview_import(
            bank=bank,
            filename=upload.name or "upload",
            content=upload.read(),
            actor=request.user,
            reason=data.get("reason", ""),
            file_format=file_format,
            default_topic=data.get("topic", ""),
        )
    except BankImportError as exc:
        messages.error(request, f"{exc} Choose the file again: a browser does not keep it.")
        return _exams_page(request, form=form)
    return redirect("exams:staff_bank_import", pk=run.pk)


@staff_required
@require_GET
def staff_bank_import(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview (before staff decide) or the report (after)."""
    run = get_object_or_404(BankImport.objects.select_related("bank", "created_by", "decided_by"), pk=pk)
    parsed = reading(run)
    context: dict[str, object] = {
        "run": run,
        "parsed": parsed,
        "format_label": FORMATS.get(run.file_format, ""),
    }
    if run.status == "preview":
        planned = plan(run.bank, parsed)
        context["planned"] = planned[:PREVIEW_SHOWN]
        context["valid_count"] = len(planned)
        context["new_count"] = sum(1 for p in planned if p.new)
        context["kept_count"] = sum(1 for p in planned if not p.new)
    else:
        by_where = {q.where: q for q in parsed.questions}
        created = [by_where[w] for w in run.report.get("created", []) if w in by_where]
        context["created"] = created[:PREVIEW_SHOWN]
        context["valid_count"] = len(created) if run.status == "imported" else len(parsed.questions)
    context["shown"] = PREVIEW_SHOWN
    context["shown_slice"] = f":{PREVIEW_SHOWN}"
    return render(request, "exams/staff_bank_import.html", context)


@staff_required
@require_POST
def staff_bank_import_confirm(request: AuthedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BankImport, pk=pk)
    try:
        run = confirm_import(run_id=run.pk, actor=request.user)
    except AlreadyDecided as exc:
        messages.info(request, str(exc))
    else:
        created = len(run.report["created"])
        messages.success(
            request,
            f"Imported {created} question{'s' if created != 1 else ''} into {run.bank}. "
            "This report stays on the exams page.",
        )
    return redirect("exams:staff_bank_import", pk=run.pk)


@staff_required
@require_POST
def staff_bank_import_discard(request: AuthedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BankImport, pk=pk)
    try:
        discard_import(run_id=run.pk, actor=request.user)
    except AlreadyDecided as exc:
        messages.info(request, str(exc))
        return redirect("exams:staff_bank_import", pk=run.pk)
    messages.success(request, f"Nothing was imported from {run.filename}.")
    return redirect("exams:staff_exams")


@staff_required
@require_GET
def staff_bank_export(request: AuthedRequest, pk: int) -> HttpResponse:
    bank = get_object_or_404(QuestionBank, pk=pk)
    try:
        name, content, kind = export_questions(
            bank=bank,
            topic=request.GET.get("topic", ""),
            file_format=request.GET.get("format") or "gift",
            actor=request.user,
        )
    except BankImportError as exc:
        messages.error(request, str(exc))
        return redirect("exams:staff_exams")
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_required
def staff_stats(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = get_object_or_404(Exam, pk=exam_id)
    stats = exam_stats(exam)
    peak = max((n for _, n in stats.histogram), default=0) or 1
    return render(request, "exams/staff_stats.html", {"exam": exam, "stats": stats, "peak": peak})


def _factor(text: str) -> Decimal | None:
    """A staff-typed factor: empty means none given; two decimal places at most (the column's)."""
    if not text.strip():
        return None
    try:
        factor = Decimal(text.strip())
    except InvalidOperation:
        raise ExamError("Give the time factor as a number, for example 1.5.") from None
    if not factor.is_finite() or factor != factor.quantize(Decimal("0.01")):
        raise ExamError("Give the time factor with at most two decimals, for example 1.25.")
    return factor


@dataclass
class PendingRequest:
    """A waiting request as the staff page shows it: with the person's current accommodation
    and the decision form (bound to what staff typed, when their decision was refused)."""

    request: AccommodationRequest
    current: Accommodation | None
    form: DecideRequestForm


def _accommodations_page(
    request: HttpRequest,
    *,
    grant_form: GrantAccommodationForm | None = None,
    refused: tuple[int, DecideRequestForm] | None = None,
) -> HttpResponse:
    active = list(Accommodation.objects.filter(revoked_at__isnull=True).select_related("user", "granted_by"))
    current = {a.user_id: a for a in active}
    pending = [
        PendingRequest(
            request=asked,
            current=current.get(asked.user_id),
            # What staff typed stays in the form of the request it was typed for.
            form=refused[1]
            if refused and refused[0] == asked.pk
            else DecideRequestForm(initial={"factor": asked.factor or ""}),
        )
        for asked in AccommodationRequest.objects.filter(status=RequestStatus.PENDING)
        .select_related("user")
        .order_by("requested_at", "id")
    ]
    closed = (
        AccommodationRequest.objects.exclude(status=RequestStatus.PENDING)
        .select_related("user", "decided_by", "accommodation")
        .order_by("-requested_at", "-id")[:50]
    )
    return render(
        request,
        "exams/staff_accommodations.html",
        {
            "active": active,
            "pending": pending,
            "decided": closed,
            "grant_form": grant_form or GrantAccommodationForm(initial={"factor": "1.5"}),
        },
    )


@staff_required
@require_GET
def staff_accommodations(request: HttpRequest) -> HttpResponse:
    return _accommodations_page(request)


@staff_required
@require_POST
def staff_accommodation_grant(request: AuthedRequest) -> HttpResponse:
    form = GrantAccommodationForm(request.POST)
    form.is_valid()  # every field is optional text: the checks below say what is missing
    data = form.cleaned_data
    try:
        user = User.objects.filter(email__iexact=data.get("email", "").strip()).first()
        if user is None:
            raise ExamError("No account uses that email address.")
        factor = _factor(data.get("factor", ""))
        if factor is None:
            raise ExamError("Give the time factor as a number, for example 1.5.")
        grant_accommodation(user=user, factor=factor, reason=data.get("reason", ""), actor=request.user)
    except ExamError as exc:
        messages.error(request, str(exc))
        return _accommodations_page(request, grant_form=form)
    messages.success(request, f"{user.email} now has {factor}× time on every exam.")
    return redirect("exams:staff_accommodations")


@staff_required
@require_POST
def staff_accommodation_end(request: AuthedRequest, pk: int) -> HttpResponse:
    accommodation = get_object_or_404(Accommodation, pk=pk)
    form = EndAccommodationForm(request.POST)
    form.is_valid()
    try:
        ended = revoke_accommodation(
            accommodation=accommodation, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except ExamError as exc:
        messages.error(request, str(exc))
    else:
        if ended:
            messages.success(request, "Accommodation ended.")
        else:
            messages.info(request, "That accommodation had already ended; nothing was changed.")
    return redirect("exams:staff_accommodations")


@staff_required
@require_POST
def staff_accommodation_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    asked = get_object_or_404(AccommodationRequest.objects.select_related("user"), pk=pk)
    form = DecideRequestForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    grant = data.get("decision") == "grant"
    try:
        decided = decide_accommodation_request(
            request=asked,
            grant=grant,
            factor=_factor(data.get("factor", "")) if grant else None,
            reason=data.get("reason", ""),
            actor=request.user,
            staff=has_staff_powers(request),
        )
    except RequestAlreadyClosed as exc:
        messages.info(request, str(exc))
        return redirect("exams:staff_accommodations")
    except ExamError as exc:
        messages.error(request, str(exc))
        return _accommodations_page(request, refused=(asked.pk, form))
    if grant and decided.accommodation is not None:
        messages.success(
            request,
            f"Granted: {asked.user.email} now has {decided.accommodation.factor}× time on every exam; "
            "they have been emailed.",
        )
    else:
        messages.success(request, f"Declined {asked.user.email}'s request; they have been emailed.")
    return redirect("exams:staff_accommodations")


# --- Candidates: asking for an accommodation ------------------------------------------------


def get_request_for_user(user: User, pk: int) -> AccommodationRequest:
    """The candidate's own request, or 404: nobody learns whether someone else's exists."""
    found = AccommodationRequest.objects.filter(pk=pk, user=user).first()
    if found is None:
        raise Http404("No such request.")
    return found


@login_required
def accommodation(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = AccommodationRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_accommodation(
                user=user,
                explanation=form.cleaned_data["explanation"],
                factor=form.cleaned_data["factor"],
                document=form.cleaned_data["document"],
            )
        except ExamError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, "Your request was sent. We emailed you a copy; staff will email you their decision."
            )
            return redirect(request.get_full_path())  # keeps ?exam=, so the way back leads to that exam
    mine = list(AccommodationRequest.objects.filter(user=user).select_related("accommodation"))
    return render(
        request,
        "exams/accommodation.html",
        {
            "form": form,
            "requests": mine,
            "pending": next((r for r in mine if r.is_pending), None),
            "current": Accommodation.objects.filter(user=user, revoked_at__isnull=True).first(),
            "next": _exam_from_query(request.GET.get("exam")),
        },
    )


def _exam_from_query(value: str | None) -> Exam | None:
    """`?exam=<id>`: the exam the person came from, so the way back leads to it."""
    exam_id = id_param(value)
    return Exam.objects.select_related("program").filter(pk=exam_id).first() if exam_id else None


@login_required
@require_POST
def accommodation_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    found = get_request_for_user(request.user, pk)
    try:
        withdraw_accommodation_request(request=found, user=request.user)
        messages.success(request, "Your request was withdrawn.")
    except ExamError as exc:
        messages.info(request, str(exc))
    return redirect("exams:accommodation")


@login_required
def accommodation_document(request: AuthedRequest, pk: int) -> FileResponse:
    user = request.user
    found = AccommodationRequest.objects.filter(pk=pk).first()
    # Not found rather than forbidden for anyone but the candidate and staff: nothing leaks.
    if found is None or not found.document or not (found.user_id == user.pk or has_staff_powers(request)):
        raise Http404("No such document.")
    return pdf_response(found.document, found.document_name or "document.pdf")
