"""Wrong passwords pause password sign-in for whoever guesses, not for the account's owner, and an
emailed one-time code always lets the owner in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, totp_code
from stormcert.accounts.models import User
from stormcert.emails.models import OutboundEmail

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.66"
ANOTHER_STRANGER = "203.0.113.67"
OWNER = "198.51.100.7"
PAUSED = "Too many wrong passwords for this email address."


def sign_in(client: Client, email: str, password: str) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password})


def guess_five_times(address: str, email: str = "alice@example.com") -> Client:
    stranger = Client(REMOTE_ADDR=address)
    for attempt in range(5):
        answer = sign_in(stranger, email, f"wrong-guess-{attempt}")
        assert "are not correct" in answer.content.decode()
    return stranger


def signed_in_as(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def code_from(message: OutboundEmail) -> str:
    match = re.search(rf"sign in to {re.escape(settings.SITE_NAME)}:\s+(\S+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(alice: User) -> None:
    stranger = guess_five_times(STRANGER)
    # The stranger is now paused, even with the right password.
    refused = sign_in(stranger, "alice@example.com", PASSWORD)
    assert refused.status_code == 200 and PAUSED in refused.content.decode()
    assert signed_in_as(stranger) is None

    owner = Client(REMOTE_ADDR=OWNER)
    answer = sign_in(owner, "alice@example.com", PASSWORD)
    assert answer.status_code == 302 and answer["Location"] == reverse("dashboard")
    assert signed_in_as(owner) == str(alice.pk)

    # The owner's success clears nothing for the stranger.
    again = sign_in(stranger, "alice@example.com", "wrong-guess-9")
    assert PAUSED in again.content.decode()


def test_the_paused_page_says_why_and_offers_a_sign_in_code(alice: User) -> None:
    stranger = guess_five_times(STRANGER)
    page = sign_in(stranger, "alice@example.com", "wrong-guess-6").content.decode()
    assert "Signing in with a password is paused for a while." in page
    assert "You can sign in now with a one-time code we email to this address." in page
    assert f'action="{reverse("account_request_login_code")}"' in page
    assert '<input type="hidden" name="email" value="alice@example.com">' in page
    assert "Email me a sign-in code" in page
    # Not paused: no offer of a code in place of the password error.
    fresh = sign_in(Client(REMOTE_ADDR=OWNER), "alice@example.com", "wrong-guess-1").content.decode()
    assert "Email me a sign-in code" not in fresh and PAUSED not in fresh


def test_the_pause_looks_the_same_for_an_address_without_an_account(alice: User) -> None:
    for email in ("alice@example.com", "nobody@example.com"):
        guesser = Client(REMOTE_ADDR=STRANGER)
        for attempt in range(5):
            sign_in(guesser, email, f"wrong-guess-{attempt}")
        page = sign_in(guesser, email, "wrong-guess-6").content.decode()
        assert PAUSED in page and "Email me a sign-in code" in page


def test_guessing_from_many_addresses_reaches_the_accounts_ceiling_and_the_owner_signs_in_by_code(
    alice: User, settings: Any
) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "20/m/ip,10/d/key"}
    guess_five_times(STRANGER)
    guess_five_times(ANOTHER_STRANGER)

    # Ten failures from anywhere: password sign-in is paused for everyone, the owner included ...
    owner = Client(REMOTE_ADDR=OWNER)
    page = sign_in(owner, "alice@example.com", PASSWORD)
    assert PAUSED in page.content.decode() and signed_in_as(owner) is None

    # ... who takes the code the page offers, from the email, and is in.
    asked = owner.post(reverse("account_request_login_code"), {"email": "alice@example.com"})
    assert asked.status_code == 302 and asked["Location"] == reverse("account_confirm_login_code")
    message = OutboundEmail.objects.get(to="alice@example.com")
    assert message.subject == f"Your {settings.SITE_NAME} sign-in code"
    assert message.user == alice
    assert "It works once, for 10 minutes." in message.body_text
    answer = owner.post(reverse("account_confirm_login_code"), {"code": code_from(message)})
    assert answer.status_code == 302 and answer["Location"] == reverse("dashboard")
    assert signed_in_as(owner) == str(alice.pk)


def test_a_wrong_sign_in_code_is_refused_and_a_used_one_does_not_work_twice(alice: User) -> None:
    owner = Client(REMOTE_ADDR=OWNER)
    owner.post(reverse("account_request_login_code"), {"email": "alice@example.com"})
    code = code_from(OutboundEmail.objects.get())
    wrong = owner.post(reverse("account_confirm_login_code"), {"code": "NOTIT1"})
    assert wrong.status_code == 200 and "Incorrect code." in wrong.content.decode()
    assert signed_in_as(owner) is None
    assert owner.post(reverse("account_confirm_login_code"), {"code": code}).status_code == 302
    owner.logout()
    replay = owner.post(reverse("account_confirm_login_code"), {"code": code})
    assert signed_in_as(owner) is None
    assert replay.status_code == 302 and replay["Location"] != reverse("dashboard")


def test_staff_signing_in_by_code_must_still_pass_two_factor(sara: User) -> None:
    # sara has an authenticator (conftest); the emailed code replaces her password, not her TOTP.
    client = Client(REMOTE_ADDR=OWNER)
    client.post(reverse("account_request_login_code"), {"email": sara.email})
    answer = client.post(
        reverse("account_confirm_login_code"), {"code": code_from(OutboundEmail.objects.get())}
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("mfa_authenticate")
    assert signed_in_as(client) is None
    assert client.get(reverse("staff_home")).status_code == 302
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert done.status_code == 302 and signed_in_as(client) == str(sara.pk)
    assert client.get(reverse("staff_home")).status_code == 200


def test_a_password_reset_lets_the_owner_use_the_password_again_from_their_address(alice: User) -> None:
    owner = guess_five_times(OWNER)  # the owner forgot the password and kept trying
    assert PAUSED in sign_in(owner, "alice@example.com", PASSWORD).content.decode()
    stranger = guess_five_times(STRANGER)
    owner.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    link = re.search(r"https?://\S+", OutboundEmail.objects.get(to="alice@example.com").body_text)
    assert link
    form_page = owner.get(link.group(0).split("testserver", 1)[-1], follow=True)
    form_url = form_page.redirect_chain[-1][0]
    new = "a-brand-new-passphrase"
    assert owner.post(form_url, {"password1": new, "password2": new}).status_code == 302
    assert sign_in(owner, "alice@example.com", new).status_code == 302
    assert PAUSED in sign_in(stranger, "alice@example.com", new).content.decode()


def test_one_address_cannot_reach_the_accounts_ceiling_alone(alice: User) -> None:
    # Five guesses every five minutes from one address stop at twenty a day: the stranger stays
    # paused, and the account stays far below the ceiling that would pause its owner.
    start = timezone.now()
    for window in range(4):
        with time_machine.travel(start + timedelta(minutes=6 * window)):
            guess_five_times(STRANGER)
    with time_machine.travel(start + timedelta(minutes=30)):
        stranger = Client(REMOTE_ADDR=STRANGER)
        assert PAUSED in sign_in(stranger, "alice@example.com", "wrong-guess-21").content.decode()
        owner = Client(REMOTE_ADDR=OWNER)
        assert sign_in(owner, "alice@example.com", PASSWORD).status_code == 302
    with time_machine.travel(start + timedelta(hours=25)):
        assert "are not correct" in sign_in(stranger, "alice@example.com", "wrong-guess-22").content.decode()
