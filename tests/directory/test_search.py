"""The public directory: search by name, number, company or city; opted-in contact only;
paging, sorting, filters; the result limit."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from conftest import make_person
from stormcert.accounts.models import Profile, User
from stormcert.accounts.services import update_profile
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db


def contact(user: User, *, opted: bool, company: str = "", city: str = "", phone: str = "") -> None:
    Profile.objects.filter(user=user).update(
        company=company, city=city, phone=phone, show_contact_in_directory=opted
    )
    from stormcert.certificates.services import refresh_directory_entries

    refresh_directory_entries(user)


@pytest.fixture
def holders(alice: User, tom: User, programs: None) -> tuple[User, User]:
    contact(alice, opted=False, company="Bayside Metal Finishing", city="Oakland", phone="(510) 555-0134")
    contact(
        tom, opted=True, company="Nguyen Stormwater Consulting", city="Sacramento", phone="(916) 555-0188"
    )
    certify(alice, issued_on=date(2026, 1, 15))
    certify(tom, issued_on=date(2026, 2, 1))
    certify(tom, program="IGP-TOR", issued_on=date(2026, 7, 1), years=1)
    return alice, tom


def rows(client: Client, query: str) -> str:
    response = client.get(f"/directory/?{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_search_by_name_number_company_and_city(holders: tuple[User, User], client: Client) -> None:
    assert "Alice Alvarez" in rows(client, "q=alvarez")
    assert "Alice Alvarez" in rows(client, "q=ALICE")
    by_number = rows(client, "q=QISP-2026-00002")
    assert "Tom Nguyen" in by_number and "Alice Alvarez" not in by_number
    assert "Tom Nguyen" in rows(client, "q=stormwater+consulting")
    assert "Tom Nguyen" in rows(client, "q=sacramento")
    assert "Tom Nguyen" in rows(client, "q=tom+nguyen")


def test_contact_details_only_where_the_holder_opted_in(holders: tuple[User, User], client: Client) -> None:
    page = rows(client, "")
    assert "(916) 555-0188" in page and "tom@example.com" in page and "Sacramento" in page
    assert "Bayside" not in page and "(510) 555-0134" not in page and "alice@example.com" not in page
    # Nor can the public find Alice by the company or city she keeps private.
    assert "Alice Alvarez" not in rows(client, "q=bayside")
    assert "Alice Alvarez" not in rows(client, "q=oakland")


def test_opting_in_from_the_profile_updates_the_directory_at_once(
    holders: tuple[User, User], client: Client
) -> None:
    alice = holders[0]
    data = {
        "first_name": "Alice",
        "last_name": "Alvarez-Ruiz",
        "company": "Bayside Metal Finishing",
        "address_line1": "",
        "address_line2": "",
        "city": "Oakland",
        "state": "CA",
        "postal_code": "",
        "phone": "(510) 555-0134",
        "show_contact_in_directory": True,
    }
    update_profile(user=alice, data=data, actor=alice)
    page = rows(client, "q=bayside")
    # The opt-in reaches the directory at once; the name stays the one certified.
    assert "Alice Alvarez" in page and "(510) 555-0134" in page
    assert "Alvarez-Ruiz" not in page
    assert "No holders match" in rows(client, "q=alvarez-ruiz")


def test_program_and_status_filters(holders: tuple[User, User], client: Client) -> None:
    tor = rows(client, "program=IGP-TOR")
    assert "TOR-2026-0001" in tor and "QISP-2026-00001" not in tor
    assert "QISP-2026-00001" in rows(client, "program=QISP")
    assert "No holders match" in rows(client, "status=revoked")


def test_unknown_filter_values_are_explained(holders: tuple[User, User], client: Client) -> None:
    response = client.get("/directory/?program=NOPE")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_short_queries_match_the_start_of_the_last_name(programs: None, client: Client) -> None:
    li = make_person("li@example.com", first_name="Wei", last_name="Li")
    ali = make_person("ali@example.com", first_name="Ali", last_name="Khan")
    certify(li)
    certify(ali)
    page = rows(client, "q=li")
    assert "Wei Li" in page and "Ali Khan" not in page


def test_paging_and_sorting(programs: None, client: Client, settings: object) -> None:
    settings.DIRECTORY_PAGE_SIZE = 3  # type: ignore[attr-defined]
    for i, last in enumerate(["Evans", "Baker", "Davis", "Adams", "Clark"]):
        certify(
            make_person(f"p{i}@example.com", first_name="Pat", last_name=last), issued_on=date(2026, 1, 1 + i)
        )
    first = rows(client, "sort=name")
    assert first.index("Pat Adams") < first.index("Pat Baker") < first.index("Pat Clark")
    assert "Pat Davis" not in first and "Page 1 of 2" in first and 'aria-sort="ascending"' in first
    second = rows(client, "sort=name&page=2")
    assert "Pat Davis" in second and "Pat Evans" in second and "Pat Adams" not in second
    reverse = rows(client, "sort=-name")
    assert reverse.index("Pat Evans") < reverse.index("Pat Davis") and 'aria-sort="descending"' in reverse
    by_expiry = rows(client, "sort=-expires")
    assert by_expiry.index("Pat Clark") < by_expiry.index("Pat Adams")  # issued Jan 5 vs Jan 4


def test_results_are_capped_with_a_note(programs: None, client: Client, settings: object) -> None:
    settings.DIRECTORY_RESULT_LIMIT = 2  # type: ignore[attr-defined]
    for i in range(3):
        certify(make_person(f"s{i}@example.com", first_name="Sam", last_name=f"Johnson{i}"))
    page = rows(client, "q=johnson")
    assert "showing the first 2" in page and page.count("Sam Johnson") == 2


def test_renewed_certificates_list_only_the_newest(alice: User, programs: None, client: Client) -> None:
    from stormcert.certificates.models import Source
    from stormcert.certificates.services import issue_certificate

    old = certify(alice, issued_on=date(2024, 1, 10))
    issue_certificate(
        holder=alice,
        program=old.program,
        issued_on=date(2025, 12, 1),
        expires_on=date(2028, 1, 10),
        source=Source.RENEWAL,
        renews=old,
        notify=False,
    )
    page = rows(client, "q=alvarez")
    assert "QISP-2025-00001" in page and old.number not in page
    assert "QISP-2025-00001" in client.get(f"/verify/{old.number}/").content.decode()  # "renewed by"


def test_the_api_searches_too(holders: tuple[User, User], client: Client) -> None:
    body = client.get("/api/directory", {"q": "nguyen", "sort": "number"}).json()
    assert body["count"] == 2 and [r["certificate_number"] for r in body["results"]] == [
        "QISP-2026-00002",
        "TOR-2026-0001",
    ]
    assert body["results"][0]["company"] == "Nguyen Stormwater Consulting"
    alice = client.get("/api/directory", {"q": "alvarez"}).json()["results"][0]
    assert alice["company"] is None and alice["email"] is None and alice["status"] == "active"
    bad = client.get("/api/directory", {"sort": "salary"})
    assert bad.status_code == 400 and "sort must be one of" in bad.json()["detail"]
