from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tasks import task

from stormcert.emails.models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)


@task()
def deliver_email(message_id: int) -> str:
    """Hand one stored message to Django's email backend; safe to run twice."""
    # Claim the row: only one worker moves it out of QUEUED/FAILED, so a retried task never
    # sends the same message twice.
    claimed = OutboundEmail.objects.filter(
        pk=message_id, status__in=[EmailStatus.QUEUED, EmailStatus.FAILED]
    ).update(status=EmailStatus.SENDING)
    if not claimed:
        return "already handled"
    message = OutboundEmail.objects.get(pk=message_id)
    if settings.EMAIL_DELIVERY == "outbox":
        OutboundEmail.objects.filter(pk=message_id).update(status=EmailStatus.KEPT, sent_at=timezone.now())
        return "kept"
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=message.from_email, to=[message.to]
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for item in message.attachments:
        email.attach(item["filename"], item["content"], item.get("mimetype", "application/octet-stream"))
    try:
        email.send(fail_silently=False)
    except Exception as exc:  # any transport error: record it, staff see it in the failed queue
        log.warning("email %s to %s failed: %s", message_id, message.to, exc)
        OutboundEmail.objects.filter(pk=message_id).update(
            status=EmailStatus.FAILED, attempts=message.attempts + 1, last_error=str(exc)[:2000]
        )
        return "failed"
    OutboundEmail.objects.filter(pk=message_id).update(
        status=EmailStatus.SENT, attempts=message.attempts + 1, sent_at=timezone.now(), last_error=""
    )
    return "sent"
