"""Staff must use two-factor authentication for the back office and the admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, client_for, enable_totp, make_person, totp_code
from stormcert.accounts.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/staff/", "/staff/outbox/", "/staff/audit/", "/admin/"])
def test_staff_without_an_authenticator_is_sent_to_set_one_up(url: str) -> None:
    staff = make_person("new.staff@example.com", roles=(Role.STAFF,), staff=True)
    response = client_for(staff).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_staff_login_asks_for_the_code_and_refuses_a_wrong_one(client: Client, sara: User) -> None:
    response = client.post(reverse("account_login"), {"login": sara.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = client.post(
        reverse("mfa_authenticate"), {"code": "000000" if totp_code() != "000000" else "111111"}
    )
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    right = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert right.status_code == 302
    assert client.get(reverse("staff_home")).status_code == 200


def test_staff_with_two_factor_sees_staff_home_and_admin(sara_client: Client) -> None:
    page = sara_client.get(reverse("staff_home"))
    assert page.status_code == 200 and b"Staff home" in page.content
    assert sara_client.get("/admin/").status_code == 200


def test_admin_login_page_goes_through_allauth(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", ["/staff/", "/staff/outbox/", "/staff/audit/"])
def test_candidates_cannot_open_staff_pages(alice_client: Client, url: str) -> None:
    assert alice_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/staff/", "/staff/outbox/", "/staff/audit/"])
def test_visitors_are_asked_to_sign_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_candidate_is_not_asked_for_two_factor(alice_client: Client) -> None:
    assert alice_client.get(reverse("dashboard")).status_code == 200


def test_staff_who_turned_on_two_factor_can_continue(client: Client) -> None:
    staff = make_person("later@example.com", roles=(Role.STAFF,), staff=True)
    client = client_for(staff)
    assert client.get("/staff/").status_code == 302
    enable_totp(staff)
    assert client.get("/staff/").status_code == 200
