"""Exports nobody can weaponise: every CSV stormcert writes goes through lib.csvsafe, and a value
a person typed that a spreadsheet would run as a formula comes out as text.

One test per export puts the payloads into the fields people control (their name, company, city
and phone with the directory opt-in; numbers in a batch upload; cells of an import file), plus the
helper's own rules, plus a guard that fails when a CSV writer appears anywhere else."""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import Profile, User
from stormcert.certificates.services import refresh_directory_entries
from stormcert.lib import csvsafe
from stormcert.lib.numbers import canonical_number
from tests.backoffice.builders import dry_run
from tests.backoffice.test_reports import NOW
from tests.certificates.builders import certify

PAYLOADS = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1+2", "\t=1+2", "\r=1+2"]
# Names go through get_full_name(), which trims: the payloads a name can start with.
NAME_PAYLOADS = [p for p in PAYLOADS if not p[0].isspace()]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_inert(rows: Iterable[list[str]]) -> None:
    """No cell of the file starts (after spaces) with what a spreadsheet would run."""
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(DANGEROUS), (cell, row)


# --- The helper -------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [*PAYLOADS, "\n=1", " =1+2", "\uff1d1+2", "-5"])
def test_text_that_would_run_gets_a_quote(payload: str) -> None:
    assert csvsafe.safe_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", ["Alice", "", "'=already quoted", "QISP-2026-00001", "1-800", "a=b"])
def test_other_text_is_left_alone(value: str) -> None:
    assert csvsafe.safe_cell(value) == value


def test_numbers_the_program_computed_stay_numbers() -> None:
    for number in (-5, Decimal("-15.00"), -0.5, 0, True):
        assert csvsafe.safe_cell(number) is number
    assert csvsafe.safe_cell(None) is None
    assert csvsafe.safe_cell(date(2026, 1, 2)) == "2026-01-02"
    out = io.StringIO()
    csvsafe.writer(out).writerow([Decimal("-15.00"), "-15.00", -3])
    # A figure passed as a number stays numeric; text is text even when it looks like one.
    assert out.getvalue() == "-15.00,'-15.00,-3\r\n"


def test_dict_writer_and_streaming() -> None:
    writer = csvsafe.dict_writer(csvsafe.Echo(), ["name", "n"])
    assert writer.writeheader() == "name,n\r\n"
    assert writer.writerow({"name": "@SUM(A1)", "n": -1}) == "'@SUM(A1),-1\r\n"
    assert writer.writerow({"name": "x"}) == "x,\r\n"
    with pytest.raises(ValueError, match="not in fieldnames"):
        writer.writerow({"other": "x"})


# --- Every export -------------------------------------------------------------------------------------


def _holder(index: int, payload: str, *, issued_on: date = date(2026, 1, 15)) -> User:
    """A holder who typed the payload into every field they control and opted in."""
    name_payload = payload if not payload[0].isspace() else "Plain"
    person = make_person(f"p{index}@example.com", first_name=name_payload, last_name="Doe")
    Profile.objects.filter(user=person).update(
        company=payload, city=payload, phone=payload[:40], show_contact_in_directory=True
    )
    refresh_directory_entries(person)
    certify(person, issued_on=issued_on)
    return person


@pytest.mark.django_db
def test_the_public_directory_export(programs: None, client: Client) -> None:
    for index, payload in enumerate(PAYLOADS):
        _holder(index, payload)
    response = client.get("/directory/export.csv")
    rows = table(b"".join(response.streaming_content).decode())  # type: ignore[attr-defined]
    assert_inert(rows)
    header, entries = rows[0], rows[1:]
    by_company = {row[header.index("company")]: dict(zip(header, row, strict=True)) for row in entries}
    for payload in PAYLOADS:
        entry = by_company["'" + payload]
        assert entry["city"] == entry["phone"] == "'" + payload
        if payload in NAME_PAYLOADS:
            assert entry["name"] == f"'{payload} Doe"


