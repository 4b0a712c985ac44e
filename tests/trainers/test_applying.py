"""Applying: QISP holders only, within the cycle, fee then statement then documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.payments.models import Order
from stormcert.programs.models import Fee
from stormcert.trainers.applications import (
    add_document,
    assign_reviewer,
    declare_conflict,
    save_draft,
    start_application,
    start_fee_payment,
    submit_application,
)
from stormcert.trainers.models import ApplicationStatus
from stormcert.trainers.services import TrainerError
from tests.trainers.builders import (
    ANSWERS,
    CLOSES,
    DURING,
    OPENS,
    make_cycle,
    pdf,
    qisp,
    reviewer,
    scored,
    submitted,
)

pytestmark = pytest.mark.django_db


def test_only_qisp_holders_apply_within_the_cycle(programs: None, alice: User, sara: User) -> None:
    cycle = make_cycle(sara)
    with pytest.raises(TrainerError, match="active QISP certificate"):
        start_application(user=alice, cycle=cycle, now=DURING)
    qisp(alice)
    with pytest.raises(TrainerError, match="Applications open on April 1, 2027"):
        start_application(user=alice, cycle=cycle, now=OPENS - timedelta(seconds=1))
    with pytest.raises(TrainerError, match="Applications closed on June 1, 2027 at 5:00 PM PDT"):
        start_application(user=alice, cycle=cycle, now=CLOSES)
    application = start_application(user=alice, cycle=cycle, now=DURING)
    assert application.qisp_number and application.fee_code == "soq"


def test_opening_a_cycle_sets_its_fees_as_program_data(programs: None, sara: User) -> None:
    from decimal import Decimal

    make_cycle(sara, soq_fee=Decimal("325.00"))
    fee = Fee.objects.get(code="soq", effective_from=OPENS.date())
    assert fee.amount == Decimal("325.00") and not fee.refundable
    assert AuditEvent.objects.filter(verb="trainers.cycle_opened").exists()
    with pytest.raises(TrainerError, match="lower one"):
        make_cycle(sara, soq_fee=Decimal("100.00"), resubmittal_fee=Decimal("150.00"))


def test_earlier_unselected_applicants_pay_the_resubmittal_fee(
    programs: None, alice: User, sara: User
) -> None:
    from stormcert.trainers.applications import decide

    first = make_cycle(sara)
    decide(
        application=scored(submitted(qisp(alice), first)),
        selected=False,
        actor=sara,
        reason="Too few hours",
        now=CLOSES,
    )
    autumn = OPENS.replace(month=9)
    later = make_cycle(
        sara,
        title="Autumn 2027 RFQ",
        opens_at=autumn,
        closes_at=autumn + timedelta(days=30),
        notice_on=(autumn + timedelta(days=45)).date(),
        now=autumn - timedelta(days=30),
    )
    application = start_application(user=alice, cycle=later, now=autumn)
    assert application.fee_code == "soq_resubmittal"
    order = start_fee_payment(application=application, now=autumn)
    assert order.total == 150


def test_submission_lists_what_is_missing_and_drafts_keep_answers(
    programs: None, alice: User, sara: User
) -> None:
    cycle = make_cycle(sara)
    application = start_application(user=qisp(alice), cycle=cycle, now=DURING)
    save_draft(application=application, answers={"experience": "Ten years"}, now=DURING)
    with pytest.raises(TrainerError) as problem:
        submit_application(application=application, now=DURING)
    message = str(problem.value)
    assert "pay the SOQ submittal fee" in message and "upload at least one document" in message
    application.refresh_from_db()
    assert application.experience == "Ten years"


def test_late_submissions_are_refused_with_the_deadline(programs: None, alice: User, sara: User) -> None:
    cycle = make_cycle(sara)
    application = start_application(user=qisp(alice), cycle=cycle, now=DURING)
    with pytest.raises(
        TrainerError, match="deadline has passed: applications closed on June 1, 2027 at 5:00 PM"
    ):
        save_draft(application=application, answers=ANSWERS, now=CLOSES)
    with pytest.raises(TrainerError, match="deadline has passed"):
        submit_application(application=application, now=CLOSES + timedelta(seconds=1))


def test_uploads_must_be_pdf_and_small(programs: None, alice: User, sara: User) -> None:
    cycle = make_cycle(sara)
    application = start_application(user=qisp(alice), cycle=cycle, now=DURING)
    with pytest.raises(TrainerError, match="Only PDF documents"):
        add_document(
            application=application, label="CV", upload=pdf("cv.pdf", b"<html>not a pdf</html>"), now=DURING
        )
    with override_settings(UPLOAD_MAX_BYTES=1024), pytest.raises(TrainerError, match="the limit is"):
        add_document(
            application=application, label="CV", upload=pdf(content=b"%PDF-" + b"x" * 2048), now=DURING
        )
    document = add_document(application=application, label="CV", upload=pdf(), now=DURING)
    # Stored under a random name, not the applicant's.
    assert "resume" not in document.file.name and document.file.name.endswith(".pdf")
    assert len(document.sha256) == 64


def test_the_soq_fee_is_paid_once(programs: None, alice: User, sara: User) -> None:
    application = submitted(qisp(alice), make_cycle(sara))
    assert application.paid_at is not None and application.status == ApplicationStatus.SUBMITTED
    assert Order.objects.filter(user=alice).count() == 1
    with pytest.raises(TrainerError, match="already paid"):
        start_fee_payment(application=application, now=DURING)


def test_an_applicant_cannot_read_another_applicants_documents(
    programs: None, alice: User, eve: User, sara: User
) -> None:
    cycle = make_cycle(sara)
    mine = submitted(qisp(alice), cycle)
    submitted(qisp(eve), cycle)
    url = reverse("trainers:document", args=["IGP-TOR", mine.documents.get().pk])
    assert client_for(alice).get(url).status_code == 200
    assert client_for(eve).get(url).status_code == 404
    assert client_for(sara, mfa=True).get(url).status_code == 200
    assert client_for(make_person("x@example.com")).get(url).status_code == 404
    anonymous = client_for(make_person("y@example.com"))
    anonymous.logout()
    assert anonymous.get(url).status_code == 302
    # A reviewer reads it once they declare no conflict; one with a conflict never does.
    clean, conflicted = reviewer(make_person("r1@example.com")), reviewer(make_person("r2@example.com"))
    a1 = assign_reviewer(application=mine, reviewer=clean, actor=sara, now=CLOSES)
    a2 = assign_reviewer(application=mine, reviewer=conflicted, actor=sara, now=CLOSES)
    assert client_for(clean).get(url).status_code == 404
    declare_conflict(assignment=a1, conflict=False, note="", now=CLOSES)
    declare_conflict(assignment=a2, conflict=True, note="Former colleague", now=CLOSES)
    response = client_for(clean).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"] == "sandbox"
    assert client_for(conflicted).get(url).status_code == 404


def test_the_application_page_saves_a_draft_and_reports_upload_problems(
    programs: None, alice: User, sara: User
) -> None:
    import time_machine

    make_cycle(sara)
    qisp(alice)
    with time_machine.travel(DURING, tick=False):
        client = client_for(alice)
        client.post(reverse("trainers:apply", args=["IGP-TOR"]))
        page = client.post(
            reverse("trainers:application", args=["IGP-TOR"]),
            {"save": "1", "experience": "Eight years"},
            follow=True,
        )
        assert "Draft saved." in page.content.decode() and "Eight years" in page.content.decode()
        bad = client.post(
            reverse("trainers:upload", args=["IGP-TOR"]),
            {"label": "CV", "file": pdf("cv.pdf", b"GIF89a")},
            follow=True,
        )
        assert "Only PDF documents are accepted" in bad.content.decode()
        refused = client.post(
            reverse("trainers:application", args=["IGP-TOR"]), {"submit": "1", "experience": "Eight years"}
        )
        body = refused.content.decode()
        assert "This field is required" in body and "Eight years" in body
