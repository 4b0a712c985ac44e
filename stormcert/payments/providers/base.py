from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stormcert.payments.models import Payment, Refund


class ProviderError(Exception):
    """A provider refused or failed; the message is safe to show to the person."""


class PaymentProvider:
    code: str = ""
    label: str = ""
    # Shown on the order page under the button.
    help_text: str = ""

    def is_available(self) -> bool:
        return True

    def start(self, *, payment: Payment, return_url: str, cancel_url: str) -> str:
        """Begin paying; return where to send the person next."""
        raise NotImplementedError

    def resume_url(self, payment: Payment) -> str | None:
        """Where to send someone who clicks Pay again while this attempt is still open."""
        return None

    def refund(self, *, refund: Refund) -> tuple[str, bool]:
        """Send the money back; return (provider refund id, done now?)."""
        raise NotImplementedError
