"""Payment providers: small classes registered in one dict, looked up by code."""

from __future__ import annotations

from stormcert.payments.providers.base import Checkout, PaymentProvider, ProviderError
from stormcert.payments.providers.check import CheckProvider
from stormcert.payments.providers.stripe import StripeProvider
from stormcert.payments.providers.testmode import TestModeProvider

PROVIDERS: dict[str, PaymentProvider] = {
    p.code: p for p in (StripeProvider(), TestModeProvider(), CheckProvider())
}


def available_providers() -> list[PaymentProvider]:
    return [p for p in PROVIDERS.values() if p.is_available()]


def get_provider(code: str) -> PaymentProvider:
    provider = PROVIDERS.get(code)
    if provider is None or not provider.is_available():
        raise ProviderError("That payment method is not available; please choose another.")
    return provider


__all__ = ["PROVIDERS", "Checkout", "PaymentProvider", "ProviderError", "available_providers", "get_provider"]
