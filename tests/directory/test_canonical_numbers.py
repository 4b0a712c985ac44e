"""A certificate number is found however it is typed: lower case, spaces around it (Unicode ones
and zero-width ones from a copied web page), full-width characters. Every entry point is asked
with such a number, and every page answers with the canonical form (stormcert.lib.numbers)."""

from __future__ import annotations

import csv
import importlib
import io
import logging
from datetime import date
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from conftest import client_for
from stormcert.accounts import claims
from stormcert.accounts.models import ClaimRequest, LegacyRecord, User
from stormcert.certificates.models import Certificate
from stormcert.certificates.services import CertificateError
from stormcert.lib.numbers import canonical_number, could_be_a_number, has_odd_dash
from tests.backoffice.builders import import_file, legacy_csv
from tests.certificates.builders import certify

NUMBER = "QISP-2026-00001"
# How people really send it: lower case, a no-break space and a zero-width space from a web page.
TYPED = "\u200b qisp-2026-00001\u00a0"


# --- The canonical form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "qisp-2026-00001",
        " QISP-2026-00001 ",
        "\tqisp-2026-00001\r\n",
        "\u00a0QISP-2026-00001\u2009",  # no-break space, thin space
        "\u3000qisp-2026-00001\u3000",  # ideographic space
        "\ufeffQISP-2026-00001\u200b\u2060",  # byte-order mark, zero-width space, word joiner
        "ＱＩＳＰ－２０２６－００００１",  # full-width, as an East Asian input method types it
        "ｑｉｓｐ-2026-00001",
    ],
)
def test_typed_forms_fold_to_the_issued_number(typed: str) -> None:
    assert canonical_number(typed) == NUMBER


def test_what_is_not_folded() -> None:
    # Dashes other than the hyphen-minus stay (lib.numbers says why); a page points them out.
    assert canonical_number("qisp\u20132026\u201300001") == "QISP\u20132026\u201300001"
    assert has_odd_dash("QISP\u20132026-00001") and not has_odd_dash(NUMBER)
    # Spaces inside a number are not ours to remove.
    assert canonical_number(" qisp 2026 ") == "QISP 2026"
    assert canonical_number(" \u200b ") == ""


def test_what_cannot_be_on_file_is_not_looked_up() -> None:
    assert could_be_a_number(NUMBER)
    assert not could_be_a_number("")
    assert not could_be_a_number("A" * 41)
    assert not could_be_a_number("QISP\x00")


@given(st.text(max_size=30))
def test_canonical_form_is_stable(text: str) -> None:
    once = canonical_number(text)
    assert canonical_number(once) == once
    assert once == once.strip()


# --- Every place a number is typed ----------------------------------------------------------------


@pytest.fixture
def certificates(alice: User, tom: User, programs: None) -> None:
    certify(alice, issued_on=date(2026, 1, 15))  # QISP-2026-00001, valid
    certify(tom, issued_on=date(2020, 5, 1))  # QISP-2020-00001, expired


@pytest.mark.django_db
def test_the_verify_page_sends_any_typed_form_to_the_canonical_page(
    certificates: None, client: Client
) -> None:
    for typed in ("qisp-2026-00001", TYPED, "ＱＩＳＰ－２０２６－００００１"):
        response = client.get(f"/verify/{quote(typed)}/")
        assert response.status_code == 301, typed
        assert response["Location"] == f"/verify/{NUMBER}/"
    page = client.get(f"/verify/{quote(TYPED)}/", follow=True)
    body = page.content.decode()
    assert page.status_code == 200 and "Valid." in body and f"Certificate {NUMBER}" in body
    assert 'value="QISP-2026-00001"' in body  # the form below shows the canonical form too


@pytest.mark.django_db
def test_the_verify_page_answers_what_no_url_can_hold(certificates: None, client: Client) -> None:
    only_invisible = client.get(f"/verify/{quote(chr(0x200B))}/")
    assert only_invisible.status_code == 302 and only_invisible["Location"] == "/verify/"
    # A full-width solidus becomes "/", which no page URL can carry: answered in place.
    solidus = client.get(f"/verify/{quote('qisp／1')}/")
    assert solidus.status_code == 404 and "QISP/1" in solidus.content.decode()
    dash = client.get(f"/verify/{quote('QISP–2026–00001')}/")
    assert dash.status_code == 404 and "dash that is not a hyphen" in dash.content.decode()


