"""Sign-up, password reset and sign-in codes answer the same for an address with an account and one
without; the address's owner learns by email what happened."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.html import strip_tags

from conftest import PASSWORD
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import OutboundEmail

pytestmark = pytest.mark.django_db


def signup(email: str) -> dict[str, str]:
    return {
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }


def page_text(client: Client, response: object) -> str:
    """What a person reads after the answer: the page it redirects to, as text, addresses masked."""
    location = response["Location"]  # type: ignore[index]
    body = client.get(location).content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    # A page may repeat the address typed; that is no news. Anything else must be the same.
    body = re.sub(r"[\w.+-]+@example\.com", "ADDRESS", body, flags=re.IGNORECASE)
    return " ".join(strip_tags(body).split())


def test_signup_with_a_taken_address_looks_like_any_signup_and_tells_the_owner(alice: User) -> None:
    taken, new = Client(), Client()
    answer_taken = taken.post(reverse("account_signup"), signup("ALICE@example.com"))
    answer_new = new.post(reverse("account_signup"), signup("maria@example.com"))

    assert answer_taken.status_code == answer_new.status_code == 302
    assert answer_taken["Location"] == answer_new["Location"] == reverse("account_email_verification_sent")
    assert page_text(taken, answer_taken) == page_text(new, answer_new)
    assert "Verify Your Email Address" in page_text(taken, answer_taken)

    # No second account, no change to alice's, and she is told what happened and what to do.
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1
    assert User.objects.count() == 2
    assert not AuditEvent.objects.filter(verb="account.signed_up", object_id=str(alice.pk)).exists()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD) and alice.first_name != "Maria"
    message = OutboundEmail.objects.get(to="alice@example.com")
    assert message.subject == f"You already have a {settings.SITE_NAME} account"
    assert message.user == alice
    assert f"tried to create a new {settings.SITE_NAME} account with alice@example.com" in message.body_text
    assert "no new account was made" in message.body_text
    assert "/accounts/password/reset/" in message.body_text
    assert "/accounts/password/reset/" in message.body_html
    assert OutboundEmail.objects.get(to="maria@example.com").subject.startswith("Confirm your email")


def test_repeated_signups_with_a_taken_address_create_nothing_and_do_not_flood_the_owner(
    client: Client, alice: User
) -> None:
    for _ in range(3):
        answer = client.post(reverse("account_signup"), signup("alice@example.com"))
        assert answer.status_code == 302
    assert User.objects.count() == 1
    # allauth's confirmation cooldown (ACCOUNT_RATE_LIMITS["confirm_email"]) covers this mail too.
    assert OutboundEmail.objects.filter(to="alice@example.com").count() == 1


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(alice: User) -> None:
    known, unknown = Client(), Client()
    answer_known = known.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    answer_unknown = unknown.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert answer_known.status_code == answer_unknown.status_code == 302
    assert answer_known["Location"] == answer_unknown["Location"] == reverse("account_reset_password_done")
    assert page_text(known, answer_known) == page_text(unknown, answer_unknown)

    assert (
        OutboundEmail.objects.get(to="alice@example.com").subject
        == f"Reset your {settings.SITE_NAME} password"
    )
    # Whoever holds the unknown address learns there is no account there and how to make one.
    told = OutboundEmail.objects.get(to="nobody@example.com")
    assert told.subject == f"No {settings.SITE_NAME} account uses this address"
    assert "No account uses this address" in told.body_text
    assert "/accounts/signup/" in told.body_text
    assert told.user is None
    assert User.objects.count() == 1


def test_asking_for_a_sign_in_code_answers_the_same_for_known_and_unknown_addresses(alice: User) -> None:
    known, unknown = Client(), Client()
    answer_known = known.post(reverse("account_request_login_code"), {"email": "alice@example.com"})
    answer_unknown = unknown.post(reverse("account_request_login_code"), {"email": "nobody@example.com"})

    assert answer_known.status_code == answer_unknown.status_code == 302
    assert answer_known["Location"] == answer_unknown["Location"]
    assert page_text(known, answer_known) == page_text(unknown, answer_unknown)
    assert (
        OutboundEmail.objects.get(to="alice@example.com").subject == f"Your {settings.SITE_NAME} sign-in code"
    )
    assert OutboundEmail.objects.get(to="nobody@example.com").subject == (
        f"No {settings.SITE_NAME} account uses this address"
    )
    assert User.objects.count() == 1


def test_a_taken_address_still_costs_a_password_hash(
    client: Client, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real sign-up hashes the password (slow by design); skipping it for a taken address would
    # let the answer's timing tell what its page does not.
    from stormcert.accounts import forms

    hashed: list[str] = []
    real = forms.make_password

    def recording(password: str) -> str:
        hashed.append(password)
        return real(password)

    monkeypatch.setattr(forms, "make_password", recording)
    client.post(reverse("account_signup"), signup("alice@example.com"))
    assert hashed == [PASSWORD]


def test_only_the_suite_hashes_passwords_fast() -> None:
    # The suite swaps in MD5 (conftest.TEST_PASSWORD_HASHERS) to save minutes; the hash the test
    # above counts is slow only if the settings people run with keep a slow hasher first.
    from django.conf import global_settings
    from django.contrib.auth.hashers import get_hasher

    import stormcert.settings as production
    from conftest import TEST_PASSWORD_HASHERS

    hashers = getattr(production, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] not in TEST_PASSWORD_HASHERS
    assert hashers[0].endswith(("PBKDF2PasswordHasher", "Argon2PasswordHasher", "ScryptPasswordHasher"))
    assert get_hasher().algorithm == "md5"  # and the suite does run with the fast one


def test_adding_an_address_another_account_has_answers_like_any_other(alice: User, eve: User) -> None:
    from allauth.account.models import EmailAddress

    from conftest import client_for

    eves = client_for(eve)
    taken = eves.post(reverse("account_email"), {"action_add": "", "email": "alice@example.com"})
    fresh = eves.post(reverse("account_email"), {"action_add": "", "email": "eve.work@example.com"})
    assert taken.status_code == fresh.status_code == 302
    # Nothing of alice's moves to eve: even alice following the link sent to her cannot verify
    # it for eve's account, as her own account has it verified (ACCOUNT_UNIQUE_EMAIL).
    sent = OutboundEmail.objects.get(to="alice@example.com")
    assert f"If you did not ask to add this address to a {settings.SITE_NAME} account" in sent.body_text
    link = re.search(r"https?://testserver(\S+)", sent.body_text)
    assert link
    followed = Client().post(link.group(1), follow=True)
    assert followed.status_code == 200, followed.redirect_chain
    assert EmailAddress.objects.get(email="alice@example.com", verified=True).user == alice
    assert not EmailAddress.objects.filter(user=eve, email="alice@example.com", verified=True).exists()


@pytest.mark.parametrize("url_name", ["account_reset_password", "account_signup"])
@pytest.mark.django_db
def test_an_address_longer_than_any_mailbox_is_refused_in_words(url_name: str) -> None:
    # On PostgreSQL the unknown-account email to a 300-character address overflowed the outbox's
    # column: a 500 (found by tests/security/test_bad_input.py).
    address = "x" * 300 + "@example.com"
    response = Client().post(
        reverse(url_name),
        {"email": address, "password1": "a-long-enough-pass-9", "password2": "a-long-enough-pass-9"},
    )
    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert not OutboundEmail.objects.exists()
