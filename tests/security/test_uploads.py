"""Every view that takes a PDF refuses a file that is not one, or is too big, and keeps nothing.

The views: a ToR applicant's documents, a candidate's accommodation request, a holder's name
change request, and the RFQ that staff attach to an application cycle (served to the public). stormcert/lib/uploads.check_pdf
judges the type from the content, not the name or the browser's content type.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.certificates.models import NameChangeRequest
from stormcert.exams.models import AccommodationRequest
from stormcert.trainers.models import ApplicationCycle, ApplicationDocument
from tests.certificates.builders import certify
from tests.trainers.builders import DURING, PDF, make_cycle, qisp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("programs")]

# What a browser would send: the right name and content type, the wrong content.
NOT_A_PDF = b"<html><script>alert(1)</script></html>"
TOO_BIG = PDF + b"%" + b"x" * 4096
LIMIT = 2048


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("document.pdf", content, content_type="application/pdf")


def tor_document(alice: User, sara: User, content: bytes) -> tuple[Any, Callable[[], int]]:
    make_cycle(sara)
    qisp(alice)
    with time_machine.travel(DURING, tick=False):
        client = client_for(alice)  # signed in during the cycle: a session from today would have expired
        client.post(reverse("trainers:apply", args=["IGP-TOR"]))
        response = client.post(
            reverse("trainers:upload", args=["IGP-TOR"]),
            {"label": "CV", "file": upload(content)},
            follow=True,
        )
    return response, ApplicationDocument.objects.count


def accommodation(alice: User, sara: User, content: bytes) -> tuple[Any, Callable[[], int]]:
    response = client_for(alice).post(
        reverse("exams:accommodation"),
        {"explanation": "Extra time, as my letter says.", "factor": "1.50", "document": upload(content)},
    )
    return response, AccommodationRequest.objects.count


def rfq(alice: User, sara: User, content: bytes) -> tuple[Any, Callable[[], int]]:
    response = client_for(sara, mfa=True).post(
        reverse("trainers:staff_new_cycle"),
        {
            "title": "2027 RFQ",
            "rfq_text": "Apply by June 1.",
            "rfq_document": upload(content),
            "opens_at": "2027-04-01T09:00",
            "closes_at": "2027-06-01T17:00",
            "notice_on": "2027-06-15",
            "criteria": "Experience | 3 | 5",
            "soq_fee": "300.00",
            "resubmittal_fee": "150.00",
        },
    )
    return response, ApplicationCycle.objects.count


def name_change(alice: User, sara: User, content: bytes) -> tuple[Any, Callable[[], int]]:
    certify(alice)
    response = client_for(alice).post(
        reverse("certificates:name_change"),
        {"first_name": "Alice", "last_name": "Moreno", "reason": "Married", "document": upload(content)},
    )
    return response, NameChangeRequest.objects.count


VIEWS = {
    "ToR application document": tor_document,
    "accommodation request": accommodation,
    "staff RFQ": rfq,
    "name change request": name_change,
}


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
@pytest.mark.parametrize(
    ("content", "message"),
    [(NOT_A_PDF, "Only PDF documents are accepted"), (TOO_BIG, "the limit is")],
    ids=["not a PDF", "too big"],
)
def test_a_bad_upload_is_refused_and_nothing_is_kept(
    view: Callable[..., tuple[Any, Callable[[], int]]],
    content: bytes,
    message: str,
    alice: User,
    sara: User,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_MAX_BYTES = LIMIT
    response, count = view(alice, sara, content)
    # The form again with the reason (some views answer 400 for a form with errors).
    assert response.status_code in (200, 400) and message in response.content.decode()
    assert count() == 0
    stored = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert stored == [], stored


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_a_good_pdf_is_kept(
    view: Callable[..., tuple[Any, Callable[[], int]]], alice: User, sara: User, settings: Any, tmp_path: Path
) -> None:
    # The same requests with a real PDF succeed: the refusals above are about the file alone.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_MAX_BYTES = LIMIT
    _, count = view(alice, sara, PDF)
    assert count() == 1


def test_the_public_rfq_is_served_sandboxed(sara: User, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    rfq(sara, sara, PDF)
    cycle = ApplicationCycle.objects.get()
    response = Client().get(reverse("trainers:rfq_document", args=["IGP-TOR", cycle.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Security-Policy"] == "sandbox" and response["X-Content-Type-Options"] == "nosniff"
    )
