"""The name on a certificate is the name as issued: editing a profile never reaches a
certificate. The PDF, the signed credential, the verification page, the API (one number and a
batch), the CSV batch upload, the directory (page, API, export) and the public ToR list all keep
the certified name, and later certificates (a renewal, a ToR certificate) are issued under it."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pypdfium2
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import Profile, User
from stormcert.accounts.services import update_profile
from stormcert.certificates.credentials import jwks, verify_credential
from stormcert.certificates.models import Source
from stormcert.certificates.services import issue_certificate
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-02T18:00:00+00:00")


def rename_profile(user: User, first: str, last: str) -> None:
    """What the profile form does: the one way a holder edits their own name."""
    profile = Profile.objects.get(user=user)
    data = {f: getattr(profile, f) for f in ("company", "address_line1", "address_line2", "city")}
    data |= {f: getattr(profile, f) for f in ("state", "postal_code", "phone", "show_contact_in_directory")}
    update_profile(user=user, data={"first_name": first, "last_name": last, **data}, actor=user)


def pdf_text(client: Client, number: str) -> str:
    response = client.get(reverse("certificates:pdf", args=[number]))
    assert response.status_code == 200
    return str(pypdfium2.PdfDocument(response.content)[0].get_textpage().get_text_range())


def credential(client: Client, number: str) -> dict[str, Any]:
    token = client.get(reverse("certificates:credential", args=[number])).content.decode()
    return verify_credential(token, jwks())


def credential_name(claims: dict[str, Any]) -> str:
    return str(claims["credentialSubject"]["identifier"][0]["identityHash"])


def everything_public_says(client: Client, number: str) -> list[str]:
    """The holder's name as each public place shows it for this number."""
    page = client.get(f"/verify/{number}/").content.decode()
    one = client.get(f"/api/verify/{number}").json()["holder"]
    batch = client.post("/api/verify", {"numbers": [number]}, content_type="application/json")
    upload = client.post("/verify/batch/", {"file": SimpleUploadedFile("n.csv", f"{number}\n".encode())})
    uploaded = next(iter(csv.DictReader(io.StringIO(upload.content.decode()))))["holder"]
    directory = client.get("/api/directory", {"q": number}).json()["results"][0]["name"]
    exported = b"".join(client.get("/directory/export.csv").streaming_content).decode()  # type: ignore[attr-defined]
    export_name = next(
        r["name"] for r in csv.DictReader(io.StringIO(exported)) if r["certificate_number"] == number
    )
    return [page, one, batch.json()["results"][0]["holder"], uploaded, directory, export_name]


# --- Editing the profile does not rename a certificate --------------------------------------


def test_a_profile_name_change_leaves_every_document_and_public_answer_alone(
    alice: User, programs: None, client: Client
) -> None:
    certificate = certify(alice)
    rename_profile(alice, "Mallory", "Impostor")
    alice.refresh_from_db()
    assert alice.get_full_name() == "Mallory Impostor"  # the profile stays editable for other uses

    holder = client_for(alice)
    assert "Alice Alvarez" in pdf_text(holder, certificate.number)
    assert "Mallory" not in pdf_text(holder, certificate.number)
    assert credential_name(credential(holder, certificate.number)) == "Alice Alvarez"
    page, *answers = everything_public_says(client, certificate.number)
    assert "Alice Alvarez" in page and "Mallory" not in page
    assert answers == ["Alice Alvarez"] * 5
    # The directory cannot be searched by the uncertified name either.
    assert "Alice Alvarez" in client.get("/directory/", {"q": "alvarez"}).content.decode()
    assert client.get("/api/directory", {"q": "impostor"}).json()["count"] == 0
    assert "Mallory" not in client.get("/directory/", {"q": "QISP"}).content.decode()


def test_the_contact_opt_in_still_reaches_the_directory_at_once(
    alice: User, programs: None, client: Client
) -> None:
    certificate = certify(alice)
    Profile.objects.filter(user=alice).update(company="Bayside Metal", city="Oakland")
    profile = Profile.objects.get(user=alice)
    profile.show_contact_in_directory = True
    profile.save()
    rename_profile(alice, "Alice", "Renamed")
    certificate.refresh_from_db()
    assert certificate.search_text == f"alice alvarez {certificate.number.lower()} bayside metal oakland"
    assert client.get("/api/directory", {"q": "bayside"}).json()["results"][0]["name"] == "Alice Alvarez"


def test_the_public_trainer_list_shows_the_certified_name(tom: User, programs: None, client: Client) -> None:
    from tests.trainers.builders import in_standing

    # The public list shows Trainers of Record in standing (a term, a current QISP, the
    # agreement signed): the name it shows is the certified one.
    when = datetime(2026, 8, 1, 12, tzinfo=T0.tzinfo)
    with time_machine.travel(when, tick=False):
        in_standing(tom, when)
    rename_profile(tom, "Someone", "Else")
    with time_machine.travel(when, tick=False):
        page = client.get(reverse("trainers:public_list")).content.decode()
    assert "Tom Nguyen" in page and "Someone Else" not in page


def test_later_certificates_take_the_certified_name_not_the_profile(alice: User, programs: None) -> None:
    qisp = certify(alice, issued_on=date(2026, 1, 15))
    rename_profile(alice, "Mallory", "Impostor")
    # A renewal carries the name of the certificate it renews ...
    renewal = issue_certificate(
        holder=alice,
        program=qisp.program,
        issued_on=date(2027, 12, 1),
        expires_on=date(2030, 1, 15),
        source=Source.RENEWAL,
        renews=qisp,
        notify=False,
    )
    # ... and a certificate in another program (a ToR term) the person's certified name.
    tor = certify(alice, program="IGP-TOR", issued_on=date(2026, 7, 1), years=1)
    assert (renewal.holder_name, tor.holder_name) == ("Alice Alvarez", "Alice Alvarez")
    assert tor.sort_name == "alvarez alice"
    # Only a first certificate takes the profile's name.
    eve = make_person("eve@example.com", first_name="Eve", last_name="First")
    assert certify(eve).holder_name == "Eve First"
