"""Staff must use two-factor authentication for the back office and the admin."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
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


def sign_in_with_password(client: Client, user: User) -> None:
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_staff_who_turned_on_two_factor_in_this_session_can_continue(client: Client) -> None:
    # What `createsuperuser` makes: a staff account with a password and nothing else.
    staff = make_person("later@example.com", roles=(Role.STAFF,), staff=True)
    sign_in_with_password(client, staff)
    assert client.get("/staff/")["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before an authenticator can be added.
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get("/staff/")["Location"] == reverse("mfa_activate_totp")  # a password is not two factors
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session["mfa.totp.secret"]
    activated = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert activated.status_code == 302
    # Giving the new app's code proved the second factor: no second code a moment later.
    assert client.get("/staff/").status_code == 200


def test_a_session_that_never_gave_the_code_is_asked_for_it(client: Client, sara: User) -> None:
    # sara has an authenticator app, but this session was opened without it (force_login here;
    # in life, any way round the sign-in form's code step): the staff pages ask for the code.
    client = client_for(sara)
    response = client.get("/staff/audit/?q=x")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_reauthenticate") + "?next=%2Fstaff%2Faudit%2F%3Fq%3Dx"
    assert client.get("/admin/")["Location"].startswith(reverse("mfa_reauthenticate"))
    wrong = client.post(response["Location"], {"code": "000000" if totp_code() != "000000" else "111111"})
    assert wrong.status_code == 200
    assert client.get("/staff/").status_code == 302
    right = client.post(response["Location"], {"code": totp_code()})
    assert right.status_code == 302 and right["Location"] == "/staff/audit/?q=x"
    assert client.get("/staff/audit/?q=x").status_code == 200


def test_staff_without_two_factor_get_no_staff_link_elsewhere(sara: User) -> None:
    for client in (client_for(sara), client_for(make_person("new@example.com", staff=True))):
        page = client.get(reverse("dashboard"))
        assert page.status_code == 200
        assert f'href="{reverse("staff_home")}"' not in page.content.decode()
    page = client_for(sara, mfa=True).get(reverse("dashboard"))
    assert f'href="{reverse("staff_home")}"' in page.content.decode()


def test_removing_the_authenticator_ends_staff_powers(sara: User) -> None:
    from allauth.mfa.models import Authenticator

    client = client_for(sara, mfa=True)
    assert client.get("/staff/").status_code == 200
    Authenticator.objects.filter(user=sara).delete()
    assert client.get("/staff/")["Location"] == reverse("mfa_activate_totp")


def test_a_two_factor_record_of_another_account_does_not_count(sara: User) -> None:
    # allauth ties the records to the user id: a session that switches account loses them.
    other = make_person("other.staff@example.com", staff=True)
    enable_totp(other)
    client = client_for(sara, mfa=True)
    client.force_login(other)
    assert client.get("/staff/")["Location"].startswith(reverse("mfa_reauthenticate"))


def test_a_disabled_staff_account_has_no_powers(rf: RequestFactory, sara: User) -> None:
    from stormcert.lib.staff import has_staff_powers

    client = client_for(sara, mfa=True)
    request = rf.get("/")
    request.session = client.session
    request.user = sara
    assert has_staff_powers(request)
    sara.is_active = False
    request = rf.get("/")
    request.session = client.session
    request.user = sara
    assert not has_staff_powers(request)


def test_the_admin_site_itself_asks_for_two_factor(rf: RequestFactory, sara: User) -> None:
    # Behind StaffMFAMiddleware, the admin's own door asks has_staff_powers, not is_staff.
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = sara
    request.session = client_for(sara).session
    assert not admin.site.has_permission(request)
    request = rf.get("/admin/")
    request.user = sara
    request.session = client_for(sara, mfa=True).session
    assert admin.site.has_permission(request)
