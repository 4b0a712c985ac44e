"""Claiming imported records (email link, staff-approved request) and merging accounts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for, make_person
from stormcert.accounts import claims
from stormcert.accounts.merge import KEEP, MergeError, links_to_move, merge_accounts, user_links
from stormcert.accounts.models import ClaimRequest, ClaimStatus, LegacyRecord, User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import get_enrollment
from stormcert.payments.models import Order
from stormcert.programs.models import Program
from tests.backoffice.builders import import_file, legacy_csv
from tests.certificates.builders import certify
from tests.exams.conftest import T0, ready_for_midterm

pytestmark = pytest.mark.django_db

ROWS = (
    "Maria Garcia,mgarcia@old.example.org,OWP-000123,QISP,2025-03-14,2027-03-14,active,",
    "Maria Garcia,mgarcia@old.example.org,OWP-000077,QISP,2023-03-14,2025-03-14,expired,",
    "Other Person,other@old.example.org,OWP-000999,QISP,2025-01-01,2027-01-01,active,",
)


@pytest.fixture
def imported(programs: None, sara: User) -> None:
    import_file(sara, legacy_csv(*ROWS))


@pytest.fixture
def maria(db: None) -> User:
    return make_person("maria@newmail.example.com", first_name="Maria", last_name="Garcia")


def ask_for_link(client: Client, number: str, email: str) -> str:
    response = client.post(
        reverse("accounts:claim"),
        {"action": "link", "link-certificate_number": number, "link-email_on_file": email},
        follow=True,
    )
    return response.content.decode()


def link_in_outbox(to: str) -> str:
    message = OutboundEmail.objects.filter(to=to, template="accounts/email/claim_link").latest("id")
    return next(w for w in message.body_text.split() if "/account/claim/confirm/" in w)


# --- Claim by email link --------------------------------------------------------------------------


def test_a_claim_link_goes_to_the_address_on_file_and_joins_the_records(imported: None, maria: User) -> None:
    client = client_for(maria)
    page = ask_for_link(client, "OWP-000123", "MGarcia@old.example.org")
    assert "a link is on its way to" in page
    url = link_in_outbox("mgarcia@old.example.org")
    path = url.split("example.org", 1)[-1] if url.startswith("http") else url
    path = path[path.index("/account/") :]
    confirm = client.get(path).content.decode()
    assert "OWP-000123" in confirm and "OWP-000077" in confirm  # both imported for that address
    assert "OWP-000999" not in confirm
    client.post(path)
    numbers = set(Certificate.objects.filter(holder=maria).values_list("number", flat=True))
    assert numbers == {"OWP-000123", "OWP-000077"}
    assert LegacyRecord.objects.filter(holder=maria, claimed_at__isnull=False).count() == 2
    placeholder = User.objects.get(merged_into=maria)
    assert placeholder.placeholder and not placeholder.is_active
    # The directory shows the account's name now, and the claimant sees the records.
    assert Certificate.objects.get(number="OWP-000123").holder_name == "Maria Garcia"
    assert "OWP-000123" in client.get(reverse("accounts:claim")).content.decode()
    assert AuditEvent.objects.filter(verb="legacy.claimed", object_id=str(maria.pk)).exists()
    # A second click changes nothing and says so.
    again = client.post(path)
    assert again.status_code == 400 and b"already claimed" in again.content


def test_a_wrong_address_sends_nothing_and_says_the_same(imported: None, maria: User) -> None:
    page = ask_for_link(client_for(maria), "OWP-000123", "someone@else.example.com")
    assert "a link is on its way to" in page
    assert not OutboundEmail.objects.filter(template="accounts/email/claim_link").exists()
    assert AuditEvent.objects.filter(verb="legacy.claim_link_refused").exists()


def test_the_link_works_only_for_the_account_that_asked_and_only_for_three_days(
    imported: None, maria: User, alice: User
) -> None:
    record = LegacyRecord.objects.get(certificate_number="OWP-000123")
    token = claims.make_link_token(record, maria)
    path = reverse("accounts:claim_confirm", args=[token])
    other = client_for(alice).get(path)
    assert other.status_code == 400 and b"sent for another account" in other.content
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        late = client_for(maria).get(path)
    assert late.status_code == 400 and b"expired" in late.content
    forged = client_for(maria).get(reverse("accounts:claim_confirm", args=[token[:-2] + "xx"]))
    assert forged.status_code == 400 and b"not valid" in forged.content
    assert Certificate.objects.get(number="OWP-000123").holder.placeholder


def test_claim_links_are_rate_limited(imported: None, maria: User) -> None:
    client = client_for(maria)
    for _ in range(10):
        ask_for_link(client, "OWP-000123", "wrong@example.com")
    response = client.post(
        reverse("accounts:claim"),
        {"action": "link", "link-certificate_number": "OWP-000123", "link-email_on_file": "x@example.com"},
    )
    assert response.status_code == 429 and b"Too many requests" in response.content
    assert b'value="OWP-000123"' in response.content  # what was typed is kept


def test_signing_salt_is_specific_to_claims(imported: None, maria: User) -> None:
    record = LegacyRecord.objects.get(certificate_number="OWP-000123")
    other = signing.dumps({"r": record.pk, "u": maria.pk}, compress=True)  # default salt
    with pytest.raises(claims.ClaimError, match="not valid"):
        claims.record_for_token(token=other, claimant=maria)


# --- Claim by request, decided by staff -----------------------------------------------------------


def test_staff_approve_a_request_and_the_records_join(imported: None, maria: User, sara: User) -> None:
    client = client_for(maria)
    client.post(
        reverse("accounts:claim"),
        {"action": "ask", "ask-certificate_number": "OWP-000123", "ask-explanation": "Old job address."},
    )
    claim = ClaimRequest.objects.get(requester=maria)
    assert claim.record is not None and claim.record.certificate_number == "OWP-000123"
    again = client.post(
        reverse("accounts:claim"),
        {"action": "ask", "ask-certificate_number": "OWP-000123", "ask-explanation": "Again."},
    )
    assert again.status_code == 400 and b"already have a request waiting" in again.content

    staff = client_for(sara, mfa=True)
    queue = staff.get(reverse("backoffice:claims")).content.decode()
    assert "Old job address." in queue and "OWP-000123" in queue
    # ?program=CODE keeps the claims whose matching record is of that program.
    of_qisp = staff.get(reverse("backoffice:claims"), {"program": "QISP"}).content.decode()
    assert "Old job address." in of_qisp and '<option value="QISP" selected>' in of_qisp
    of_tor = staff.get(reverse("backoffice:claims"), {"program": "IGP-TOR"}).content.decode()
    assert "Old job address." not in of_tor and "No claims are waiting." in of_tor
    decide = reverse("backoffice:claim_decide", args=[claim.pk])
    no_reason = staff.post(decide, {f"c{claim.pk}-decision": "approve", f"c{claim.pk}-record": "OWP-000123"})
    assert no_reason.status_code == 400
    staff.post(
        decide,
        {
            f"c{claim.pk}-decision": "approve",
            f"c{claim.pk}-record": "OWP-000123",
            f"c{claim.pk}-reason": "ID seen.",
        },
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED and claim.decided_by == sara
    assert Certificate.objects.filter(holder=maria).count() == 2
    mail = OutboundEmail.objects.get(template="accounts/email/claim_decided")
    assert mail.to == maria.email and "OWP-000123" in mail.body_text
    # Deciding twice decides once.
    with pytest.raises(claims.ClaimError, match="already decided"):
        claims.decide_claim(claim=claim, approve=False, reason="oops", actor=sara)


def test_staff_decline_with_a_reason_and_nothing_moves(imported: None, maria: User, sara: User) -> None:
    claim = claims.request_claim(
        requester=maria, certificate_number="OWP-000999", email_on_file="", explanation="It is me."
    )
    claims.decide_claim(claim=claim, approve=False, reason="The name on file differs.", actor=sara)
    assert Certificate.objects.get(number="OWP-000999").holder.placeholder
    mail = OutboundEmail.objects.get(template="accounts/email/claim_decided")
    assert "could not approve" in mail.body_text and "The name on file differs." in mail.body_text


def test_only_staff_see_and_decide_claims(imported: None, maria: User) -> None:
    claim = claims.request_claim(
        requester=maria, certificate_number="OWP-000123", email_on_file="", explanation="x"
    )
    client = client_for(maria)
    assert client.get(reverse("backoffice:claims")).status_code == 403
    response = client.post(reverse("backoffice:claim_decide", args=[claim.pk]), {})
    assert response.status_code == 403


# --- Merging accounts ------------------------------------------------------------------------------


def test_every_link_to_a_person_is_either_moved_or_kept_on_purpose() -> None:
    links = {(m._meta.label, f.name) for m, f in user_links()}
    moved = {(m._meta.label, f.name) for m, f in links_to_move()}
    assert links >= KEEP, f"KEEP names links that no longer exist: {KEEP - links}"
    assert moved == links - KEEP
    assert ("payments.Order", "user") in moved and ("certificates.Certificate", "holder") in moved


def test_merge_moves_everything_and_closes_the_duplicate(programs: None, alice: User, sara: User) -> None:
    duplicate = make_person("alice.work@example.com", first_name="Alice", last_name="Alvarez")
    ready_for_midterm(duplicate, T0)  # registered and paid on the duplicate
    certify(duplicate, program="QISP", issued_on=date(2026, 1, 15))
    program = Program.objects.get(code="QISP")
    get_enrollment(user=alice, program=program)  # alice visited her dashboard: an empty enrollment
    summary = merge_accounts(source=duplicate, target=alice, actor=sara, reason="Same person, two emails.")
    assert Order.objects.filter(user=alice).count() == 1
    assert Certificate.objects.filter(holder=alice).count() == 1
    assert Enrollment.objects.get(user=alice).window_start is not None
    assert summary.resolved == {"empty enrollments dropped": 1}
    duplicate.refresh_from_db()
    assert not duplicate.is_active and duplicate.merged_into == alice
    assert not Client().login(username="alice.work@example.com", password="correct-horse-battery-staple")
    event = AuditEvent.objects.get(verb="account.merged")
    assert event.reason == "Same person, two emails." and event.data["source"] == "alice.work@example.com"


def test_two_enrollments_with_progress_stop_the_merge_and_nothing_moves(
    programs: None, alice: User, sara: User
) -> None:
    duplicate = make_person("alice.work@example.com")
    ready_for_midterm(duplicate, T0)
    ready_for_midterm(alice, T0)
    with pytest.raises(MergeError, match="Both accounts have progress in QISP"):
        merge_accounts(source=duplicate, target=alice, actor=sara, reason="dup")
    assert Order.objects.filter(user=duplicate).count() == 1
    duplicate.refresh_from_db()
    assert duplicate.is_active


def test_merge_refusals(programs: None, alice: User, sara: User) -> None:
    with pytest.raises(MergeError, match="two different accounts"):
        merge_accounts(source=alice, target=alice, actor=sara, reason="x")
    with pytest.raises(MergeError, match="staff account cannot be merged"):
        merge_accounts(source=sara, target=alice, actor=sara, reason="x")
    with pytest.raises(MergeError, match="Give a reason"):
        merge_accounts(source=make_person("b@example.com"), target=alice, actor=sara, reason=" ")


def test_a_claimed_certificate_near_expiry_can_be_renewed(programs: None, sara: User, maria: User) -> None:
    """A legacy certificate joins the renewal cycle like any other once claimed."""
    from stormcert.programs.rules import program_today
    from tests.renewals.builders import make_review

    make_review()
    expires = program_today(Program.objects.get(code="QISP")) + timedelta(days=30)
    row = f"Maria Garcia,mgarcia@old.example.org,OWP-5,QISP,{expires.replace(year=expires.year - 2)},{expires},active,"
    import_file(sara, legacy_csv(row))
    claims.claim_record(
        record=LegacyRecord.objects.get(certificate_number="OWP-5"), claimant=maria, actor=maria, how="test"
    )
    page = client_for(maria).get(reverse("renewals:renewal")).content.decode()
    assert "OWP-5" in page and "Renewal is open." in page


def test_staff_merging_a_placeholder_by_hand_marks_its_records_claimed(
    imported: None, maria: User, sara: User
) -> None:
    placeholder = LegacyRecord.objects.get(certificate_number="OWP-000123").holder
    merge_accounts(source=placeholder, target=maria, actor=sara, reason="Phoned, ID checked.")
    assert set(LegacyRecord.objects.filter(holder=maria).values_list("certificate_number", flat=True)) == {
        "OWP-000123",
        "OWP-000077",
    }
    assert not LegacyRecord.objects.filter(holder=maria, claimed_at__isnull=True).exists()
