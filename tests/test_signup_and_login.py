"""Sign-up, email verification, login, password reset: the account lifecycle over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from stormcert.accounts.models import Profile, User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import OutboundEmail

pytestmark = pytest.mark.django_db

SIGNUP = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "email": "Maria.Lopez@Example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def link_in(message: OutboundEmail) -> str:
    match = re.search(r"https?://\S+", message.body_text)
    assert match, message.body_text
    return match.group(0).split("testserver", 1)[-1] if "testserver" in match.group(0) else match.group(0)


def test_signup_creates_one_account_profile_and_a_verification_email(client: Client) -> None:
    response = client.post(reverse("account_signup"), SIGNUP)
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "maria.lopez@example.com"
    assert (user.first_name, user.last_name) == ("Maria", "Lopez")
    assert Profile.objects.filter(user=user).exists()
    assert user.has_role("candidate") and not user.has_role("staff")
    message = OutboundEmail.objects.get()
    assert message.to == "maria.lopez@example.com"
    assert message.subject == f"Confirm your email address for {settings.SITE_NAME}"
    assert "/accounts/confirm-email/" in message.body_text
    assert "Please confirm that maria.lopez@example.com is your email address" in message.body_text
    assert "Confirm my email address" in message.body_html
    assert AuditEvent.objects.filter(verb="account.signed_up", object_id=str(user.pk)).count() == 1


def test_verification_link_confirms_the_address_and_login_reaches_the_dashboard(client: Client) -> None:
    client.post(reverse("account_signup"), SIGNUP)
    client.logout()
    url = link_in(OutboundEmail.objects.get())
    page = client.get(url)
    assert page.status_code == 200 and b"Confirm" in page.content
    client.post(url)
    assert EmailAddress.objects.get().verified
    response = client.post(
        reverse("account_login"), {"login": "maria.lopez@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    dashboard = client.get(reverse("dashboard"))
    assert b"Welcome, Maria" in dashboard.content
    assert AuditEvent.objects.filter(verb="account.email_verified").count() == 1


def test_unverified_account_cannot_sign_in(client: Client) -> None:
    client.post(reverse("account_signup"), SIGNUP)
    client.logout()
    response = client.post(reverse("account_login"), {"login": SIGNUP["email"], "password": PASSWORD})
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_weak_password_is_refused_and_nothing_is_created(client: Client) -> None:
    response = client.post(
        reverse("account_signup"), {**SIGNUP, "password1": "password", "password2": "password"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This password is too short" in body or "too common" in body
    assert 'value="maria.lopez@example.com"' in body.lower()
    assert not User.objects.exists()


def test_expired_verification_link_says_so_and_offers_a_new_one(client: Client) -> None:
    client.post(reverse("account_signup"), SIGNUP)
    client.logout()
    url = link_in(OutboundEmail.objects.get())
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        page = client.get(url)
        client.post(url)
    assert "expired or is invalid" in page.content.decode()
    assert not EmailAddress.objects.get().verified


def test_wrong_password_is_a_clear_error_and_keeps_the_email(client: Client, alice: User) -> None:
    response = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": "nope-nope-nope"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in body
    assert 'value="alice@example.com"' in body


def test_login_is_rate_limited_per_address(client: Client, alice: User) -> None:
    # More in tests/test_sign_in_throttling.py: the pause holds for this client address only.
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "alice@example.com", "password": "wrong-password-1"})
    response = client.post(reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD})
    assert "Signing in with a password is paused" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_that_sets_a_new_password(client: Client, alice: User) -> None:
    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    message = OutboundEmail.objects.get(to="alice@example.com")
    assert message.subject == f"Reset your {settings.SITE_NAME} password"
    url = link_in(message)
    page = client.get(url, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else url
    response = client.post(
        form_url, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase")


def test_dashboard_requires_login(client: Client) -> None:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_email_is_delivered_after_commit_through_django_backend(
    client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    settings.EMAIL_DELIVERY = "smtp"  # the backend is locmem under tests
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)
    assert len(mail.outbox) == 1
    assert getattr(mail.outbox[0], "alternatives", None)  # the HTML part travels with the text
    stored = OutboundEmail.objects.get()
    assert stored.status == "sent" and stored.sent_at is not None


def test_confirming_in_the_browser_that_signed_up_signs_the_person_in(client: Client) -> None:
    client.post(reverse("account_signup"), SIGNUP)
    url = link_in(OutboundEmail.objects.get())
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert b"Welcome, Maria" in client.get(reverse("dashboard")).content
    # The link alone, in another browser, confirms nothing more and signs nobody in.
    other = Client()
    other.post(url)
    assert "_auth_user_id" not in other.session


def test_every_confirmation_email_names_the_address_it_confirms(client: Client) -> None:
    client.post(reverse("account_signup"), SIGNUP)
    client.post(link_in(OutboundEmail.objects.get()))
    client.post(reverse("account_email"), {"action_add": "", "email": "second@example.com"})
    first, second = OutboundEmail.objects.order_by("pk")
    for message, address in ((first, "maria.lopez@example.com"), (second, "second@example.com")):
        assert f"Please confirm that {address} is your email address" in message.body_text
        assert f"<strong>{address}</strong>" in message.body_html
        assert "that  is" not in message.body_text and "<strong></strong>" not in message.body_html
