from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tasks import task

from stormcert.emails.attachments import materialise
from stormcert.emails.models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)


def next_try(attempts: int, now: datetime) -> datetime:
    """When a message that failed `attempts` times is tried again: 2, 4, 8 … minutes, at most 6 h,
    so a relay that is down for an afternoon gets the mail once it is back, without hammering it."""
    return now + timedelta(minutes=min(2**attempts, 360))


@task()
def deliver_email(message_id: int) -> str:
    """Hand one stored message to Django's email backend; safe to run twice."""
    # Claim the row: only one worker moves it out of QUEUED/FAILED, so a retried task never
    # sends the same message twice.
    claimed = OutboundEmail.objects.filter(
        pk=message_id, status__in=[EmailStatus.QUEUED, EmailStatus.FAILED]
    ).update(status=EmailStatus.SENDING, next_try_at=None)
    if not claimed:
        return "already handled"
    message = OutboundEmail.objects.get(pk=message_id)
    if settings.EMAIL_DELIVERY == "outbox":
        OutboundEmail.objects.filter(pk=message_id).update(status=EmailStatus.KEPT, sent_at=timezone.now())
        return "kept"
    try:
        email = EmailMultiAlternatives(
            subject=message.subject, body=message.body_text, from_email=message.from_email, to=[message.to]
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        for item in message.attachments:
            email.attach(*materialise(item))
        email.send(fail_silently=False)
    except Exception as exc:  # any transport or rendering error: record it; tick tries again later
        now = timezone.now()
        log.warning("email %s to %s failed: %s", message_id, message.to, exc)
        OutboundEmail.objects.filter(pk=message_id).update(
            status=EmailStatus.FAILED,
            attempts=message.attempts + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_try_at=next_try(message.attempts + 1, now)
            if message.attempts + 1 < settings.EMAIL_MAX_ATTEMPTS
            else None,
        )
        return "failed"
    OutboundEmail.objects.filter(pk=message_id).update(
        status=EmailStatus.SENT, attempts=message.attempts + 1, sent_at=timezone.now(), last_error=""
    )
    return "sent"
