"""Stripe's signed webhooks: verify, record the event once, act on it."""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stormcert.lib.money import from_minor
from stormcert.payments.models import Payment, Provider, WebhookEvent
from stormcert.payments.services import bounded_transaction, confirm_payment, fail_payment

log = logging.getLogger(__name__)

PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
FAILED_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}


def apply_checkout_session(session: Any) -> str:
    """Confirm our payment from a Checkout Session Stripe vouched for (webhook or re-fetch)."""
    session = session.to_dict() if hasattr(session, "to_dict") else dict(session)
    payment = Payment.objects.filter(provider=Provider.STRIPE, provider_id=session["id"]).first()
    if payment is None:
        return "no payment for this session"
    if session["payment_status"] == "paid":
        changed = confirm_payment(
            payment_id=payment.pk,
            amount=from_minor(session["amount_total"]),
            info={"payment_intent": session.get("payment_intent")},
        )
        return "confirmed" if changed else "already confirmed"
    return "not paid yet"


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        # A forged, altered or stale (older than the tolerance) delivery: refuse, write nothing.
        return HttpResponse(f"Invalid webhook: {exc}", status=400, content_type="text/plain")
    try:
        with bounded_transaction():
            try:
                with transaction.atomic():
                    row = WebhookEvent.objects.create(
                        provider=Provider.STRIPE,
                        event_id=event["id"],
                        type=event["type"],
                        payload=event.to_dict(),
                    )
            except IntegrityError:
                return HttpResponse("Already handled.", content_type="text/plain")
            obj = event["data"]["object"]
            if event["type"] in PAID_EVENTS:
                outcome = apply_checkout_session(obj)
            elif event["type"] in FAILED_EVENTS:
                payment = Payment.objects.filter(provider=Provider.STRIPE, provider_id=obj["id"]).first()
                outcome = (
                    "failed"
                    if payment and fail_payment(payment_id=payment.pk, reason=event["type"])
                    else "nothing to fail"
                )
            else:
                outcome = "ignored"
            WebhookEvent.objects.filter(pk=row.pk).update(outcome=outcome)
    except OperationalError as exc:
        # Lock contention (another delivery or staff action holds the order): Stripe retries.
        log.warning("stripe webhook %s deferred: %s", event["id"], exc)
        return HttpResponse("Busy, retry later.", status=503, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")