@pytest.mark.django_db
def test_the_batch_verification_results(programs: None, client: Client) -> None:
    numbers = _certified(NAME_PAYLOADS)
    upload = io.StringIO()
    writer = csv.writer(upload)  # the test builds an employer's file; only stormcert is guarded
    for row in [*numbers, *PAYLOADS]:
        writer.writerow([row])
    response = client.post(
        "/verify/batch/", {"file": SimpleUploadedFile("n.csv", upload.getvalue().encode())}
    )
    assert response.status_code == 200
    rows = table(response.content.decode())
    assert_inert(rows)
    holders = {row[0]: row[2] for row in rows[1:]}
    for number, payload in zip(numbers, NAME_PAYLOADS, strict=True):
        assert holders[number] == f"'{payload} Doe"
    # The typed numbers come back (canonical, unknown) as text too.
    assert "'" + canonical_number('=HYPERLINK("http://x","y")') in holders


def _certified(payloads: list[str]) -> list[str]:
    out = []
    for index, payload in enumerate(payloads):
        person = make_person(f"v{index}@example.com", first_name=payload, last_name="Doe")
        out.append(certify(person, issued_on=date(2026, 1, 15)).number)
    return out


@pytest.mark.django_db
def test_the_staff_report_downloads(programs: None, sara: User) -> None:
    with time_machine.travel(NOW, tick=False):
        for index, payload in enumerate(NAME_PAYLOADS):
            person = make_person(f"r{index}@example.com", first_name=payload, last_name="Doe")
            certify(person, issued_on=date(2024, 12, 1))  # expires 2026-12-01, in the renewal queue
        staff = client_for(sara, mfa=True)
        rows = table(staff.get(reverse("backoffice:report_csv", args=["expiring"])).content.decode())
        assert_inert(rows)
        assert {row[1] for row in rows[1:]} == {f"'{p} Doe" for p in NAME_PAYLOADS}
        for slug in ("enrollments", "pass-rates", "time-to-qualify", "revenue", "trainers"):
            response = staff.get(reverse("backoffice:report_csv", args=[slug]))
            assert response.status_code == 200
            assert_inert(table(response.content.decode()))


@pytest.mark.django_db
def test_the_import_report(programs: None, sara: User) -> None:
    lines = io.StringIO()
    writer = csv.writer(lines)
    writer.writerow(["name", "email", "certificate_number", "program", "issued_on", "expires_on", "status"])
    for index, payload in enumerate(PAYLOADS):
        # The status column is refused with its value echoed in the report.
        writer.writerow(
            [
                f"N{index}",
                f"n{index}@old.example.org",
                f"OWP-{index}",
                "QISP",
                "2025-01-01",
                "2027-01-01",
                payload,
            ]
        )
    writer.writerow(["Name", "x@old.example.org", "OWP-9", "QISP", "2025-01-01", "2027-01-01", "active"])
    run = dry_run(sara, lines.getvalue().encode())
    assert run.count("reject") == len(PAYLOADS)
    response = client_for(sara, mfa=True).get(reverse("backoffice:import_report", args=[run.pk]))
    rows = table(response.content.decode())
    assert_inert(rows)
    values = {row[4] for row in rows[1:]}
    # The file's cells were trimmed on reading, so a leading tab or CR is gone already.
    assert {"'" + p.strip() for p in PAYLOADS} <= values


# --- Nothing writes CSV around the helper ---------------------------------------------------------------

STORMCERT = Path(__file__).resolve().parents[2] / "stormcert"
HELPER = STORMCERT / "lib" / "csvsafe.py"
WRITERS = {"writer", "DictWriter"}


def _csv_writers_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules = {"csv", "_csv"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name in ("csv", "_csv") and a.asname}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("csv", "_csv"):
            found += [
                f"{path}:{node.lineno} from csv import {a.name}" for a in node.names if a.name in WRITERS
            ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in WRITERS
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.append(f"{path}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_csv_writer_outside_the_helper(tmp_path: Path) -> None:
    offenders = [hit for path in STORMCERT.rglob("*.py") if path != HELPER for hit in _csv_writers_in(path)]
    assert offenders == [], "Write CSV through stormcert.lib.csvsafe (it neutralises formulas): " + ", ".join(
        offenders
    )
    # The guard itself notices each way of reaching a writer.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import csv\nimport csv as c\nfrom csv import DictWriter\ncsv.writer(f)\nc.DictWriter(f, [])\n"
    )
    assert len(_csv_writers_in(sample)) == 3
    assert _csv_writers_in(HELPER)  # and it does find the helper's own
