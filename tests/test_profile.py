from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Alice",
    "last_name": "Alvarez-Reyes",
    "company": "Bayside Metal Finishing",
    "address_line1": "12 Harbor Way",
    "address_line2": "",
    "city": "Oakland",
    "state": "CA",
    "postal_code": "94607",
    "phone": "(510) 555-0134",
    "show_contact_in_directory": "on",
}


def test_profile_saves_name_contact_and_directory_choice(alice_client: Client, alice: User) -> None:
    response = alice_client.post(reverse("accounts:profile"), VALID, follow=True)
    assert "Your profile is saved." in response.content.decode()
    alice.refresh_from_db()
    assert alice.last_name == "Alvarez-Reyes"
    assert alice.profile.city == "Oakland" and alice.profile.show_contact_in_directory
    event = AuditEvent.objects.get(verb="profile.updated")
    assert event.data["last_name"] == ["Alvarez", "Alvarez-Reyes"]
    assert event.actor == alice


def test_bad_phone_and_zip_are_explained_and_nothing_is_saved(alice_client: Client, alice: User) -> None:
    response = alice_client.post(
        reverse("accounts:profile"), {**VALID, "phone": "call me", "postal_code": "9460"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a phone number with at least 7 digits" in body
    assert "Enter a ZIP code like 95814" in body
    assert 'value="12 Harbor Way"' in body  # what was typed stays
    alice.refresh_from_db()
    assert alice.last_name == "Alvarez" and alice.profile.city == ""
    assert not AuditEvent.objects.filter(verb="profile.updated").exists()


def test_saving_unchanged_profile_writes_no_event(alice_client: Client) -> None:
    alice_client.post(reverse("accounts:profile"), VALID)
    response = alice_client.post(reverse("accounts:profile"), VALID, follow=True)
    assert "Nothing changed." in response.content.decode()
    assert AuditEvent.objects.filter(verb="profile.updated").count() == 1


def test_name_is_required(alice_client: Client) -> None:
    response = alice_client.post(reverse("accounts:profile"), {**VALID, "first_name": ""})
    assert "This field is required." in response.content.decode()


def test_profile_requires_login(client: Client) -> None:
    assert client.get(reverse("accounts:profile")).status_code == 302
