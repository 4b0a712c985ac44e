"""The open-data export (CSV and JSON) lists every current entry and honours the opt-ins."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.test import Client

from stormcert.accounts.models import Profile, User
from stormcert.certificates.services import refresh_directory_entries
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(alice: User, tom: User, programs: None) -> None:
    Profile.objects.filter(user=alice).update(company="Bayside", city="Oakland", phone="510")
    Profile.objects.filter(user=tom).update(
        company="Nguyen Consulting", city="Sacramento", phone="916", show_contact_in_directory=True
    )
    refresh_directory_entries(tom)
    certify(alice, issued_on=date(2020, 1, 15))
    certify(tom, issued_on=date(2026, 2, 1))


def _body(response: object) -> str:
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


def test_csv_export(entries: None, client: Client) -> None:
    response = client.get("/directory/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(_body(response))))
    assert [r["name"] for r in table] == ["Alice Alvarez", "Tom Nguyen"]
    alice, tom = table
    assert alice["status"] == "expired" and alice["company"] == alice["phone"] == alice["email"] == ""
    assert (
        tom["status"] == "active"
        and tom["company"] == "Nguyen Consulting"
        and tom["email"] == "tom@example.com"
    )


def test_json_export(entries: None, client: Client) -> None:
    body = json.loads(_body(client.get("/directory/export.json")))
    assert body["fields"][:2] == ["name", "certificate_number"]
    alice, tom = body["entries"]
    assert alice["certificate_number"] == "QISP-2020-00001" and alice["city"] == ""
    assert tom["city"] == "Sacramento" and tom["expires_on"] == "2028-02-01"


def test_empty_export_is_valid_json(programs: None, client: Client) -> None:
    assert json.loads(_body(client.get("/directory/export.json")))["entries"] == []
