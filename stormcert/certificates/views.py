from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from stormcert.accounts.requests import AuthedRequest
from stormcert.audit.models import AuditEvent
from stormcert.certificates.credentials import (
    OB3_CONTEXT,
    VC2_CONTEXT,
    issuer_profile,
    jwks,
    signed_credential,
)
from stormcert.certificates.forms import NameChangeForm, NameDecisionForm, ReasonForm
from stormcert.certificates.models import (
    Certificate,
    NameChangeRequest,
    NameChangeStatus,
    RetiredCredential,
)
from stormcert.certificates.names import (
    current_certificates,
    current_certificates_counts,
    decide_name_change,
    get_name_change_document,
    request_name_change,
    withdraw_name_change,
)
from stormcert.certificates.pdf import certificate_pdf
from stormcert.certificates.services import (
    CertificateError,
    certified_name,
    get_certificate_for_user,
    reinstate_certificate,
    revoke_certificate,
)
from stormcert.lib.links import absolute_url
from stormcert.lib.numbers import canonical_number
from stormcert.lib.staff import has_staff_powers, staff_required
from stormcert.lib.uploads import pdf_response
from stormcert.programs.models import Program


@login_required
def mine(request: AuthedRequest) -> HttpResponse:
    certificates = Certificate.objects.filter(holder=request.user).select_related("program")
    now = timezone.now()
    return render(
        request,
        "certificates/mine.html",
        {
            "rows": [(c, c.status_at(now)) for c in certificates],
            # The addresses a holder shares (on SITE_URL, as the PDF's QR code and the credential
            # say them): the public verification page and the directory search for the number.
            "share": {
                c.number: (absolute_url("directory:verify", c.number), absolute_url("directory:search"))
                for c in certificates
            },
            "certified_name": certified_name(request.user)[0] if certificates else "",
            "name_change_pending": NameChangeRequest.objects.filter(
                person=request.user, status=NameChangeStatus.PENDING
            ).exists(),
        },
    )


def _own(request: HttpRequest, number: str) -> Certificate:
    certificate = get_certificate_for_user(request.user, number, staff=has_staff_powers(request))
    if certificate is None:
        # Same answer for "not yours" and "no such number": nothing to learn by guessing.
        raise Http404("No certificate of yours has this number.")
    return certificate


@login_required
def pdf(request: HttpRequest, number: str) -> HttpResponse:
    certificate = _own(request, number)
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.number}.pdf"'
    return response


@login_required
def credential(request: HttpRequest, number: str) -> HttpResponse:
    certificate = _own(request, number)
    response = HttpResponse(signed_credential(certificate), content_type="application/jwt")
    response["Content-Disposition"] = f'attachment; filename="credential-{certificate.number}.jwt"'
    return response


@cache_control(public=True, max_age=3600)
def jwks_view(request: HttpRequest) -> JsonResponse:
    """The programs' public keys (RFC 7517), to verify credentials offline."""
    return JsonResponse(jwks())


def _program(code: str) -> Program:
    return get_object_or_404(Program, code=code)


@cache_control(public=True, max_age=3600)
def issuer(request: HttpRequest, code: str) -> JsonResponse:
    program = _program(code)
    return JsonResponse({"@context": [VC2_CONTEXT, OB3_CONTEXT], **issuer_profile(program)})


@cache_control(public=True, max_age=3600)
def achievement(request: HttpRequest, code: str) -> JsonResponse:
    program = _program(code)
    return JsonResponse(
        {
            "@context": [VC2_CONTEXT, OB3_CONTEXT],
            "id": absolute_url("certificates:achievement", program.code),
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": program.name,
            "description": program.summary.strip(),
            "creator": issuer_profile(program),
        }
    )


@cache_control(public=True, max_age=300)
def revocations(request: HttpRequest, code: str) -> JsonResponse:
    """The published revocation list (1EdTechRevocationList) the credentials point at."""
    program = _program(code)
    today = timezone.localtime(timezone.now(), program.zone).date()
    # A ToR certificate whose term ended early is listed too: its signed credential would
    # otherwise still check out as valid after the verify page says "ended".
    revoked = Certificate.objects.filter(program=program).filter(
        Q(revoked_at__isnull=False) | Q(ended_on__lte=today)
    )
    # Credentials replaced when a name change reissued the certificate: they name the old name.
    retired = RetiredCredential.objects.filter(certificate__program=program).only("uid", "retired_at")
    return JsonResponse(
        {
            "id": absolute_url("certificates:revocations", program.code),
            "issuer": issuer_profile(program)["id"],
            "revokedCredentials": [
                {
                    "id": c.credential_id,
                    "revoked": True,
                    "revocationDate": c.revoked_at.isoformat()
                    if c.revoked_at
                    else (c.ended_on.isoformat() if c.ended_on else None),
                    **(
                        {"revocationReason": f"Ended: {c.end_reason}"}
                        if not c.revoked_at and c.ended_on
                        else {}
                    ),
                }
                for c in revoked.only("uid", "revoked_at", "ended_on", "end_reason").order_by(
                    "revoked_at", "id"
                )
            ]
            + [
                {"id": r.credential_id, "revoked": True, "revocationDate": r.retired_at.isoformat()}
                for r in retired
            ],
        }
    )


# --- Staff -----------------------------------------------------------------------------


