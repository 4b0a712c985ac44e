from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from stormcert.payments.providers.base import Checkout, PaymentProvider

if TYPE_CHECKING:
    from stormcert.payments.models import Payment, Refund


class CheckProvider(PaymentProvider):
    """Check or purchase order: the order waits until staff record the payment."""

    code = "check"
    label = "Check or purchase order"
    help_text = "Mail a check or send a purchase order; your order is paid when staff record it."

    def is_available(self) -> bool:
        return bool(settings.PAYMENTS_CHECK_ENABLED)

    def start(self, *, payment: Payment, return_url: str, cancel_url: str) -> Checkout:
        # Back to the order page, which now shows the instructions.
        return Checkout(url=cancel_url, pending=True)

    def resume_url(self, payment: Payment) -> str | None:
        return None

    def refund(self, *, refund: Refund) -> tuple[str, bool]:
        # Staff send the money back themselves and record it; nothing to call.
        return "", True
