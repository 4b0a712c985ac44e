"""What paying an order does, registered by the apps that sell things.

An app registers a function for a purpose ("qisp.registration") in its AppConfig.ready();
`fulfil_order` calls it once per line when the order becomes paid, inside the same
transaction and under the order's row lock, so fulfilment happens exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from stormcert.lib.links import NextStep

if TYPE_CHECKING:
    from stormcert.payments.models import Order, OrderLine
    from stormcert.programs.models import Fee

Fulfiller = Callable[["OrderLine", datetime], None]
FULFILLERS: dict[str, Fulfiller] = {}

# A surcharge line (a late fee) rides on an order whose main line does the delivering.
SURCHARGE = "payments.surcharge"


def register(purpose: str) -> Callable[[Fulfiller], Fulfiller]:
    def decorator(function: Fulfiller) -> Fulfiller:
        if purpose in FULFILLERS and FULFILLERS[purpose] is not function:
            raise ValueError(f"A fulfilment for {purpose!r} is already registered.")
        FULFILLERS[purpose] = function
        return function

    return decorator


def _surcharge(line: OrderLine, now: datetime) -> None:
    """Nothing to deliver: the order's main line is fulfilled in the same pass."""


FULFILLERS[SURCHARGE] = _surcharge


@dataclass(frozen=True)
class Price:
    """What a line costs if paid at a given moment, and what the order page says about it."""

    fee: Fee
    description: str
    note: str = ""


# Purposes whose price depends on the day it is paid (a renewal: on time through the expiry day,
# late from the next). `payments.services.reprice` asks before a payment starts and when the
# order is shown; a function returns None when it has nothing to say (renewal no longer possible).
Pricer = Callable[["OrderLine", datetime], Price | None]
PRICERS: dict[str, Pricer] = {}


def register_pricer(purpose: str) -> Callable[[Pricer], Pricer]:
    def decorator(function: Pricer) -> Pricer:
        PRICERS[purpose] = function
        return function

    return decorator


# What to do once an order is paid ("Start the online training"), by the purpose of its lines: the
# order page, the receipt and the payment confirmation email end with it. Registered by the app
# that knows where the bought thing lives; an order with none points to the dashboard.
NextStepper = Callable[["OrderLine"], NextStep | None]
NEXT_STEPS: dict[str, NextStepper] = {}


def register_next_step(purpose: str) -> Callable[[NextStepper], NextStepper]:
    def decorator(function: NextStepper) -> NextStepper:
        NEXT_STEPS[purpose] = function
        return function

    return decorator


def next_step(order: Order) -> NextStep | None:
    """The first line's next step that has one."""
    for line in order.lines.all():
        stepper = NEXT_STEPS.get(line.purpose)
        found = stepper(line) if stepper is not None else None
        if found is not None:
            return found
    return None


def is_registered(purpose: str) -> bool:
    return purpose in FULFILLERS


def fulfil_order(order: Order, now: datetime) -> None:
    """Call each line's fulfilment; the caller holds the order's row lock."""
    from stormcert.audit.services import record

    for line in order.lines.filter(fulfilled_at__isnull=True):
        fulfiller = FULFILLERS.get(line.purpose)
        if fulfiller is None:
            # The money is real even if the code that delivers the item is gone: keep the
            # payment, leave the line unfulfilled, and tell staff.
            record(
                actor=None,
                verb="order.fulfilment_missing",
                obj=order,
                data={"purpose": line.purpose},
                now=now,
            )
            continue
        fulfiller(line, now)
        line.fulfilled_at = now
        line.save(update_fields=["fulfilled_at"])
    order.fulfilled_at = now
    order.save(update_fields=["fulfilled_at"])
