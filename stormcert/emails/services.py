"""Render, store and deliver email.

Every message is rendered from three templates (`<prefix>_subject.txt`, `<prefix>_message.txt`,
`<prefix>_message.html`), stored in the outbox, and delivered by a task after the surrounding
transaction commits, so a rolled-back workflow never sends mail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from stormcert.emails.models import EmailStatus, OutboundEmail
from stormcert.emails.tasks import deliver_email


def render_email(template_prefix: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Return (subject, text, html) for a template prefix; html is "" when there is none."""
    ctx = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        # Where every message may send its reader when it has no more particular next step.
        "dashboard_url": _site_link("dashboard"),
        "help_url": _site_link("help"),
        **context,
    }
    subject = " ".join(render_to_string(f"{template_prefix}_subject.txt", ctx).split())
    text = render_to_string(f"{template_prefix}_message.txt", ctx).strip() + "\n"
    html: str
    try:
        html = render_to_string(f"{template_prefix}_message.html", ctx)
    except TemplateDoesNotExist:
        html = ""
    return subject, text, html


def _site_link(name: str) -> str:
    try:
        return settings.SITE_URL.rstrip("/") + reverse(name)
    except NoReverseMatch:  # a URL configuration without the page (some tests)
        return settings.SITE_URL


def queue_email(
    *,
    to: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    template: str = "",
    user: Any | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> OutboundEmail:
    message = OutboundEmail.objects.create(
        attachments=attachments or [],
        to=to,
        from_email=settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        template=template,
        user=user if getattr(user, "pk", None) else None,
    )
    transaction.on_commit(lambda: deliver_email.enqueue(message_id=message.pk))
    return message


def send_templated_email(
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    user: Any | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> OutboundEmail:
    subject, text, html = render_email(template, context)
    return queue_email(
        to=to,
        subject=subject,
        body_text=text,
        body_html=html,
        template=template,
        user=user,
        attachments=attachments,
    )


def send_once(
    *,
    claim: Callable[[], bool],
    template: str,
    to: str,
    context: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    user: Any | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> bool:
    """Send a message that must go out once (a reminder, a notice): `claim` marks it sent, on a
    row, and says whether this call won (`lib.db.claim_stamp`, `lib.db.claim_row`); only the
    winner renders and queues the message. True when this call sent it.

    The claim and the queued message commit together (the caller's transaction, else one of
    its own): a second `tick` at the same moment sends nothing, and a failure after the claim
    undoes it, so the next run sends the message. `context` may be a function, for context that
    costs queries: it is built only once the claim is won. The caller audits the sending in the
    same transaction."""
    with transaction.atomic():
        if not claim():
            return False
        send_templated_email(
            template=template,
            to=to,
            user=user,
            context=dict(context() if callable(context) else context),
            attachments=attachments,
        )
    return True


def queue_rendered(
    message: EmailMultiAlternatives, *, template: str, user: Any | None = None
) -> OutboundEmail:
    """Store and deliver a message another library rendered (allauth's account emails)."""
    html = ""
    for content, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/html":
            html = str(content)
    return queue_email(
        to=message.to[0],
        subject=str(message.subject),
        body_text=str(message.body),
        body_html=html,
        template=template,
        user=user,
    )


# A worker that died while handing a message to the relay leaves it "sending". After this long
# it is counted as failed and tried again: it may then arrive twice, which beats never.
STUCK_SENDING = timedelta(minutes=15)


def retry_failed(*, now: datetime | None = None) -> int:
    """Queue again every failed message whose next try is due (tick). Returns how many."""
    now = now or timezone.now()
    OutboundEmail.objects.filter(status=EmailStatus.SENDING, created_at__lt=now - STUCK_SENDING).update(
        status=EmailStatus.FAILED,
        last_error="The worker stopped while sending; tried again.",
        next_try_at=now,
    )
    due = list(
        OutboundEmail.objects.filter(status=EmailStatus.FAILED, next_try_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        deliver_email.enqueue(message_id=pk)
    return len(due)


class NotFailed(ValueError):
    pass


def send_again(*, message: OutboundEmail, now: datetime | None = None) -> None:
    """Try a failed message again now (the relay was fixed). The caller (a staff view) audits it:
    this layer sits beside the audit app, not above it."""
    now = now or timezone.now()
    if message.status != EmailStatus.FAILED:
        raise NotFailed(
            f"Only a failed message can be sent again; this one is {message.get_status_display().lower()}."
        )
    OutboundEmail.objects.filter(pk=message.pk).update(next_try_at=now)
    transaction.on_commit(lambda: deliver_email.enqueue(message_id=message.pk))