@staff_required
def staff_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    certificates = Certificate.objects.select_related("program", "holder").order_by("-issued_at")
    if q:
        certificates = certificates.filter(
            Q(number=canonical_number(q)) | Q(holder__email__icontains=q) | Q(holder_name__icontains=q)
        )
    page = Paginator(certificates, 50).get_page(request.GET.get("page"))
    today = timezone.now()
    return render(
        request,
        "certificates/staff_list.html",
        {
            "page": page,
            "rows": [(c, c.status_at(today)) for c in page.object_list],
            "q": q,
            "query": f"q={q}" if q else "",
        },
    )


def _staff_detail(
    request: HttpRequest, certificate: Certificate, form: ReasonForm | None = None
) -> HttpResponse:
    return render(
        request,
        "certificates/staff_detail.html",
        {
            "certificate": certificate,
            "status": certificate.status_at(),
            "form": form or ReasonForm(),
            "events": AuditEvent.objects.filter(
                object_type="certificates.certificate", object_id=str(certificate.pk)
            ).select_related("actor"),
        },
        status=400 if form is not None and form.errors else 200,
    )


@staff_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_detail(
        request, get_object_or_404(Certificate.objects.select_related("program", "holder"), pk=pk)
    )


def _staff_action(request: AuthedRequest, pk: int, *, revoke: bool) -> HttpResponse:
    certificate = get_object_or_404(Certificate.objects.select_related("program", "holder"), pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        action = revoke_certificate if revoke else reinstate_certificate
        try:
            action(certificate=certificate, actor=request.user, reason=form.cleaned_data["reason"])
        except CertificateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Certificate {certificate.number} is {'revoked' if revoke else 'reinstated'}."
            )
            return redirect("certificates:staff_detail", pk=pk)
    return _staff_detail(request, certificate, form)


@staff_required
@require_POST
def staff_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, revoke=True)


@staff_required
@require_POST
def staff_reinstate(request: AuthedRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, revoke=False)


# --- Name changes ----------------------------------------------------------------------------


@login_required
def name_change(request: AuthedRequest) -> HttpResponse:
    """The holder's page: the certified name, the request waiting (if any), the form, the history."""
    user = request.user
    # Offered: the account's name (often already the new one: the profile is the holder's to edit).
    form = NameChangeForm(
        request.POST or None,
        request.FILES or None,
        initial={"first_name": user.first_name, "last_name": user.last_name},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                request_name_change(
                    person=user,
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    reason=form.cleaned_data["reason"],
                    document=form.cleaned_data["document"],
                )
            except CertificateError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    "Your request was sent. We emailed you a copy; staff will email you their decision.",
                )
                return redirect("certificates:name_change")
        status = 400
    mine = list(NameChangeRequest.objects.filter(person=user))
    certificates = list(current_certificates(user).select_related("program"))
    return render(
        request,
        "certificates/name_change.html",
        {
            "form": form,
            "requests": mine,
            "pending": next((r for r in mine if r.is_pending), None),
            "certificates": certificates,
            "certified_name": certified_name(user)[0] if certificates else "",
        },
        status=status,
    )


@login_required
@require_POST
def name_change_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    # The holder's own request, or 404: nobody learns whether someone else's exists.
    found = get_object_or_404(NameChangeRequest, pk=pk, person=user)
    try:
        withdraw_name_change(request=found, person=user)
        messages.success(request, "Your request was withdrawn; your certificates keep their name.")
    except CertificateError as exc:
        messages.info(request, str(exc))
    return redirect("certificates:name_change")


@login_required
def name_change_document(request: HttpRequest, pk: int) -> FileResponse:
    found = get_name_change_document(request.user, pk, staff=has_staff_powers(request))
    # Not found rather than forbidden for anyone but the holder and staff: nothing leaks.
    if found is None:
        raise Http404("No such document.")
    return pdf_response(found.document, found.document_name or "document.pdf")


def _staff_name_changes(
    request: HttpRequest, *, failed: int | None = None, form: NameDecisionForm | None = None
) -> HttpResponse:
    pending = list(
        NameChangeRequest.objects.filter(status=NameChangeStatus.PENDING)
        .select_related("person")
        .order_by("requested_at", "id")
    )
    # How many certificates each approval would rename.
    counts = dict(current_certificates_counts([r.person_id for r in pending]))
    # A request no longer in the queue (decided meanwhile) has its error shown above the queue.
    error = (
        " ".join(str(e) for e in form.non_field_errors())
        if form and all(r.pk != failed for r in pending)
        else ""
    )
    for r in pending:
        r.renames = counts.get(r.person_id, 0)  # type: ignore[attr-defined]
        r.form = form if r.pk == failed else None  # type: ignore[attr-defined]
    decided = (
        NameChangeRequest.objects.exclude(status=NameChangeStatus.PENDING)
        .select_related("person", "decided_by")
        .order_by("-requested_at", "-id")[:50]
    )
    return render(
        request,
        "certificates/staff_name_changes.html",
        {"pending": pending, "decided": decided, "error": error},
        status=400 if failed is not None else 200,
    )


@staff_required
def staff_name_changes(request: HttpRequest) -> HttpResponse:
    return _staff_name_changes(request)


@staff_required
@require_POST
def staff_name_change_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(NameChangeRequest, pk=pk)
    form = NameDecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            decided = decide_name_change(
                request=found,
                approve=approve,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                staff=has_staff_powers(request),
            )
        except CertificateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Approved: {decided.person.email}'s certificates now say {decided.new_name}; they were emailed."
                if approve
                else f"Refused; {decided.person.email} was emailed the reason.",
            )
            return redirect("certificates:staff_name_changes")
    return _staff_name_changes(request, failed=found.pk, form=form)
