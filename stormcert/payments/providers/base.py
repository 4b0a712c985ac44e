from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stormcert.payments.models import Payment, Refund


class ProviderError(Exception):
    """A provider refused or failed; the message is safe to show to the person."""


@dataclass
class Checkout:
    """What a provider's `start` made: recorded on the payment under the order's lock, after the
    provider call (which may be slow, on the network) has returned."""

    url: str
    provider_id: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    # The payment now waits for someone to confirm it (a check in the mail).
    pending: bool = False


class PaymentProvider:
    code: str = ""
    label: str = ""
    # Shown on the order page under the button.
    help_text: str = ""

    def is_available(self) -> bool:
        return True

    def start(self, *, payment: Payment, return_url: str, cancel_url: str) -> Checkout:
        """Begin paying; return where to send the person next. Called outside any transaction:
        it must not write to the database (the caller records the result under the lock)."""
        raise NotImplementedError

    def discard(self, checkout: Checkout) -> None:
        """Close a checkout that was started but not kept (another click's checkout won), so the
        person cannot pay twice. Best effort: the default has nothing to close."""

    def resume_url(self, payment: Payment) -> str | None:
        """Where to send someone who clicks Pay again while this attempt is still open."""
        return None

    def refund(self, *, refund: Refund) -> tuple[str, bool]:
        """Send the money back; return (provider refund id, done now?)."""
        raise NotImplementedError
