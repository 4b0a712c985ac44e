"""Email as it is really sent: Django's SMTP backend talking to a real SMTP server (aiosmtpd on
127.0.0.1). What arrives (headers, text and HTML parts, the receipt PDF), and what happens when the
relay refuses or cannot be reached: the message stays in the outbox as failed, is tried again by
tick, is shown to staff, who can send it again with a reason, and is never lost."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import EmailStatus, OutboundEmail
from stormcert.emails.services import retry_failed, send_templated_email
from stormcert.payments.models import Order
from stormcert.programs.models import Program
from tests.enrollments.builders import enroll_and_register

pytestmark = pytest.mark.django_db


class Relay:
    """An aiosmtpd handler that keeps what it receives, or refuses recipients when told to."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.refuse = ""
        self.port = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.original_content, policy=policy.default) for e in self.received]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def relay(settings: Any) -> Iterator[Relay]:
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.port = controller.port
    settings.EMAIL_DELIVERY = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "QISP Program <qisp@example.org>"
    try:
        yield handler
    finally:
        controller.stop()


def _registration_paid(user: User, django_capture_on_commit_callbacks: Any) -> str:
    program = Program.objects.get(code="QISP")
    with django_capture_on_commit_callbacks(execute=True):
        enroll_and_register(user, program, timezone.now())
    return Order.objects.filter(user=user).latest("created_at").number


def test_a_payment_confirmation_arrives_with_text_html_and_the_receipt(
    relay: Relay, programs: None, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    number = _registration_paid(alice, django_capture_on_commit_callbacks)
    stored = OutboundEmail.objects.get(template="payments/email/payment_confirmation")
    assert stored.status == EmailStatus.SENT and stored.attempts == 1
    envelope = next(e for e in relay.received if alice.email in e.rcpt_tos)
    assert envelope.mail_from == "qisp@example.org"
    message = next(m for m in relay.messages() if m["Subject"] == stored.subject)
    assert message["To"] == alice.email and message["From"] == "QISP Program <qisp@example.org>"
    assert message["Message-ID"] and message["Date"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert number in text.get_content() and "attached as a PDF" in text.get_content()
    assert "<a href=" in html.get_content() and "attached as a PDF" in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"receipt-{number}.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-")
    # The receipt was made when the email was sent, after the order was paid.
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    words = document[0].get_textpage().get_text_range()
    assert number in words and "Paid" in words


def test_utf8_subject_and_body_survive_the_trip(
    relay: Relay, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_email(
            template="account/email/unknown_account",
            to="zoë@example.org",
            context={"email": "zoë@example.org"},
        )
    [message] = relay.messages()
    assert message["To"] == "zoë@example.org"
    assert "zoë@example.org" in message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_refusing_relay_leaves_the_message_failed_then_tick_sends_it(
    relay: Relay, programs: None, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    relay.refuse = "550 5.7.1 Relaying denied"
    _registration_paid(alice, django_capture_on_commit_callbacks)
    stored = OutboundEmail.objects.get(template="payments/email/payment_confirmation")
    assert stored.status == EmailStatus.FAILED and stored.attempts == 1
    assert "Relaying denied" in stored.last_error
    assert stored.next_try_at is not None and stored.next_try_at > timezone.now()
    assert relay.received == []
    # Not due yet: nothing happens. Once due (the relay fixed meanwhile): sent, once.
    assert retry_failed(now=timezone.now()) == 0
    relay.refuse = ""
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_failed(now=stored.next_try_at + timedelta(seconds=1)) == 1
    stored.refresh_from_db()
    assert stored.status == EmailStatus.SENT and stored.attempts == 2 and stored.last_error == ""
    assert [m["Subject"] for m in relay.messages()].count(stored.subject) == 1


def test_an_unreachable_relay_is_shown_to_staff_who_send_it_again_with_a_reason(
    relay: Relay, settings: Any, sara: User, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_email(
            template="account/email/unknown_account", to=alice.email, context={"email": alice.email}
        )
    stored = OutboundEmail.objects.get()
    assert stored.status == EmailStatus.FAILED and "ConnectionRefusedError" in stored.last_error
    staff: Client = client_for(sara, mfa=True)
    listing = staff.get("/staff/outbox/?status=failed").content.decode()
    assert stored.subject in listing
    page = staff.get(f"/staff/outbox/{stored.pk}/").content.decode()
    assert "Send it again now" in page and "ConnectionRefusedError" in page
    # No reason: refused, and nothing is sent.
    response = staff.post(f"/staff/outbox/{stored.pk}/send-again/", {"reason": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    settings.EMAIL_PORT = relay.port
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/staff/outbox/{stored.pk}/send-again/", {"reason": "Relay restarted"})
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.status == EmailStatus.SENT, stored.last_error
    event = AuditEvent.objects.get(verb="email.sent_again")
    assert event.actor == sara and event.reason == "Relay restarted"
    # A message that is not failed cannot be sent again.
    response = staff.post(f"/staff/outbox/{stored.pk}/send-again/", {"reason": "again"}, follow=True)
    assert "Only a failed message can be sent again" in response.content.decode()


def test_a_message_that_keeps_failing_stops_being_retried(
    relay: Relay, settings: Any, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_MAX_ATTEMPTS = 2
    relay.refuse = "550 5.1.1 No such user"
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_email(
            template="account/email/unknown_account", to=alice.email, context={"email": alice.email}
        )
    retry_failed(now=timezone.now() + timedelta(hours=1))
    stored = OutboundEmail.objects.get()
    stored.refresh_from_db()
    assert stored.status == EmailStatus.FAILED and stored.attempts == 2 and stored.next_try_at is None
    assert retry_failed(now=timezone.now() + timedelta(days=1)) == 0
