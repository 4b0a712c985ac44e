"""Two qualification programs side by side: each has its own page, actions, exams and state,
and nothing picks "the" qualification program."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.enrollments.models import Enrollment, StepRecord
from stormcert.payments.models import OrderLine
from stormcert.programs.definitions import load_definition
from stormcert.programs.models import Program
from tests.core.second_program import SECOND

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("programs")]


@pytest.fixture
def second() -> Program:
    load_definition(SECOND, source="second.toml")
    return Program.objects.get(code="CGX")


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    return " ".join(response.content.decode().split())


def test_with_one_public_program_the_list_goes_straight_to_it(alice_client: Client) -> None:
    response = alice_client.get(reverse("enrollments:qualification"))
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollments:qualification", args=["QISP"])


def test_the_list_shows_both_programs_and_where_the_person_stands(
    alice_client: Client, second: Program
) -> None:
    listing = page(alice_client, reverse("enrollments:qualification"))
    qisp = Program.objects.get(code="QISP")
    for program in (qisp, second):
        assert program.name in listing
        assert reverse("enrollments:qualification", args=[program.code]) in listing
    assert listing.count("Not started") == 2
    alice_client.post(reverse("enrollments:acknowledge", args=["CGX"]), {"confirm": "on"})
    listing = page(alice_client, reverse("enrollments:qualification"))
    assert "Step 3 of 4: Register for the gully course" in listing
    assert listing.count("Not started") == 1


def test_each_program_page_shows_its_own_steps(alice_client: Client, second: Program) -> None:
    qisp_page = page(alice_client, reverse("enrollments:qualification", args=["QISP"]))
    cgx_page = page(alice_client, reverse("enrollments:qualification", args=["CGX"]))
    assert "Your QISP qualification" in qisp_page and "Read the gully rules" not in qisp_page
    assert "Your CGX qualification" in cgx_page and "Read the gully rules" in cgx_page
    assert "Midterm exam" not in cgx_page
    assert reverse("enrollments:acknowledge", args=["CGX"]) in cgx_page
    # Reading either page writes nothing.
    assert not Enrollment.objects.exists()


def test_actions_on_one_program_leave_the_other_alone(
    alice: User, alice_client: Client, second: Program
) -> None:
    response = alice_client.post(reverse("enrollments:acknowledge", args=["CGX"]), {"confirm": "on"})
    assert response["Location"] == reverse("enrollments:qualification", args=["CGX"])
    enrollment = Enrollment.objects.get(user=alice)
    assert enrollment.program == second
    assert list(StepRecord.objects.values_list("enrollment__program__code", "step_code")) == [
        ("CGX", "read_rules")
    ]
    # Registration pays the second program's own fee.
    paid = alice_client.post(reverse("enrollments:register", args=["CGX"]))
    line = OrderLine.objects.get()
    assert line.program == second and line.fee.amount == 99
    assert paid["Location"] == reverse("payments:order", args=[line.order.number])
    # The first program is untouched: its page still starts at the beginning.
    qisp_page = page(alice_client, reverse("enrollments:qualification", args=["QISP"]))
    assert "Now: Read the IGP and the SMARTS guides" in qisp_page
    assert not Enrollment.objects.filter(program__code="QISP").exists()


def test_a_refused_action_returns_to_that_programs_page(alice_client: Client, second: Program) -> None:
    refused = alice_client.post(reverse("enrollments:register", args=["CGX"]))
    assert refused["Location"] == reverse("enrollments:qualification", args=["CGX"])
    unticked = alice_client.post(reverse("enrollments:acknowledge", args=["CGX"]), {})
    assert unticked["Location"] == reverse("enrollments:qualification", args=["CGX"])
    assert not StepRecord.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "enrollments:qualification",
        "enrollments:self_assessment",
    ],
)
def test_an_unknown_or_trainer_program_code_is_not_found_on_pages(alice_client: Client, name: str) -> None:
    assert alice_client.get(reverse(name, args=["NOPE"])).status_code == 404
    # A trainer program is no qualification program.
    assert alice_client.get(reverse(name, args=["IGP-TOR"])).status_code == 404


@pytest.mark.parametrize("name", ["enrollments:acknowledge", "enrollments:register", "enrollments:resolve"])
def test_an_unknown_program_code_is_not_found_for_actions(alice_client: Client, name: str) -> None:
    assert alice_client.post(reverse(name, args=["NOPE"]), {"confirm": "on"}).status_code == 404
    assert not Enrollment.objects.exists()


def test_the_dashboard_shows_both_programs(alice_client: Client, second: Program) -> None:
    dashboard = page(alice_client, reverse("dashboard"))
    assert "Programs you may start" in dashboard
    assert "Qualified Industrial Stormwater Practitioner" in dashboard and second.name in dashboard
    alice_client.post(reverse("enrollments:acknowledge", args=["CGX"]), {"confirm": "on"})
    dashboard = page(alice_client, reverse("dashboard"))
    assert "What you may start" in dashboard
    assert "Step 3 of 4: Register for the gully course" in dashboard
    assert reverse("enrollments:qualification", args=["CGX"]) in dashboard
    mine, others = dashboard.split("What you may start")
    assert second.name in mine and "Qualified Industrial Stormwater Practitioner" in others


def test_home_and_program_pages_show_each_program(client: Client, second: Program) -> None:
    home = page(client, reverse("home"))
    assert "Qualified Industrial Stormwater Practitioner" in home and second.name in home
    assert reverse("program", args=["CGX"]) in home and reverse("program", args=["QISP"]) in home
    about = page(client, reverse("program", args=["CGX"]))
    assert "The 4 steps to your certificate" in about and "Gully registration" in about and "$99.00" in about
    assert "Figures from the minutes of the test board." in about
    assert "“Gully board 2024”, in force since January 1, 2024" in about
    assert "Midterm" not in about
    Program.objects.filter(code="CGX").update(is_public=False)
    assert second.name not in page(client, reverse("home"))


def test_staff_filter_enrollments_by_program(
    sara_client: Client, alice: User, eve: User, second: Program
) -> None:
    client_alice = Client()
    client_alice.force_login(alice)
    client_alice.post(reverse("enrollments:acknowledge", args=["CGX"]), {"confirm": "on"})
    client_eve = Client()
    client_eve.force_login(eve)
    client_eve.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    both = page(sara_client, reverse("enrollments:staff_list"))
    assert "alice@example.com" in both and "eve@example.com" in both
    only = page(sara_client, reverse("enrollments:staff_list") + "?program=CGX")
    assert "alice@example.com" in only and "eve@example.com" not in only
    assert '<option value="CGX" selected>' in only
    # An unknown code filters nothing out rather than failing.
    assert "eve@example.com" in page(sara_client, reverse("enrollments:staff_list") + "?program=NOPE")


def test_staff_record_a_self_directed_qualification_in_the_chosen_program(
    sara_client: Client, alice: User, second: Program
) -> None:
    done = sara_client.post(
        reverse("enrollments:staff_self_directed"),
        {
            "sd-program": second.pk,
            "sd-email": "alice@example.com",
            "sd-license_type": "PE-civil",
            "sd-license_number": "C 81234",
            "sd-reason": "License verified",
        },
        follow=True,
    )
    assert "is recorded as qualified in CGX by the self-directed route" in done.content.decode()
    assert Enrollment.objects.get(user=alice).program == second
    trainer = Program.objects.get(code="IGP-TOR")
    refused = sara_client.post(
        reverse("enrollments:staff_self_directed"),
        {
            "sd-program": trainer.pk,
            "sd-email": "alice@example.com",
            "sd-license_type": "PE-civil",
            "sd-license_number": "C 1",
            "sd-reason": "x",
        },
    )
    assert refused.status_code == 400 and "Choose one of the programs listed." in refused.content.decode()


def test_a_hidden_program_is_closed_to_newcomers_but_open_to_its_candidates(
    alice_client: Client, eve: User, second: Program
) -> None:
    alice_client.post(reverse("enrollments:acknowledge", args=["CGX"]), {"confirm": "on"})
    Program.objects.filter(code="CGX").update(is_public=False)
    # Alice, enrolled, still reads and acts on it; it stays on her list.
    assert "Your CGX qualification" in page(alice_client, reverse("enrollments:qualification", args=["CGX"]))
    assert second.name in page(alice_client, reverse("enrollments:qualification"))
    # Eve cannot start it.
    eve_client = Client()
    eve_client.force_login(eve)
    assert eve_client.get(reverse("enrollments:qualification", args=["CGX"])).status_code == 404
    assert (
        eve_client.post(reverse("enrollments:acknowledge", args=["CGX"]), {"confirm": "on"}).status_code
        == 404
    )
    assert not Enrollment.objects.filter(user=eve).exists()


def test_a_holder_sees_the_certificate_and_its_expiry(
    alice: User, alice_client: Client, second: Program
) -> None:
    from datetime import date

    from tests.renewals.builders import holder_until

    certificate = holder_until(alice, date(2099, 1, 15))
    listing = page(alice_client, reverse("enrollments:qualification"))
    assert "Certified until January 15, 2099" in listing and "Not started" in listing
    dashboard = page(alice_client, reverse("dashboard"))
    assert certificate.number in dashboard and "Active" in dashboard and "January 15, 2099" in dashboard
    mine, others = dashboard.split("What you may start")
    assert "What you hold" in mine
    assert "Qualified Industrial Stormwater Practitioner" in mine and second.name in others
    # An expired one says so, with its number.
    certificate.expires_on = date(2020, 1, 15)
    certificate.issued_on = date(2018, 1, 15)
    certificate.save()
    listing = page(alice_client, reverse("enrollments:qualification"))
    assert f"Certificate {certificate.number}: expired" in listing
