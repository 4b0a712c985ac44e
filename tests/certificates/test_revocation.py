"""Staff revoke and reinstate with a reason; it is audited and the public answers follow at once."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db


def test_staff_revoke_and_reinstate_with_a_reason(
    alice: User, sara: User, programs: None, client: Client
) -> None:
    certificate = certify(alice)
    staff = client_for(sara, mfa=True)
    detail = f"/staff/certificates/{certificate.pk}/"
    assert certificate.number in staff.get("/staff/certificates/").content.decode()
    assert staff.get(detail).status_code == 200

    refused = staff.post(f"{detail}revoke/", {"reason": "  "})
    assert refused.status_code == 400 and "Give a reason" in refused.content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    response = staff.post(f"{detail}revoke/", {"reason": "Certificate obtained by fraud"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert (
        certificate.revoked_at is not None and certificate.revoked_reason == "Certificate obtained by fraud"
    )
    event = AuditEvent.objects.get(verb="certificate.revoked")
    assert event.actor == sara and event.reason == "Certificate obtained by fraud"
    assert client.get(f"/api/verify/{certificate.number}").json()["status"] == "revoked"
    page = client.get(f"/verify/{certificate.number}/").content.decode()
    assert "Revoked" in page
    assert "Revoked" in client.get("/directory/?q=alvarez").content.decode()
    revoked_ids = [
        c["id"] for c in client.get("/credentials/revocations/QISP.json").json()["revokedCredentials"]
    ]
    assert revoked_ids == [certificate.credential_id]

    again = staff.post(f"{detail}revoke/", {"reason": "twice"})
    assert again.status_code == 400 and "is already revoked" in again.content.decode()

    staff.post(f"{detail}reinstate/", {"reason": "Appeal upheld"})
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    assert AuditEvent.objects.get(verb="certificate.reinstated").reason == "Appeal upheld"
    assert client.get(f"/api/verify/{certificate.number}").json()["status"] == "valid"
    assert client.get("/credentials/revocations/QISP.json").json()["revokedCredentials"] == []


def test_non_staff_cannot_revoke(alice: User, eve: User, programs: None, client: Client) -> None:
    certificate = certify(alice)
    for person in (alice, eve):
        response = client_for(person).post(f"/staff/certificates/{certificate.pk}/revoke/", {"reason": "x"})
        assert response.status_code == 403
    anonymous = client.post(f"/staff/certificates/{certificate.pk}/revoke/", {"reason": "x"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
