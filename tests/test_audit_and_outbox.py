from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.audit.services import record
from stormcert.emails.models import EmailStatus, OutboundEmail
from stormcert.emails.services import send_templated_email
from stormcert.emails.tasks import deliver_email
from stormcert.enrollments.models import SelfAssessmentQuestion
from stormcert.programs.models import Program

pytestmark = pytest.mark.django_db


def test_record_keeps_actor_object_data_and_reason(alice: User, sara: User) -> None:
    event = record(
        actor=sara, verb="enrollment.extended", obj=alice, data={"days": 30}, reason="Medical leave"
    )
    assert event.actor_label == "sara@example.com"
    assert event.object_type == "accounts.user" and event.object_id == str(alice.pk)
    assert event.data == {"days": 30} and event.reason == "Medical leave"


def test_events_cannot_be_changed_or_deleted_through_the_orm(sara: User) -> None:
    event = record(actor=sara, verb="x.y")
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().update(verb="forged")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_to_change_events(sara: User) -> None:
    event = record(actor=sara, verb="x.y")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET verb = 'forged' WHERE id = %s", [event.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).verb == "x.y"


def test_staff_filter_the_audit_log(sara_client: Client, alice: User, sara: User) -> None:
    record(actor=sara, verb="certificate.revoked", obj=alice, reason="Fraud")
    record(actor=alice, verb="profile.updated", obj=alice)
    page = sara_client.get(reverse("audit:events"), {"verb": "certificate.revoked"}).content.decode()
    assert "certificate.revoked" in page and "Fraud" in page
    assert "profile.updated</code>" not in page
    page = sara_client.get(reverse("audit:events"), {"actor": "alice"}).content.decode()
    assert "profile.updated</code>" in page and "Fraud" not in page


def test_a_bad_date_filter_says_so(sara_client: Client) -> None:
    page = sara_client.get(reverse("audit:events"), {"since": "yesterday"}).content.decode()
    assert "“yesterday” is not a date; use YYYY-MM-DD." in page


def test_staff_read_the_outbox_and_a_message(sara_client: Client, alice: User) -> None:
    message = send_templated_email(
        template="account/email/password_reset_key",
        to=alice.email,
        context={"user": alice, "password_reset_url": "http://testserver/reset/xyz/"},
        user=alice,
    )
    listing = sara_client.get(reverse("emails:outbox"), {"to": "alice"}).content.decode()
    assert f"Reset your {settings.SITE_NAME} password" in listing
    detail = sara_client.get(reverse("emails:message", args=[message.pk])).content.decode()
    assert "http://testserver/reset/xyz/" in detail
    assert "sandbox" in detail  # the HTML part is shown in a sandboxed frame


def test_delivery_is_claimed_once_even_if_the_task_runs_twice(alice: User, settings: Any) -> None:
    from django.core import mail

    settings.EMAIL_DELIVERY = "smtp"
    message = send_templated_email(
        template="account/email/password_reset_key",
        to=alice.email,
        context={"user": alice, "password_reset_url": "u"},
    )
    deliver_email.call(message_id=message.pk)
    deliver_email.call(message_id=message.pk)
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT


def test_a_failed_delivery_is_recorded_for_staff(alice: User, settings: Any) -> None:
    settings.EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    message = send_templated_email(
        template="account/email/password_reset_key",
        to=alice.email,
        context={"user": alice, "password_reset_url": "u"},
    )
    assert deliver_email.call(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == EmailStatus.FAILED and message.attempts == 1 and message.last_error


def test_development_keeps_messages_without_sending(alice: User, settings: Any) -> None:
    from django.core import mail

    settings.EMAIL_DELIVERY = "outbox"
    message = OutboundEmail.objects.create(to=alice.email, from_email="a@b.c", subject="s", body_text="t")
    assert deliver_email.call(message_id=message.pk) == "kept"
    assert not mail.outbox


CHOICES = [{"label": "Not at all", "hours": 8}, {"label": "Well", "hours": 0}]


def test_admin_change_needs_a_reason_and_is_audited(sara_client: Client, programs: None) -> None:
    # Rule versions and fees are read-only in the admin (the staff rules editor changes them);
    # any other admin-edited model shows the same: a reason is required and the change audited.
    question = SelfAssessmentQuestion.objects.create(
        program=Program.objects.get(code="QISP"), position=1, text="Old wording", choices=CHOICES
    )
    url = reverse("admin:enrollments_selfassessmentquestion_change", args=[question.pk])
    data = {
        "program": question.program_id,
        "position": "1",
        "text": "New wording",
        "help": "",
        "choices": json.dumps(CHOICES),
    }
    refused = sara_client.post(url, data)
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    question.refresh_from_db()
    assert question.text == "Old wording"
    accepted = sara_client.post(url, {**data, "change_reason": "Clearer wording"})
    assert accepted.status_code == 302
    event = AuditEvent.objects.get(verb="admin.changed", object_type="enrollments.selfassessmentquestion")
    assert event.reason == "Clearer wording"
    assert event.data["changes"]["text"] == ["Old wording", "New wording"]
