"""Verification by number: the page, the JSON API (one and many), the CSV upload."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from stormcert.accounts.models import User
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificates(alice: User, tom: User, programs: None) -> None:
    certify(alice, issued_on=date(2026, 1, 15))  # QISP-2026-00001, valid until 2028
    certify(tom, issued_on=date(2020, 5, 1))  # QISP-2020-00001, expired 2022


def test_the_page_answers_valid_expired_and_unknown(certificates: None, client: Client) -> None:
    valid = client.get("/verify/QISP-2026-00001/")
    assert valid.status_code == 200 and "Valid." in valid.content.decode()
    assert "January 15, 2028" in valid.content.decode()
    expired = client.get("/verify/QISP-2020-00001/").content.decode()
    assert "Expired" in expired and "May 1, 2022" in expired
    unknown = client.get("/verify/QISP-1999-99999/")
    assert unknown.status_code == 404 and "No certificate has the number" in unknown.content.decode()


def test_the_lookup_form_goes_to_the_page(certificates: None, client: Client) -> None:
    response = client.get("/verify/", {"number": " QISP-2026-00001 "})
    assert response.status_code == 302 and response["Location"] == "/verify/QISP-2026-00001/"
    assert client.get("/verify/").status_code == 200
    empty = client.get("/verify/", {"number": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()


@pytest.mark.parametrize("typed", ["QISP/2026", "../etc/passwd", "<script>alert(1)</script>", "QISP\\1"])
def test_the_lookup_form_refuses_what_no_number_is_written_with(
    certificates: None, client: Client, typed: str
) -> None:
    # A "/" could not be put into /verify/<number>/: NoReverseMatch, a 500 (found by the fuzz test).
    response = client.get("/verify/", {"number": typed})
    assert response.status_code == 400 and "No certificate is numbered like that" in response.content.decode()


def test_the_api_answers_one_number(certificates: None, client: Client) -> None:
    body = client.get("/api/verify/QISP-2026-00001").json()
    assert body == {
        "number": "QISP-2026-00001",
        "status": "valid",
        "holder": "Alice Alvarez",
        "program": "QISP",
        "program_code": "QISP",
        "issued_on": "2026-01-15",
        "expires_on": "2028-01-15",
        "revoked_on": None,
        "renewed_by": None,
        "ended_on": None,
        "end_reason": None,
    }
    assert client.get("/api/verify/NOPE-1").json()["status"] == "unknown"


def test_the_api_answers_a_batch_in_order(certificates: None, client: Client) -> None:
    response = client.post(
        "/api/verify",
        {"numbers": ["QISP-2020-00001", "nope", "QISP-2026-00001", " "]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert [(r["number"], r["status"]) for r in response.json()["results"]] == [
        ("QISP-2020-00001", "expired"),
        ("NOPE", "unknown"),  # answered in the canonical form
        ("QISP-2026-00001", "valid"),
    ]


def test_the_api_refuses_too_large_a_batch(certificates: None, client: Client, settings: object) -> None:
    settings.VERIFY_BATCH_MAX = 2  # type: ignore[attr-defined]
    response = client.post("/api/verify", {"numbers": ["a", "b", "c"]}, content_type="application/json")
    assert response.status_code == 400 and "at most 2 per request" in response.json()["detail"]


def test_the_csv_upload_returns_a_csv(certificates: None, client: Client) -> None:
    upload = SimpleUploadedFile(
        "numbers.csv", b"certificate_number\r\nQISP-2026-00001\r\n\r\nQISP-0000-0\r\nQISP-2020-00001\r\n"
    )
    response = client.post("/verify/batch/", {"file": upload})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["certificate_number"], r["status"]) for r in table] == [
        ("QISP-2026-00001", "valid"),
        ("QISP-0000-0", "unknown"),
        ("QISP-2020-00001", "expired"),
    ]
    assert table[0]["holder"] == "Alice Alvarez" and table[0]["expires_on"] == "2028-01-15"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty"),
        (b"number\r\n", "No certificate numbers found"),
        (b"\xff\xfe\x00Q", "not UTF-8"),
        # A cell over the csv module's field limit was a 500 (_csv.Error).
        (b"QISP-2026-00001\n" + b"Q" * 200_000 + b"\n", "Line 2: a cell is longer than 131,072"),
        (b'QISP-2026-00001\n"QISP-2026-00002\n' + b"x" * 140_000, "Line 2: a cell is longer than"),
        (b"QISP-2026-00001\nQISP\x00-1\n", "Line 2: this row holds a NUL character"),
    ],
)
def test_a_bad_upload_says_why(certificates: None, client: Client, content: bytes, message: str) -> None:
    response = client.post("/verify/batch/", {"file": SimpleUploadedFile("n.csv", content)})
    assert response.status_code == 400 and message in response.content.decode()


def test_an_upload_over_the_limit_says_so(certificates: None, client: Client, settings: object) -> None:
    settings.VERIFY_BATCH_MAX = 2  # type: ignore[attr-defined]
    response = client.post("/verify/batch/", {"file": SimpleUploadedFile("n.csv", b"A-1\nA-2\nA-3\n")})
    assert response.status_code == 400 and "at most 2 can be checked" in response.content.decode()


def test_the_openapi_document_describes_the_api(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/verify/{number}", "/api/verify", "/api/directory"} <= set(schema["paths"])
    assert "429" in schema["paths"]["/api/verify/{number}"]["get"]["responses"]
