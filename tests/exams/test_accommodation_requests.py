"""A candidate asks for extra time; staff grant (which the next attempt's deadline shows) or decline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import OutboundEmail
from stormcert.exams.accommodations import (
    RequestAlreadyClosed,
    decide_accommodation_request,
    request_accommodation,
    withdraw_accommodation_request,
)
from stormcert.exams.models import Accommodation, AccommodationRequest, Exam, RequestStatus
from stormcert.exams.services import (
    ExamError,
    grant_accommodation,
    pending_accommodation_requests,
    start_attempt,
)
from tests.exams.conftest import T0, ready_for_midterm

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAGE = reverse("exams:accommodation")
STAFF_PAGE = reverse("exams:staff_accommodations")


def decide_url(request: AccommodationRequest) -> str:
    return reverse("exams:staff_accommodation_decide", args=[request.pk])


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf(name: str = "letter from dr smith.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def asked(
    user: User, factor: str | None = "1.50", document: SimpleUploadedFile | None = None
) -> AccommodationRequest:
    return request_accommodation(
        user=user,
        explanation="Reading takes me longer (dyslexia).",
        factor=Decimal(factor) if factor else None,
        document=document,
        now=T0,
    )


def emails(template: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template=f"exams/email/{template}"))


# --- Asking ---------------------------------------------------------------------------------


def test_a_candidate_asks_without_a_document(alice: User, alice_client: Client) -> None:
    page = alice_client.get(PAGE).content.decode()
    assert "None: your exams use the standard time." in page and "Send the request" in page
    response = alice_client.post(
        PAGE, {"explanation": "  I have dyslexia.  ", "factor": "1.50", "document": ""}, follow=True
    )
    assert "Your request was sent" in response.content.decode()
    request = AccommodationRequest.objects.get()
    assert (request.user, request.explanation, request.factor) == (alice, "I have dyslexia.", Decimal("1.50"))
    assert request.status == RequestStatus.PENDING and not request.document
    page = response.content.decode()
    assert "Waiting for a decision" in page and "Withdraw this request" in page
    assert "Send the request" not in page  # one waiting request at a time: no form meanwhile
    [receipt] = emails("accommodation_requested")
    assert receipt.to == "alice@example.com" and "1.50× the standard time" in receipt.body_text
    assert AuditEvent.objects.filter(verb="exam.accommodation_requested", actor=alice).count() == 1
    assert pending_accommodation_requests() == 1


def test_a_candidate_asks_with_a_pdf_that_only_they_and_staff_can_open(
    alice: User, eve: User, sara_client: Client, alice_client: Client
) -> None:
    alice_client.post(PAGE, {"explanation": "See the letter.", "factor": "", "document": pdf()}, follow=True)
    request = AccommodationRequest.objects.get()
    assert request.factor is None and request.document_name == "letter from dr smith.pdf"
    assert "smith" not in request.document.name and request.document.name.startswith("accommodations/")
    assert request.document_size == len(PDF) and len(request.document_sha256) == 64
    url = reverse("exams:accommodation_document", args=[request.pk])
    for client in (alice_client, sara_client):
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
        assert response["Content-Type"] == "application/pdf"
        assert (
            response["Content-Security-Policy"] == "sandbox"
            and response["X-Content-Type-Options"] == "nosniff"
        )
    assert client_for(eve).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # sign in first


@pytest.mark.parametrize(
    ("upload", "limit", "message"),
    [
        (pdf("letter.pdf", b"<html>not a pdf</html>"), None, "Only PDF documents are accepted"),
        (pdf("big.pdf", b"%PDF-" + b"x" * 2048), 1024, "the limit is 0 MB"),
    ],
)
def test_a_refused_upload_says_why_and_keeps_the_text(
    alice_client: Client, settings: Any, upload: SimpleUploadedFile, limit: int | None, message: str
) -> None:
    if limit:
        settings.UPLOAD_MAX_BYTES = limit
    response = alice_client.post(
        PAGE, {"explanation": "My own words, typed with care.", "factor": "2.00", "document": upload}
    )
    page = response.content.decode()
    assert response.status_code == 200 and message in page and "Choose the file again" in page
    assert "My own words, typed with care.</textarea>" in page
    assert '<option value="2.00" selected>' in page
    assert not AccommodationRequest.objects.exists() and not OutboundEmail.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "accommodations").exists()


def test_an_explanation_is_required_and_the_factor_kept(alice_client: Client) -> None:
    page = alice_client.post(PAGE, {"explanation": "   ", "factor": "1.25"}).content.decode()
    assert "Explain what you need and why" in page and '<option value="1.25" selected>' in page
    assert not AccommodationRequest.objects.exists()
    with pytest.raises(ExamError, match="between 1.00 and 3.00"):
        request_accommodation(user=User.objects.get(), explanation="x", factor=Decimal("4"), document=None)


def test_one_pending_request_per_person(alice: User, eve: User, sara: User) -> None:
    asked(alice)
    with pytest.raises(ExamError, match="already have a request waiting"):
        asked(alice, document=pdf())
    # The database says so too, whatever code runs (two submissions racing past the check).
    with pytest.raises(IntegrityError), transaction.atomic():
        AccommodationRequest.objects.create(user=alice, explanation="again", requested_at=T0)
    asked(eve)  # someone else is not affected
    assert pending_accommodation_requests() == 2


def test_someone_with_an_accommodation_may_ask_for_more(
    alice: User, sara: User, alice_client: Client
) -> None:
    grant_accommodation(user=alice, factor=Decimal("1.25"), reason="Documented", actor=sara, now=T0)
    page = alice_client.get(PAGE).content.decode()
    assert "1.25× the standard time" in page and "Ask for more time" in page
    request = asked(alice, factor="2.00")
    assert request.is_pending


# --- Withdrawing ----------------------------------------------------------------------------


def test_withdraw_a_pending_request(alice: User, alice_client: Client) -> None:
    request = asked(alice)
    url = reverse("exams:accommodation_withdraw", args=[request.pk])
    page = alice_client.post(url, follow=True).content.decode()
    assert (
        "Your request was withdrawn" in page and "You withdrew it on" in page and "Send the request" in page
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN and request.withdrawn_at is not None
    again = alice_client.post(url, follow=True).content.decode()
    assert "already withdrawn; there is nothing to withdraw" in again
    assert AuditEvent.objects.filter(verb="exam.accommodation_request_withdrawn").count() == 1
    assert pending_accommodation_requests() == 0
    asked(alice, factor="2.00")  # and may ask again


def test_another_candidate_cannot_see_or_withdraw_a_request(alice: User, eve: User) -> None:
    request = asked(alice, document=pdf())
    eve_client = client_for(eve)
    page = eve_client.get(PAGE).content.decode()
    assert "Reading takes me longer" not in page and "Your requests" not in page
    assert eve_client.post(reverse("exams:accommodation_withdraw", args=[request.pk])).status_code == 404
    assert eve_client.get(reverse("exams:accommodation_document", args=[request.pk])).status_code == 404
    with pytest.raises(ExamError, match="No such request"):
        withdraw_accommodation_request(request=request, user=eve)
    request.refresh_from_db()
    assert request.is_pending


# --- Deciding -------------------------------------------------------------------------------


def test_staff_grant_and_the_next_attempt_gets_the_time(
    alice: User, sara: User, midterm: Exam, sara_client: Client, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    request = asked(alice, factor="1.50", document=pdf())
    page = sara_client.get(STAFF_PAGE).content.decode()
    assert "Requests waiting (1)" in page and "Reading takes me longer (dyslexia)." in page
    assert f'id="f{request.pk}" name="factor" inputmode="decimal" value="1.50"' in page  # the asked factor
    assert reverse("exams:accommodation_document", args=[request.pk]) in page
    response = sara_client.post(
        decide_url(request),
        {
            "decision": "grant",
            "factor": "1.75",
            "reason": "Letter on file",
        },
        follow=True,
    )
    assert "Granted: alice@example.com now has 1.75× time on every exam" in response.content.decode()
    request.refresh_from_db()
    accommodation = Accommodation.objects.get(user=alice, revoked_at__isnull=True)
    assert request.status == RequestStatus.GRANTED and request.accommodation == accommodation
    assert (request.decided_by, request.decision_reason) == (sara, "Letter on file")
    assert accommodation.factor == Decimal("1.75") and accommodation.granted_by == sara
    [mail] = emails("accommodation_granted")
    assert mail.to == "alice@example.com" and "1.75× the standard time" in mail.body_text
    assert "Letter on file" in mail.body_text
    event = AuditEvent.objects.get(verb="exam.accommodation_request_granted")
    assert event.actor == sara and event.reason == "Letter on file" and event.data["granted"] == "1.75"
    assert AuditEvent.objects.filter(verb="exam.accommodation_granted").count() == 1
    assert pending_accommodation_requests() == 0

    start = T0 + timedelta(days=1)
    attempt = start_attempt(user=alice, exam=midterm, now=start)
    assert attempt.factor == Decimal("1.75") and attempt.deadline == start + timedelta(minutes=210)
    assert "Granted" in alice_client.get(PAGE).content.decode()


def test_granting_without_a_factor_asked_needs_one(alice: User, sara: User) -> None:
    request = asked(alice, factor=None)
    with pytest.raises(ExamError, match="Give the time factor to grant"):
        decide_accommodation_request(
            request=request, grant=True, factor=None, reason="ok", actor=sara, staff=True
        )
    with pytest.raises(ExamError, match="between 1.00 and 3.00"):
        decide_accommodation_request(
            request=request, grant=True, factor=Decimal("3.5"), reason="ok", actor=sara, staff=True
        )
    decided = decide_accommodation_request(
        request=request, grant=True, factor=Decimal("2"), reason="ok", actor=sara, staff=True
    )
    assert decided.accommodation is not None and decided.accommodation.factor == Decimal("2.00")


def test_a_decline_needs_a_reason(alice: User, sara: User, sara_client: Client) -> None:
    request = asked(alice)
    refused = sara_client.post(
        decide_url(request),
        {"decision": "decline", "factor": "1.50", "reason": " "},
    )
    assert "Give the reason for the decision" in refused.content.decode()
    request.refresh_from_db()
    assert request.is_pending and not emails("accommodation_declined")
    sara_client.post(
        decide_url(request),
        {"decision": "decline", "reason": "No supporting evidence yet"},
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.DECLINED and request.accommodation is None
    assert not Accommodation.objects.exists()
    [mail] = emails("accommodation_declined")
    assert "No supporting evidence yet" in mail.body_text and mail.user == alice
    assert (
        AuditEvent.objects.get(verb="exam.accommodation_request_declined").reason
        == "No supporting evidence yet"
    )
    assert "Declined" in client_for(alice).get(PAGE).content.decode()


def test_a_refused_decision_keeps_what_staff_typed(alice: User, sara_client: Client) -> None:
    request = asked(alice)
    page = sara_client.post(
        decide_url(request),
        {
            "decision": "grant",
            "factor": "lots",
            "reason": "Typed reason",
        },
    ).content.decode()
    assert "Give the time factor as a number" in page
    assert f'id="f{request.pk}" name="factor" inputmode="decimal" value="lots"' in page
    assert "Typed reason</textarea>" in page


def test_a_double_click_decides_once(alice: User, sara: User, sara_client: Client) -> None:
    request = asked(alice)
    decision = {"decision": "grant", "factor": "1.50", "reason": "Fine"}
    sara_client.post(decide_url(request), decision)
    second = sara_client.post(
        decide_url(request), {**decision, "decision": "decline"}, follow=True
    ).content.decode()
    assert "This request was already granted by sara@example.com; nothing was changed." in second
    with pytest.raises(RequestAlreadyClosed):
        decide_accommodation_request(
            request=request, grant=True, factor=Decimal("2"), reason="x", actor=sara, staff=True
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.GRANTED
    assert Accommodation.objects.count() == 1 and len(emails("accommodation_granted")) == 1
    assert not emails("accommodation_declined")
    assert AuditEvent.objects.filter(verb__startswith="exam.accommodation_request_").count() == 1
    with pytest.raises(RequestAlreadyClosed):
        withdraw_accommodation_request(request=request, user=alice)


def test_only_staff_decide_and_not_their_own(alice: User, alice_client: Client) -> None:
    request = asked(alice)
    decision = {"decision": "grant", "factor": "3.00", "reason": "Me"}
    assert alice_client.post(decide_url(request), decision).status_code == 403
    assert alice_client.get(STAFF_PAGE).status_code == 403
    with pytest.raises(ExamError, match="Only program staff"):
        decide_accommodation_request(
            request=request, grant=True, factor=None, reason="Me", actor=alice, staff=False
        )
    staff = make_person("sam@example.com", staff=True)
    own = asked(staff)
    with pytest.raises(ExamError, match="Another staff member must decide"):
        decide_accommodation_request(
            request=own, grant=True, factor=None, reason="Me", actor=staff, staff=True
        )
    assert not Accommodation.objects.exists() and pending_accommodation_requests() == 2


def test_the_exam_intro_links_to_the_request_page(alice: User, midterm: Exam, alice_client: Client) -> None:
    ready_for_midterm(alice)
    intro = alice_client.get(reverse("exams:intro", args=["QISP", "midterm"])).content.decode()
    back = f"{PAGE}?exam={midterm.pk}"
    assert f'href="{back}">Request an accommodation</a>' in intro
    sent = alice_client.post(back, {"explanation": "Dyslexia", "factor": ""}, follow=True)
    assert sent.redirect_chain == [(back, 302)]
    assert "← The midterm exam" in sent.content.decode()
