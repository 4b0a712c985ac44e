from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from stormcert.payments.providers.base import Checkout, PaymentProvider

if TYPE_CHECKING:
    from stormcert.payments.models import Payment, Refund


class TestModeProvider(PaymentProvider):
    """A local checkout page that approves or declines: the demo works without Stripe keys."""

    code = "testmode"
    label = "Card (test mode)"
    help_text = "Demo only: a local page approves or declines; no money moves."

    def is_available(self) -> bool:
        return bool(settings.PAYMENTS_TEST_MODE)

    def start(self, *, payment: Payment, return_url: str, cancel_url: str) -> Checkout:
        return Checkout(url=reverse("payments:testmode_checkout", args=[payment.pk]))

    def resume_url(self, payment: Payment) -> str | None:
        return reverse("payments:testmode_checkout", args=[payment.pk])

    def refund(self, *, refund: Refund) -> tuple[str, bool]:
        return f"test_refund_{refund.pk}", True
