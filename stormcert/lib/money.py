"""Money is a Decimal with two places and a currency; integer minor units only at providers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal) -> int:
    """$505.00 -> 50500 (every currency we take has two decimal places)."""
    return int((money(amount) * 100).to_integral_value())


def from_minor(units: int) -> Decimal:
    return money(Decimal(units) / 100)


def format_money(amount: Decimal, currency: str = "USD") -> str:
    return f"${money(amount):,.2f}" if currency == "USD" else f"{money(amount):,.2f} {currency}"
