"""The directory, its exports, verification and the API per program: `program=CODE` narrows
them, every answer names the certificate's program, and an unknown code is refused in words."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.test import Client

from stormcert.accounts.models import User
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db


@pytest.fixture
def holders(alice: User, tom: User, programs: None) -> None:
    certify(alice, issued_on=date(2026, 1, 15))
    certify(tom, issued_on=date(2026, 2, 1))
    certify(tom, program="IGP-TOR", issued_on=date(2026, 7, 1), years=1)


def _body(response: object) -> str:
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


def test_the_exports_take_a_program(holders: None, client: Client) -> None:
    response = client.get("/directory/export.csv", {"program": "IGP-TOR"})
    assert response["Content-Disposition"] == 'attachment; filename="qualification-directory-IGP-TOR.csv"'
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [(r["name"], r["program"], r["program_code"]) for r in rows] == [
        ("Tom Nguyen", "IGP ToR", "IGP-TOR")
    ]

    every = list(csv.DictReader(io.StringIO(_body(client.get("/directory/export.csv")))))
    assert sorted(r["program_code"] for r in every) == ["IGP-TOR", "QISP", "QISP"]

    body = json.loads(_body(client.get("/directory/export.json", {"program": "QISP"})))
    assert {e["program_code"] for e in body["entries"]} == {"QISP"} and len(body["entries"]) == 2


def test_an_export_of_an_unknown_program_is_refused_in_words(holders: None, client: Client) -> None:
    for url in ("/directory/export.csv", "/directory/export.json"):
        response = client.get(url, {"program": "NOPE"})
        assert response.status_code == 400
        assert (
            "No public program has the code 'NOPE'; the codes are: QISP, IGP-TOR."
            in response.content.decode()
        )


def test_the_page_filters_by_program_and_offers_that_programs_export(holders: None, client: Client) -> None:
    body = client.get("/directory/", {"program": "IGP-TOR"}).content.decode()
    assert "Tom Nguyen" in body and "Alice Alvarez" not in body
    assert "<td>IGP ToR</td>" in body
    assert (
        "/directory/export.csv?program=IGP-TOR" in body and "/directory/export.json?program=IGP-TOR" in body
    )
    unknown = client.get("/directory/", {"program": "NOPE"})
    assert unknown.status_code == 400 and "Select a valid choice." in unknown.content.decode()


def test_the_api_directory_takes_and_returns_the_program(holders: None, client: Client) -> None:
    body = client.get("/api/directory", {"program": "IGP-TOR"}).json()
    assert body["program"] == "IGP-TOR" and body["count"] == 1
    [entry] = body["results"]
    assert (entry["name"], entry["program"], entry["program_code"]) == ("Tom Nguyen", "IGP ToR", "IGP-TOR")
    assert client.get("/api/directory").json()["program"] == ""

    refused = client.get("/api/directory", {"program": "NOPE"})
    assert refused.status_code == 400
    assert "program must be the code of a public program: QISP, IGP-TOR." in refused.content.decode()


def test_verification_names_the_certificates_program(holders: None, client: Client) -> None:
    body = client.get("/api/verify/QISP-2026-00001").json()
    assert (body["program"], body["program_code"]) == ("QISP", "QISP")
    page = client.get("/verify/QISP-2026-00001/").content.decode()
    assert "<dt>Program</dt><dd>QISP</dd>" in page
