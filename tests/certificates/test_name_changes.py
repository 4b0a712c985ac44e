"""Changing the certified name: the holder asks (reason, optional PDF), staff approve (every
current certificate reissued: same number, same dates, the new name, the credential signed anew,
audited, emailed) or refuse (the reason shown and emailed). One request waits at a time."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, NameChangeRequest, NameChangeStatus, Source
from stormcert.certificates.names import NameChangeClosed, decide_name_change, request_name_change
from stormcert.certificates.services import CertificateError, issue_certificate
from stormcert.emails.models import OutboundEmail
from stormcert.lib.dates import add_years
from tests.certificates.builders import certify
from tests.certificates.test_name_as_issued import (
    credential,
    credential_name,
    everything_public_says,
    pdf_text,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAGE = reverse("certificates:name_change")
QUEUE = reverse("certificates:staff_name_changes")
T0 = datetime.fromisoformat("2026-03-02T18:00:00+00:00")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf(name: str = "marriage certificate.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- Asking ---------------------------------------------------------------------------------


def asked(user: User, first: str = "Alice", last: str = "Moreno", **kwargs: Any) -> NameChangeRequest:
    return request_name_change(
        person=user, first_name=first, last_name=last, reason="I married in February.", now=T0, **kwargs
    )


def test_a_holder_asks_with_a_document_only_they_and_staff_can_open(
    alice: User, eve: User, sara: User, programs: None
) -> None:
    certify(alice)
    holder = client_for(alice)
    response = holder.post(
        PAGE,
        {
            "first_name": " Alice ",
            "last_name": "Moreno",
            "reason": "I married in February.",
            "document": pdf(),
        },
    )
    assert response.status_code == 302
    request = NameChangeRequest.objects.get()
    assert (request.old_name, request.new_name, request.status) == (
        "Alice Alvarez",
        "Alice Moreno",
        "pending",
    )
    assert request.document_name == "marriage certificate.pdf" and "marriage" not in request.document.name
    assert request.document.name.startswith("name-changes/") and len(request.document_sha256) == 64
    page = holder.get(PAGE).content.decode()
    assert "is waiting for a decision" in page and "Alice Moreno" in page
    assert 'name="reason"' not in page  # no second form while one waits
    assert OutboundEmail.objects.filter(
        to="alice@example.com", template__endswith="name_change_requested"
    ).exists()
    event = AuditEvent.objects.get(verb="certificates.name_change_requested")
    assert (
        event.actor == alice
        and event.data["to"] == "Alice Moreno"
        and event.reason == "I married in February."
    )
    # Nothing changes before staff decide.
    assert Certificate.objects.get().holder_name == "Alice Alvarez"

    url = reverse("certificates:name_change_document", args=[request.pk])
    for client in (holder, client_for(sara, mfa=True)):
        got = client.get(url)
        assert got.status_code == 200 and b"".join(got.streaming_content) == PDF  # type: ignore[attr-defined]
        assert got["Content-Security-Policy"] == "sandbox" and got["X-Content-Type-Options"] == "nosniff"
    assert client_for(eve).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # sign in first
    # Eve's page shows none of Alice's request.
    assert "Alice Moreno" not in client_for(eve).get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"first_name": "Alice", "last_name": "Moreno", "reason": "  "}, "Say why the name should change"),
        ({"first_name": "", "last_name": "Moreno", "reason": "Married"}, "Give the first name"),
        ({"first_name": "Alice", "last_name": "Alvarez", "reason": "Typo"}, "already say Alice Alvarez"),
    ],
)
def test_an_incomplete_request_says_why(
    alice: User, programs: None, data: dict[str, str], message: str
) -> None:
    certify(alice)
    response = client_for(alice).post(PAGE, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not NameChangeRequest.objects.exists() and not OutboundEmail.objects.exists()


def test_a_document_that_is_not_a_pdf_is_refused_and_nothing_is_kept(
    alice: User, programs: None, settings: Any
) -> None:
    certify(alice)
    response = client_for(alice).post(
        PAGE,
        {
            "first_name": "Alice",
            "last_name": "Moreno",
            "reason": "Married",
            "document": pdf("x.pdf", b"<html>"),
        },
    )
    assert response.status_code == 400 and "Only PDF documents are accepted" in response.content.decode()
    assert not NameChangeRequest.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "name-changes").exists()


def test_only_holders_can_ask(eve: User, programs: None) -> None:
    page = client_for(eve).get(PAGE).content.decode()
    assert "You hold no certificate yet" in page and 'name="reason"' not in page
    with pytest.raises(CertificateError, match="You hold no certificate"):
        asked(eve)


def test_one_pending_request_per_person(alice: User, programs: None) -> None:
    certify(alice)
    asked(alice)
    with pytest.raises(CertificateError, match="already have a name change waiting"):
        asked(alice, last="Other")
    response = client_for(alice).post(PAGE, {"first_name": "Alice", "last_name": "Other", "reason": "Again"})
    assert response.status_code == 400 and "already have a name change waiting" in response.content.decode()
    # The database refuses a second one even when the check is raced past.
    with pytest.raises(IntegrityError), transaction.atomic():
        NameChangeRequest.objects.create(
            person=alice, old_name="Alice Alvarez", first_name="A", last_name="B", reason="race"
        )


# --- Deciding -------------------------------------------------------------------------------


def test_approval_reissues_every_current_certificate_under_the_new_name(
    alice: User, sara: User, programs: None, client: Client
) -> None:
    old = certify(alice, issued_on=date(2024, 1, 15))
    qisp = issue_certificate(
        holder=alice,
        program=old.program,
        issued_on=date(2026, 1, 10),
        expires_on=date(2028, 1, 15),
        source=Source.RENEWAL,
        renews=old,
        notify=False,
    )
    tor = certify(alice, program="IGP-TOR", issued_on=date(2026, 7, 1), years=1)
    request = asked(alice, document=pdf())
    old_credential = credential(client_for(alice), qisp.number)
    assert credential_name(old_credential) == "Alice Alvarez"
    staff = client_for(sara, mfa=True)
    queue = staff.get(QUEUE).content.decode()
    assert "Alice Alvarez" in queue and "Alice Moreno" in queue and "renames 2 certificates" in queue
    assert '1</span><span class="stat-label">name changes to decide' in staff.get("/staff/").content.decode()

    response = staff.post(
        reverse("certificates:staff_name_change_decide", args=[request.pk]),
        {"decision": "approve", "reason": "Marriage certificate checked"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_reason) == (
        NameChangeStatus.APPROVED,
        sara,
        "Marriage certificate checked",
    )
    for certificate, before in ((qisp, qisp), (tor, tor)):
        certificate.refresh_from_db()
        # Same number, same dates, the new name; reissued now.
        assert (certificate.number, certificate.issued_on, certificate.expires_on) == (
            before.number,
            before.issued_on,
            before.expires_on,
        )
        assert certificate.holder_name == "Alice Moreno" and certificate.sort_name == "moreno alice"
        assert certificate.reissued_at is not None
    # The superseded certificate keeps the name it was current under.
    old.refresh_from_db()
    assert old.holder_name == "Alice Alvarez" and old.reissued_at is None
    alice.refresh_from_db()
    assert alice.get_full_name() == "Alice Moreno"

    holder = client_for(alice)
    text = pdf_text(holder, qisp.number)
    assert "Alice Moreno" in text and "Alice Alvarez" not in text and "Reissued" in text
    assert qisp.number in text and "January 10, 2026" in text and "January 15, 2028" in text
    claims = credential(holder, qisp.number)
    assert credential_name(claims) == "Alice Moreno"
    assert qisp.reissued_at is not None and claims["iat"] == int(qisp.reissued_at.timestamp())
    # Signed anew under a new id; the old credential (naming the old name) is published as revoked.
    assert claims["jti"] == qisp.credential_id != old_credential["jti"]
    revoked = client.get("/credentials/revocations/QISP.json").json()["revokedCredentials"]
    assert [r["id"] for r in revoked] == [old_credential["jti"]]
    assert claims["credentialStatus"]["id"].endswith("/credentials/revocations/QISP.json")
    page, *answers = everything_public_says(client, qisp.number)
    assert "Alice Moreno" in page and answers == ["Alice Moreno"] * 5
    assert client.get("/api/directory", {"q": "moreno"}).json()["count"] == 2

    decided = AuditEvent.objects.get(verb="certificates.name_change_approved")
    assert decided.actor == sara and decided.reason == "Marriage certificate checked"
    assert sorted(decided.data["certificates"]) == sorted([qisp.number, tor.number])
    reissued = AuditEvent.objects.filter(verb="certificate.reissued")
    assert {e.object_id for e in reissued} == {str(qisp.pk), str(tor.pk)}
    assert all(e.data["name"] == {"from": "Alice Alvarez", "to": "Alice Moreno"} for e in reissued)
    mail = OutboundEmail.objects.get(template="certificates/email/name_change_approved")
    assert mail.to == "alice@example.com" and "Alice Moreno" in mail.subject
    assert "Marriage certificate checked" in mail.body_text and qisp.number in mail.body_text
    assert "Approved" in holder.get(PAGE).content.decode()


def test_refusal_keeps_the_name_and_tells_the_holder_why(alice: User, sara: User, programs: None) -> None:
    certificate = certify(alice)
    request = asked(alice)
    response = client_for(sara, mfa=True).post(
        reverse("certificates:staff_name_change_decide", args=[request.pk]),
        {"decision": "refuse", "reason": "The document names someone else"},
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.holder_name == "Alice Alvarez" and certificate.reissued_at is None
    page = client_for(alice).get(PAGE).content.decode()
    assert "Refused" in page and "The document names someone else" in page
    mail = OutboundEmail.objects.get(template="certificates/email/name_change_refused")
    assert "The document names someone else" in mail.body_text
    event = AuditEvent.objects.get(verb="certificates.name_change_refused")
    assert event.actor == sara and event.reason == "The document names someone else"
    # A new request may follow a refusal.
    assert asked(alice, last="Moreno-Alvarez").is_pending


def test_a_decision_needs_a_reason_and_happens_once(alice: User, sara: User, programs: None) -> None:
    certify(alice)
    request = asked(alice)
    url = reverse("certificates:staff_name_change_decide", args=[request.pk])
    staff = client_for(sara, mfa=True)
    missing = staff.post(url, {"decision": "approve", "reason": " "})
    assert missing.status_code == 400 and "Give the reason for the decision" in missing.content.decode()
    request.refresh_from_db()
    assert request.is_pending and Certificate.objects.get().holder_name == "Alice Alvarez"
    with pytest.raises(CertificateError, match="Give the reason"):
        decide_name_change(request=request, approve=False, reason="", actor=sara, staff=True)

    decide_name_change(request=request, approve=True, reason="Checked", actor=sara, staff=True, now=T0)
    again = staff.post(url, {"decision": "refuse", "reason": "Double click"})
    assert again.status_code == 400 and "already approved by sara@example.com" in again.content.decode()
    with pytest.raises(NameChangeClosed):
        decide_name_change(request=request, approve=False, reason="Late", actor=sara, staff=True)
    assert NameChangeRequest.objects.get().status == NameChangeStatus.APPROVED


def test_only_other_staff_decide(alice: User, sara: User, programs: None) -> None:
    certify(sara)
    own = asked(sara, first="Sara", last="Okafor-Smith")
    with pytest.raises(CertificateError, match="Another staff member"):
        decide_name_change(request=own, approve=True, reason="Mine", actor=sara, staff=True)
    certify(alice)
    theirs = asked(alice)
    with pytest.raises(CertificateError, match="Only program staff"):
        decide_name_change(request=theirs, approve=True, reason="Please", actor=alice, staff=False)
    url = reverse("certificates:staff_name_change_decide", args=[theirs.pk])
    assert client_for(alice).post(url, {"decision": "approve", "reason": "Please"}).status_code == 403
    assert client_for(alice).get(QUEUE).status_code == 403
    theirs.refresh_from_db()
    assert theirs.is_pending


def test_the_database_keeps_a_decision_explained(alice: User, programs: None) -> None:
    certify(alice)
    request = asked(alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        NameChangeRequest.objects.filter(pk=request.pk).update(status=NameChangeStatus.APPROVED)


def test_the_certificates_page_links_to_the_request(alice: User, programs: None) -> None:
    certify(alice)
    page = client_for(alice).get(reverse("certificates:mine")).content.decode()
    assert PAGE in page and "<strong>Alice Alvarez</strong>" in page


def test_a_renewal_after_an_approved_change_carries_the_new_name(
    alice: User, sara: User, programs: None
) -> None:
    qisp = certify(alice, issued_on=date(2026, 1, 15))
    decide_name_change(
        request=asked(alice), approve=True, reason="Certificate on file", actor=sara, staff=True, now=T0
    )
    qisp.refresh_from_db()
    renewal = issue_certificate(
        holder=alice,
        program=qisp.program,
        issued_on=date(2027, 12, 1),
        expires_on=add_years(qisp.expires_on or date(2028, 1, 15), 2),
        source=Source.RENEWAL,
        renews=qisp,
        notify=False,
    )
    assert renewal.holder_name == "Alice Moreno"


def test_the_holder_withdraws_a_waiting_request_and_may_ask_again(
    alice: User, eve: User, sara: User, programs: None
) -> None:
    certify(alice)
    request = asked(alice, last="Morneo")  # a typo in the request itself
    url = reverse("certificates:name_change_withdraw", args=[request.pk])
    assert client_for(eve).post(url).status_code == 404  # not hers: nothing learnt
    assert client_for(sara, mfa=True).post(url).status_code == 404  # staff decide; only the holder withdraws
    assert client_for(alice).get(url).status_code == 405
    holder = client_for(alice)
    page = holder.post(url, follow=True).content.decode()
    assert "Your request was withdrawn" in page and "You withdrew it on" in page
    request.refresh_from_db()
    assert request.status == NameChangeStatus.WITHDRAWN and request.withdrawn_at is not None
    assert AuditEvent.objects.filter(verb="certificates.name_change_withdrawn", actor=alice).count() == 1
    with pytest.raises(NameChangeClosed, match="already withdrawn"):
        decide_name_change(request=request, approve=True, reason="Late", actor=sara, staff=True)
    again = holder.post(url, follow=True).content.decode()
    assert "already withdrawn; there is nothing to withdraw" in again
    assert asked(alice).is_pending  # the corrected one
    assert Certificate.objects.get().holder_name == "Alice Alvarez"


def test_the_person_record_shows_the_certified_name_and_the_requests(
    alice: User, sara: User, programs: None
) -> None:
    certify(alice)
    request = asked(alice)
    page = client_for(sara, mfa=True).get(reverse("backoffice:person", args=[alice.pk])).content.decode()
    assert "<td>Alice Alvarez</td>" in page and "Alice Alvarez → Alice Moreno" in page
    assert f"{QUEUE}#request-{request.pk}" in page
    assert "certificates.name_change_requested" in page  # the request is in the person's history
