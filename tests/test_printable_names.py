"""The profile and sign-up forms take a name in any script the certificate can print, and name the
characters it cannot print instead of a certificate that silently leaves them out."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from stormcert.accounts.models import User
from tests.test_profile import VALID

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Françoise-Éléonore", "Łukasiewicz-Øvergård"),
        ("Αικατερίνη", "Παπαδοπούλου"),
        ("Александра", "Жуковская"),
        ("花子", "山田"),
        ("建国", "欧阳"),
        ("محمد", "الهاشمي"),
        ("שרה", "כהן"),
    ],
)
def test_a_name_in_any_printable_script_is_saved(
    alice_client: Client, alice: User, first: str, last: str
) -> None:
    response = alice_client.post(
        reverse("accounts:profile"), {**VALID, "first_name": first, "last_name": last}, follow=True
    )
    assert "Your profile is saved." in response.content.decode()
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == (first, last)


def test_characters_the_certificate_cannot_print_are_named_and_nothing_is_saved(
    alice_client: Client, alice: User
) -> None:
    response = alice_client.post(
        reverse("accounts:profile"), {**VALID, "first_name": "Ana\ue000", "last_name": "Lima\U00010000"}
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert body.count("The certificate cannot print") == 2
    assert "U+E000" in body and "LINEAR B SYLLABLE B008 A" in body and "U+10000" in body
    alice.refresh_from_db()
    assert alice.first_name == "Alice"


def test_sign_up_refuses_an_unprintable_name_the_same_way(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "first_name": "Maria\u0007",
            "last_name": "Lopez",
            "email": "maria@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert "The certificate cannot print" in html.unescape(response.content.decode())
    assert not User.objects.filter(email__iexact="maria@example.com").exists()
