"""The self-directed route for licensed professionals: a candidate applies with a license and a
PDF, staff approve (the route recorded, the certificate issued) or refuse, with a reason; the
license kinds and the state are the program's rules; pages and who may open them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.backoffice.rules_forms import RuleVersionForm, field_name
from stormcert.certificates.models import Certificate, Source
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.journey import Overall
from stormcert.enrollments.models import ApplicationStatus, Enrollment, Route, SelfDirectedApplication
from stormcert.enrollments.self_directed import (
    ApplicationClosed,
    apply_self_directed,
    decide_self_directed,
    route_offer,
)
from stormcert.enrollments.services import JourneyError, journey_for
from stormcert.programs.definitions import DEFINITIONS_DIR, load_definition_file
from stormcert.programs.editing import value_text
from stormcert.programs.models import Program
from stormcert.programs.policy import KEY_TEMPLATES, PolicyError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("programs")]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
T0 = datetime.fromisoformat("2026-03-02T18:00:00+00:00")


def pdf(name: str = "license.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def qisp() -> Program:
    return Program.objects.get(code="QISP")


def apply(user: User, **changes: Any) -> SelfDirectedApplication:
    fields: dict[str, Any] = {
        "user": user,
        "program": qisp(),
        "license_type": "PE-civil",
        "license_number": "C 81234",
        "license_state": "California",
        "document": pdf(),
        "now": T0,
    }
    return apply_self_directed(**(fields | changes))


# --- The rules ----------------------------------------------------------------------------------


def test_the_route_is_the_programs_rules(alice: User) -> None:
    offer = route_offer(user=alice, program=qisp(), now=T0)
    assert offer is not None and offer.state == "California"
    assert [k.code for k in offer.kinds] == [
        "PE-civil",
        "PE-industrial",
        "PE-chemical",
        "PE-mechanical",
        "PG",
    ]
    assert offer.label_of("PG") == "Professional Geologist"
    # The sister program's rules list no license kinds: it has no such route.
    load_definition_file(DEFINITIONS_DIR / "cgp.toml")
    assert route_offer(user=alice, program=Program.objects.get(code="QSD"), now=T0) is None


# --- Applying -------------------------------------------------------------------------------------


def test_apply_keeps_the_license_and_document_and_tells_the_candidate(alice: User) -> None:
    application = apply(alice)
    assert application.status == ApplicationStatus.PENDING
    assert (application.license_label, application.license_state) == (
        "Professional Engineer, civil",
        "California",
    )
    assert application.document_name == "license.pdf" and len(application.document_sha256) == 64
    assert application.document.read() == PDF
    event = AuditEvent.objects.get(verb="enrollment.self_directed_applied")
    assert event.actor == alice and event.data["license_number"] == "C 81234"
    email = OutboundEmail.objects.get(template="enrollments/email/self_directed_received")
    assert email.to == alice.email and "/qualification/QISP/" in email.body_text
    # Applying writes no enrollment: the route is recorded only when staff approve.
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"license_state": "Nevada"}, "open only to professionals registered in California"),
        ({"license_type": "PE-electrical"}, "Choose the kind of license you hold"),
        ({"license_number": "  "}, "Give your license number"),
        ({"document": None}, "Attach a PDF"),
        ({"document": pdf("license.pdf", b"GIF89a not a pdf")}, "Only PDF documents are accepted"),
    ],
)
def test_apply_refuses_with_the_reason(alice: User, changes: dict[str, Any], words: str) -> None:
    with pytest.raises(JourneyError, match=words):
        apply(alice, **changes)
    assert not SelfDirectedApplication.objects.exists()


def test_one_application_waits_at_a_time_and_a_qualified_person_has_nothing_to_apply_for(
    alice: User, sara: User
) -> None:
    apply(alice)
    with pytest.raises(JourneyError, match="already have an application waiting"):
        apply(alice)
    decide_self_directed(
        application=SelfDirectedApplication.objects.get(),
        approve=True,
        reason="License verified on the board's site.",
        actor=sara,
        staff=True,
        now=T0,
    )
    with pytest.raises(JourneyError, match="already qualified"):
        apply(alice)


def test_a_program_without_the_route_refuses_applications(alice: User) -> None:
    load_definition_file(DEFINITIONS_DIR / "cgp.toml")
    with pytest.raises(JourneyError, match="has no self-directed route"):
        apply(alice, program=Program.objects.get(code="QSD"))


# --- Deciding -------------------------------------------------------------------------------------


def test_approval_records_the_route_and_issues_the_certificate(alice: User, sara: User) -> None:
    application = apply(alice)
    decided = decide_self_directed(
        application=application, approve=True, reason="License verified.", actor=sara, staff=True, now=T0
    )
    assert decided.status == ApplicationStatus.APPROVED and decided.decided_by == sara
    enrollment = Enrollment.objects.get(user=alice, program=qisp())
    assert enrollment.route == Route.SELF_DIRECTED and enrollment.completed_at == T0
    assert (enrollment.license_type, enrollment.license_number) == ("PE-civil", "C 81234")
    certificate = Certificate.objects.get(holder=alice)
    assert certificate.source == Source.SELF_DIRECTED
    # No fee and no exams: the journey is complete by the route.
    assert journey_for(enrollment, T0).overall == Overall.COMPLETE
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"enrollment.self_directed_recorded", "enrollment.self_directed_approved"} <= verbs
    email = OutboundEmail.objects.get(template="enrollments/email/self_directed_approved")
    assert certificate.number in email.body_text and "/certificates/" in email.body_text
    assert "License verified." in email.body_text


def test_refusal_tells_the_reason_and_the_way_to_apply_again(alice: User, sara: User) -> None:
    application = apply(alice)
    decide_self_directed(
        application=application,
        approve=False,
        reason="The number is not on the board's register.",
        actor=sara,
        staff=True,
        now=T0,
    )
    assert not Enrollment.objects.exists() and not Certificate.objects.exists()
    email = OutboundEmail.objects.get(template="enrollments/email/self_directed_refused")
    assert "not on the board's register" in email.body_text
    assert "/qualification/QISP/self-directed/" in email.body_text
    event = AuditEvent.objects.get(verb="enrollment.self_directed_refused")
    assert event.reason == "The number is not on the board's register."
    # Refused, they may apply again (with a corrected number).
    assert apply(alice, license_number="C 81235").is_pending


def test_a_decision_needs_staff_a_reason_another_person_and_happens_once(alice: User, sara: User) -> None:
    application = apply(alice)
    with pytest.raises(JourneyError, match="Only program staff"):
        decide_self_directed(application=application, approve=True, reason="ok", actor=sara, staff=False)
    with pytest.raises(JourneyError, match="Give the reason"):
        decide_self_directed(application=application, approve=True, reason="  ", actor=sara, staff=True)
    with pytest.raises(JourneyError, match="Another staff member"):
        decide_self_directed(application=application, approve=True, reason="mine", actor=alice, staff=True)
    decide_self_directed(application=application, approve=False, reason="No.", actor=sara, staff=True)
    with pytest.raises(ApplicationClosed, match="already refused by sara@example.com"):
        decide_self_directed(application=application, approve=True, reason="Yes.", actor=sara, staff=True)


# --- Pages ----------------------------------------------------------------------------------------


def _post(client: Client, **changes: Any) -> Any:
    data: dict[str, Any] = {
        "license_type": "PE-mechanical",
        "license_number": "M 4521",
        "license_state": "California",
        "document": pdf(),
    }
    return client.post(reverse("enrollments:self_directed", args=["QISP"]), data | changes)


def test_the_qualification_page_explains_the_route_and_links_to_it(alice_client: Client) -> None:
    page = alice_client.get(reverse("enrollments:qualification", args=["QISP"])).content.decode()
    assert "The self-directed route" in page and "Professional Geologist" in page
    assert reverse("enrollments:self_directed", args=["QISP"]) in page


def test_a_program_without_the_route_shows_nothing_of_it(alice_client: Client) -> None:
    load_definition_file(DEFINITIONS_DIR / "cgp.toml")
    page = alice_client.get(reverse("enrollments:qualification", args=["QSD"])).content.decode()
    assert "self-directed" not in page.lower()
    assert alice_client.get(reverse("enrollments:self_directed", args=["QSD"])).status_code == 404


def test_apply_page_refuses_another_state_and_keeps_what_was_typed(alice_client: Client) -> None:
    page = alice_client.get(reverse("enrollments:self_directed", args=["QISP"])).content.decode()
    assert "Professional Engineer, chemical" in page and "Another state or country" in page
    refused = _post(alice_client, license_state="other")
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "open only to professionals registered in California" in body
    assert 'value="M 4521"' in body and not SelfDirectedApplication.objects.exists()
    not_pdf = _post(alice_client, document=pdf("scan.pdf", b"\x89PNG"))
    assert not_pdf.status_code == 400 and "Only PDF documents are accepted" in not_pdf.content.decode()


def test_apply_then_see_the_status_on_the_qualification_page(alice_client: Client) -> None:
    sent = _post(alice_client)
    assert sent.status_code == 302 and sent["Location"] == reverse("enrollments:qualification", args=["QISP"])
    page = alice_client.get(sent["Location"]).content.decode()
    assert "Waiting for a decision" in page and "Your application was sent" in page
    again = alice_client.get(reverse("enrollments:self_directed", args=["QISP"])).content.decode()
    assert "is waiting for a decision" in again and "Send the application" not in again


def test_the_document_is_for_its_owner_and_staff_only(alice: User, eve: User, sara: User) -> None:
    application = apply(alice)
    url = reverse("enrollments:self_directed_document", args=[application.pk])
    mine = client_for(alice).get(url)
    assert mine.status_code == 200 and mine["Content-Security-Policy"] == "sandbox"
    assert mine["X-Content-Type-Options"] == "nosniff"
    assert client_for(eve).get(url).status_code == 404
    # Staff without two-factor in this session have no staff powers: not found either.
    assert client_for(sara).get(url).status_code == 404
    assert client_for(sara, mfa=True).get(url).status_code == 200


def test_staff_queue_counts_on_staff_home_and_decides(alice: User, sara_client: Client) -> None:
    application = apply(alice)
    home = sara_client.get(reverse("staff_home")).content.decode()
    assert (
        reverse("enrollments:staff_self_directed_queue") in home
        and "self-directed route applications" in home
    )
    queue = sara_client.get(reverse("enrollments:staff_self_directed_queue")).content.decode()
    assert "C 81234" in queue and "Professional Engineer, civil" in queue
    decide = reverse("enrollments:staff_self_directed_decide", args=[application.pk])
    no_reason = sara_client.post(decide, {"decision": "approve", "reason": ""})
    assert no_reason.status_code == 400 and "Give the reason" in no_reason.content.decode()
    done = sara_client.post(decide, {"decision": "approve", "reason": "Verified."}, follow=True)
    assert "Approved: alice@example.com is qualified in QISP" in done.content.decode()
    assert Enrollment.objects.get(user=alice).route == Route.SELF_DIRECTED
    twice = sara_client.post(decide, {"decision": "refuse", "reason": "x"}, follow=True)
    assert "already approved" in twice.content.decode()


def test_candidates_and_staff_without_two_factor_cannot_decide(alice: User, eve: User, sara: User) -> None:
    application = apply(alice)
    decide = reverse("enrollments:staff_self_directed_decide", args=[application.pk])
    assert client_for(eve).get(reverse("enrollments:staff_self_directed_queue")).status_code == 403
    assert client_for(eve).post(decide, {"decision": "approve", "reason": "x"}).status_code == 403
    assert client_for(sara).post(decide, {"decision": "approve", "reason": "x"}).status_code == 302
    assert SelfDirectedApplication.objects.get().is_pending


def test_the_license_kinds_rule_is_checked_and_edited_as_code_label_pairs() -> None:
    spec = KEY_TEMPLATES["self_directed.license_types"]
    assert spec.check([{"code": "PG", "label": "Professional Geologist"}]) == [
        {"code": "PG", "label": "Professional Geologist"}
    ]
    for bad in (
        [],
        [{"code": "PG"}],
        [{"code": "X" * 21, "label": "Too long"}],
        [{"code": "A", "label": "a"}] * 2,
    ):
        with pytest.raises(PolicyError):
            spec.check(bad)
    form = RuleVersionForm(program=qisp())
    form.set_initial({"self_directed.license_types": [{"code": "PG", "label": "Professional Geologist"}]})
    name = field_name("self_directed.license_types")
    assert form.initial[name] == "PG: Professional Geologist"
    assert value_text(spec.check([{"code": "PG", "label": "Geologist"}]), spec) == "PG: Geologist"


def test_one_waiting_application_per_person_and_program_is_a_constraint(alice: User) -> None:
    from django.db import IntegrityError, transaction

    first = apply(alice)
    second = SelfDirectedApplication(
        user=alice,
        program=first.program,
        license_type="PG",
        license_label="Professional Geologist",
        license_number="PG 1",
        license_state="California",
        document_name="x.pdf",
        document_sha256="0" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
