"""Issue 22, candidates and holders: the dashboard leads with what the person holds, a holder is
never shown a new candidate's first step, staff see their queues first, and help (FAQ and the
program office's contact) comes from program data and is linked wherever a page says "contact"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.programs.definitions import DefinitionError, parse_definition
from stormcert.programs.models import Program
from tests.renewals.builders import holder_until

pytestmark = pytest.mark.usefixtures("programs")

FIRST_STEP = "Read the IGP and the SMARTS guides"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return " ".join(response.content.decode().split())


def test_a_qisp_due_for_renewal_is_led_by_the_certificate_and_its_renewal(
    alice: User, alice_client: Client
) -> None:
    certificate = holder_until(alice, timezone.localdate() + timedelta(days=45))
    dashboard = page(alice_client, reverse("dashboard"))
    held = dashboard.split("What you hold")[1].split("Your account", 1)[0]
    assert certificate.number in held and "Renewal fee today" in held and "$220.00" in held
    assert "Next: renew." in held and reverse("renewals:renewal") in held
    assert reverse("certificates:mine") in held
    assert FIRST_STEP not in dashboard and "What you are working on" not in dashboard
    assert dashboard.index("What you hold") < dashboard.index("Your account")

    qualification = page(alice_client, reverse("enrollments:qualification", args=["QISP"]))
    assert "You are qualified: certificate " + certificate.number in qualification
    assert "Next: renew your certificate" in qualification
    assert FIRST_STEP not in qualification
    assert reverse("enrollments:acknowledge", args=["QISP"]) not in qualification


def test_a_holder_before_the_window_is_told_there_is_nothing_to_do(alice: User, alice_client: Client) -> None:
    holder_until(alice, timezone.localdate() + timedelta(days=400))
    dashboard = page(alice_client, reverse("dashboard"))
    assert "Nothing to do now. Renewal opens on" in dashboard
    assert "Renew your QISP certificate" not in dashboard
    qualification = page(alice_client, reverse("enrollments:qualification", args=["QISP"]))
    assert "Qualified" in qualification and FIRST_STEP not in qualification


def test_a_revoked_certificate_sends_its_holder_back_to_the_steps(alice: User, alice_client: Client) -> None:
    certificate = holder_until(alice, timezone.localdate() + timedelta(days=45))
    certificate.revoked_at = timezone.now()
    certificate.save()
    dashboard = page(alice_client, reverse("dashboard"))
    assert "What you hold" not in dashboard
    assert "qualifying again starts with the program's steps" in dashboard
    qualification = page(alice_client, reverse("enrollments:qualification", args=["QISP"]))
    assert FIRST_STEP in qualification


def test_a_new_candidate_is_shown_what_to_start_and_then_their_next_step(alice_client: Client) -> None:
    dashboard = page(alice_client, reverse("dashboard"))
    assert "Programs you may start" in dashboard and "What you hold" not in dashboard
    alice_client.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    dashboard = page(alice_client, reverse("dashboard"))
    assert "What you are working on" in dashboard
    assert (
        "Step 3 of 9: Self-assessment questionnaire" in dashboard
        and FIRST_STEP not in dashboard.split("All the steps")[0]
    )
    assert reverse("enrollments:qualification", args=["QISP"]) in dashboard


def test_staff_see_their_queues_first(sara: User, sara_client: Client) -> None:
    dashboard = page(sara_client, reverse("dashboard"))
    assert "Your staff work" in dashboard and reverse("staff_home") in dashboard
    assert dashboard.index("Your staff work") < dashboard.index("Programs you may start")


def test_a_tor_sees_the_term_and_what_is_due(tom: User) -> None:
    from tests.trainers.builders import in_standing

    now = timezone.now()
    in_standing(tom, now)
    dashboard = page(client_for(tom), reverse("dashboard"))
    held = dashboard.split("What you hold")[1]
    assert "Industrial General Permit Trainer of Record" in held
    assert "In force until" in held and "Due by" in held
    assert "the yearly fee" in held and reverse("trainers:home", args=["IGP-TOR"]) in held
    assert FIRST_STEP not in dashboard


def test_a_qisp_who_is_not_a_tor_may_become_one(alice: User, alice_client: Client) -> None:
    holder_until(alice, timezone.localdate() + timedelta(days=400))
    dashboard = page(alice_client, reverse("dashboard"))
    may_start = dashboard.split("What you may start")[1]
    assert reverse("trainers:home", args=["IGP-TOR"]) in may_start


# --- Help --------------------------------------------------------------------------------


def test_the_help_page_shows_each_programs_faq_and_contact_from_data(client: Client) -> None:
    qisp = Program.objects.get(code="QISP")
    assert len(qisp.faq) >= 6 and qisp.contact["email"] == "casqa@casqa.org"
    help_page = page(client, reverse("help"))
    assert 'id="contact"' in help_page and "mailto:casqa@casqa.org" in help_page
    assert "How many attempts does a QISP candidate have to pass the midterm and final exams?" in help_page
    assert (
        "Do California-registered Professional Engineers and Geologists need to take this training?"
        in help_page
    )
    one = page(client, reverse("help", args=["QISP"]))
    assert "How do I become a QISP?" in one and "mailto:casqa@casqa.org" in one
    # Changing the data changes the page: nothing is written in the template.
    qisp.contact = {"office": "Test office", "phone": "916 555 0100"}
    qisp.faq = [{"question": "Is this data?", "answer": "Yes."}]
    qisp.save()
    one = page(client, reverse("help", args=["QISP"]))
    assert "Test office" in one and "tel:9165550100" in one and "Is this data?" in one
    assert "How do I become a QISP?" not in one


def test_help_for_an_unknown_or_hidden_program_is_not_found(client: Client) -> None:
    assert client.get(reverse("help", args=["NOPE"])).status_code == 404
    Program.objects.filter(code="QISP").update(is_public=False)
    assert client.get(reverse("help", args=["QISP"])).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["home", "account_signup", "account_login", "account_reset_password", "account_reset_password_done"],
)
def test_every_page_links_help_in_its_footer(client: Client, url: str) -> None:
    body = page(client, reverse(url))
    footer = body.split('class="site-footer"')[1]
    assert f'href="{reverse("help")}"' in footer and f'href="{reverse("help")}#contact"' in footer


def test_contact_sentences_say_how(client: Client, alice: User) -> None:
    """allauth's pages say "contact us" and never say how: each links the help page's contact."""
    for name in ("account_reset_password", "account_reset_password_done"):
        body = page(client, reverse(name))
        assert "contact us" not in body.lower()
        assert f'<a href="{reverse("help")}#contact">contact the program office</a>' in body


def test_pages_that_send_people_to_the_office_link_its_contact(alice_client: Client) -> None:
    # The claim page's refusals say "Contact the program office": the page says how.
    body = page(alice_client, reverse("accounts:claim"))
    assert f'<a href="{reverse("help")}#contact">Contact the program office</a>' in body


def test_the_definition_checks_faq_and_contact() -> None:
    base = """
[[program]]
code = "X"
name = "X"
short_name = "X"
kind = "trainer"
summary = "x"
[program.contact]
office = "Office"
fax = "1"
[[program.faq]]
question = "Q?"
[[program.policy]]
name = "v"
effective_from = 2024-01-01
[program.policy.values]
"""
    with pytest.raises(DefinitionError) as raised:
        parse_definition(base)
    problems = " ".join(raised.value.problems)
    assert "unknown field “fax”" in problems
    assert "give an email or a phone number" in problems
    assert "faq #1: needs answer text" in problems


def test_the_admin_keeps_faq_and_contact_in_shape() -> None:
    from django.core.exceptions import ValidationError

    qisp = Program.objects.get(code="QISP")
    qisp.full_clean()
    qisp.faq = [{"question": "Q?"}]
    with pytest.raises(ValidationError, match="questions and answers"):
        qisp.full_clean()
    qisp.faq = []
    qisp.contact = {"fax": "1"}
    with pytest.raises(ValidationError):
        qisp.full_clean()