@pytest.mark.django_db
def test_the_verify_form_goes_to_the_canonical_page(certificates: None, client: Client) -> None:
    response = client.get("/verify/", {"number": TYPED})
    assert response.status_code == 302 and response["Location"] == f"/verify/{NUMBER}/"
    invisible = client.get("/verify/", {"number": "\u200b"})
    assert invisible.status_code == 400 and "Type the certificate number." in invisible.content.decode()
    # "/" cannot be in a number (lib.numbers.number_problem): the form says so.
    slash = client.get("/verify/", {"number": "a/b"})
    assert slash.status_code == 400 and "No certificate is numbered like that" in slash.content.decode()


@pytest.mark.django_db
def test_the_api_answers_one_number_as_typed(certificates: None, client: Client) -> None:
    body = client.get(f"/api/verify/{quote(TYPED)}").json()
    assert body["number"] == NUMBER and body["status"] == "valid" and body["holder"] == "Alice Alvarez"
    # A NUL is refused before any view (RefuseNulMiddleware): a clear 400, never a database error.
    nul = client.get("/api/verify/QISP%00")
    assert nul.status_code == 400


@pytest.mark.django_db
def test_the_api_batch_answers_numbers_as_typed(certificates: None, client: Client) -> None:
    response = client.post(
        "/api/verify",
        {"numbers": [TYPED, "\u3000qisp-2020-00001 ", "\u200b", "qisp-1999-1"]},
        content_type="application/json",
    )
    assert [(r["number"], r["status"]) for r in response.json()["results"]] == [
        (NUMBER, "valid"),
        ("QISP-2020-00001", "expired"),
        ("QISP-1999-1", "unknown"),
    ]


@pytest.mark.django_db
def test_the_batch_csv_answers_numbers_as_typed(certificates: None, client: Client) -> None:
    content = f"certificate_number\r\n{TYPED}\r\n qisp-2020-00001 \r\n".encode()
    response = client.post("/verify/batch/", {"file": SimpleUploadedFile("n.csv", content)})
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["certificate_number"], r["status"]) for r in table] == [
        (NUMBER, "valid"),
        ("QISP-2020-00001", "expired"),
    ]


@pytest.mark.django_db
def test_the_directory_finds_a_number_as_typed(certificates: None, client: Client) -> None:
    body = client.get("/directory/", {"q": TYPED}).content.decode()
    assert NUMBER in body and "Alice Alvarez" in body and "QISP-2020-00001" not in body


@pytest.mark.django_db
def test_staff_search_finds_a_number_as_typed(certificates: None, sara: User) -> None:
    staff = client_for(sara, mfa=True)
    found = staff.get(reverse("certificates:staff_list"), {"q": TYPED}).content.decode()
    assert NUMBER in found and "QISP-2020-00001" not in found
    people = staff.get(reverse("backoffice:people"), {"q": TYPED}).content.decode()
    assert "alice@example.com" in people and "tom@example.com" not in people


# --- Numbers are stored canonical -------------------------------------------------------------------

OWP = "Dana Reyes,dana@old.example.org,{number},QISP,2025-03-14,2027-03-14,active,"


@pytest.mark.django_db
def test_an_import_stores_numbers_canonical_and_a_rerun_finds_them(programs: None, sara: User) -> None:
    run = import_file(sara, legacy_csv(OWP.format(number="\u00a0owp-2019-00042 ")))
    assert run.count("create") == 1
    assert Certificate.objects.get(source="legacy").number == "OWP-2019-00042"
    assert LegacyRecord.objects.get().certificate_number == "OWP-2019-00042"
    # The same record typed another way is the same record, not a second one.
    again = import_file(sara, legacy_csv(OWP.format(number="OWP-2019-00042")))
    assert again.count("unchanged") == 1 and LegacyRecord.objects.count() == 1


