from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings

from stormcert.lib.money import to_minor
from stormcert.payments.providers.base import Checkout, PaymentProvider, ProviderError

if TYPE_CHECKING:
    from stormcert.payments.models import Payment, Refund

logger = logging.getLogger(__name__)


def stripe_client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=2,
    )


class StripeProvider(PaymentProvider):
    """Stripe Checkout. The order becomes paid only on Stripe's signed word (webhook or re-fetch)."""

    code = "stripe"
    label = "Card"
    help_text = "Pay by card on Stripe's secure page."

    def is_available(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY)

    def start(self, *, payment: Payment, return_url: str, cancel_url: str) -> Checkout:
        order = payment.order
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": to_minor(line.amount),
                        "product_data": {"name": line.description},
                    },
                }
                for line in order.lines.all()
            ],
            "success_url": return_url + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": cancel_url,
            "client_reference_id": order.number,
            "customer_email": order.user.email,
            "metadata": {"order": order.number, "payment": str(payment.pk)},
        }
        try:
            # The idempotency key makes a retried request return the same session: one order
            # attempt can never become two charges.
            session = stripe_client().v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"stormcert-payment-{payment.pk}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(
                f"The card payment could not be started: {exc.user_message or 'Stripe is unavailable'}."
            ) from exc
        return Checkout(url=str(session.url), provider_id=session.id, info={"checkout_url": session.url})

    def discard(self, checkout: Checkout) -> None:
        # Expiring the session closes its page, so only the kept checkout can take money. If
        # Stripe cannot be reached the session expires on its own (24 hours) and a payment on
        # it would still arrive by webhook, be recorded, and show as overpaid to staff.
        try:
            stripe_client().v1.checkout.sessions.expire(checkout.provider_id)
        except stripe.StripeError:
            logger.warning("Could not expire the unused Stripe checkout %s", checkout.provider_id)

    def resume_url(self, payment: Payment) -> str | None:
        url = payment.info.get("checkout_url")
        return str(url) if url else None

    def retrieve_session(self, session_id: str) -> Any:
        try:
            return stripe_client().v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            raise ProviderError(
                "Stripe could not be reached to check this payment; try again shortly."
            ) from exc

    def refund(self, *, refund: Refund) -> tuple[str, bool]:
        payment_intent = refund.payment.info.get("payment_intent")
        if not payment_intent:
            raise ProviderError(
                "This card payment has no Stripe payment intent on file; refund it in Stripe."
            )
        try:
            result = stripe_client().v1.refunds.create(
                params={"payment_intent": payment_intent, "amount": to_minor(refund.amount)},
                options={"idempotency_key": f"stormcert-refund-{refund.pk}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
        if result.status == "failed":
            raise ProviderError("Stripe reports the refund failed.")
        return result.id, True