@pytest.mark.django_db
def test_issuing_with_a_given_number_stores_it_canonical(alice: User, programs: None) -> None:
    assert certify(alice, number=" owp-7\u200b").number == "OWP-7"
    # Upper-casing can lengthen a number past the column: refused in words, not by the database.
    with pytest.raises(CertificateError, match="at most 40 characters"):
        certify(alice, number="ß" * 21)


@pytest.mark.django_db
def test_claims_of_earlier_records_find_numbers_as_typed(programs: None, sara: User, alice: User) -> None:
    import_file(sara, legacy_csv(OWP.format(number="OWP-2019-00042")))
    record = claims.find_record(TYPED.replace("qisp-2026-00001", "owp-2019-00042"))
    assert record is not None and record.certificate_number == "OWP-2019-00042"
    assert claims.find_record("\u200b") is None and claims.find_record("OWP\x00") is None
    # The email link: the number as typed, the address on file.
    assert claims.send_claim_link(
        claimant=alice, certificate_number="\u3000owp-2019-00042", email_on_file="dana@old.example.org"
    )
    # A request to staff keeps the number in the canonical form and finds its record.
    claim = claims.request_claim(
        requester=alice,
        certificate_number=" owp-2019-00042\u200b",
        email_on_file="",
        explanation="The old address is gone.",
    )
    assert claim.certificate_number == "OWP-2019-00042" and claim.record == record
    # Staff choosing the record type it too.
    decide = reverse("backoffice:claim_decide", args=[claim.pk])
    response = client_for(sara, mfa=True).post(
        decide,
        {
            f"c{claim.pk}-decision": "approve",
            f"c{claim.pk}-record": "\u00a0owp-2019-00042",
            f"c{claim.pk}-reason": "ID seen.",
        },
    )
    assert response.status_code == 302
    assert ClaimRequest.objects.get(pk=claim.pk).status == "approved"


# --- The migration that made stored numbers canonical --------------------------------------------


@pytest.mark.django_db
def test_the_migration_canonicalises_and_skips_a_clash(
    programs: None, sara: User, alice: User, tom: User, caplog: pytest.LogCaptureFixture
) -> None:
    migration = importlib.import_module("stormcert.certificates.migrations.0004_canonical_numbers")
    import_file(
        sara,
        legacy_csv(
            OWP.format(number="OWP-1"),
            "Lee Park,lee@old.example.org,OWP-2,QISP,2025-03-14,2027-03-14,active,",
        ),
    )
    # Numbers as an earlier version stored them: one in lower case, one that folds onto OWP-1.
    Certificate.objects.filter(number="OWP-2").update(number="owp-2 ", search_text="lee park owp-2 ")
    LegacyRecord.objects.filter(certificate_number="OWP-2").update(certificate_number="owp-2 ")
    clash = certify(alice, number="OWP-1X")
    Certificate.objects.filter(pk=clash.pk).update(number="owp-1")
    too_long = certify(alice, number="OWP-1Y", years=3)
    Certificate.objects.filter(pk=too_long.pk).update(number="ß" * 21)
    ClaimRequest.objects.create(requester=tom, certificate_number="owp-2", explanation="x")

    with caplog.at_level(logging.WARNING, logger="stormcert.migrations"):
        done = migration.canonicalise(apps, None)

    assert done == {"changed": ["OWP-2"], "skipped": ["owp-1", "ß" * 21]}
    moved = Certificate.objects.get(number="OWP-2")
    assert moved.search_text == "lee park owp-2" and moved.legacy.certificate_number == "OWP-2"
    assert Certificate.objects.filter(number="owp-1").exists()  # left for staff, and said so
    assert "owp-1" in caplog.text and "already another certificate's or record's number" in caplog.text
    assert ClaimRequest.objects.get().certificate_number == "OWP-2"
    # Running it again finds nothing new to do.
    assert "longer than 40 characters" in caplog.text
    assert migration.canonicalise(apps, None) == {"changed": [], "skipped": ["owp-1", "ß" * 21]}
