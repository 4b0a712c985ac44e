"""Order and payment workflows. Locks are always taken order first, then payment."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.emails.services import send_templated_email
from stormcert.lib.links import absolute_url
from stormcert.lib.money import ZERO, format_money, money
from stormcert.payments.fulfilment import PRICERS, SURCHARGE, fulfil_order, is_registered, next_step
from stormcert.payments.models import (
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentState,
    Provider,
    Refund,
    RefundState,
)
from stormcert.payments.providers import PaymentProvider, ProviderError, get_provider
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today, rules_in_force


class PaymentError(Exception):
    """A request that cannot be carried out; the message says why, for the person who asked."""


@contextmanager
def bounded_transaction() -> Iterator[None]:
    """A transaction that waits at most PAYMENTS_LOCK_TIMEOUT_MS for locks, then raises
    OperationalError, which callers turn into "busy, try again" (503 for webhooks)."""
    wait_ms = int(settings.PAYMENTS_LOCK_TIMEOUT_MS)
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # SQLite takes its write lock at BEGIN IMMEDIATE; the busy timeout bounds that wait.
        connection.ensure_connection()
        default_ms = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            with transaction.atomic():
                yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {default_ms}")
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = %s", [f"{wait_ms}ms"])
        yield


def pending_order(*, user_id: int, purpose: str, reference: str, target: int) -> Order | None:
    """The person's unpaid order for `purpose` on one object (`reference`: its key in the line's
    reference, e.g. "enrollment"), so a second "Pay" reuses it instead of making another."""
    return (
        Order.objects.filter(
            user_id=user_id,
            status=OrderStatus.PENDING,
            lines__purpose=purpose,
            **{f"lines__reference__{reference}": target},
        )
        .distinct()
        .first()
    )


@transaction.atomic
def get_or_create_order(
    *,
    user: User,
    program: Program,
    fee_code: str,
    purpose: str,
    reference: dict[str, Any],
    key: str,
    description: str | None = None,
    surcharges: Sequence[str] = (),
    now: datetime | None = None,
) -> tuple[Order, bool]:
    """The person's open order for `purpose` on the object `reference[key]` names, else a new one
    (True when made now). A second "Pay" (another tab, a back button) reuses the first order,
    whose amount stands even when the fee has changed since. The caller holds the row lock of
    that object, so two concurrent clicks share one order."""
    existing = pending_order(user_id=user.pk, purpose=purpose, reference=key, target=reference[key])
    if existing is not None:
        return existing, False
    order = create_order(
        user=user,
        program=program,
        fee_code=fee_code,
        purpose=purpose,
        reference=reference,
        description=description,
        surcharges=surcharges,
        now=now,
    )
    return order, True


@transaction.atomic
def create_order(
    *,
    user: User,
    program: Program,
    fee_code: str,
    purpose: str,
    reference: dict[str, Any] | None = None,
    description: str | None = None,
    surcharges: Sequence[str] = (),
    now: datetime | None = None,
) -> Order:
    """An order for one fee, at the amount in force today in the program's time zone.

    `surcharges` are extra fee codes on the same order (a late fee): their lines deliver
    nothing on their own, the main line's fulfilment does the work."""
    now = now or timezone.now()
    if not is_registered(purpose):
        raise PaymentError(f"Nothing is registered to fulfil {purpose!r}.")
    day = program_today(program, now)
    rules = rules_in_force(program, day)
    fee = rules.fee(fee_code)
    extras = [rules.fee(code) for code in surcharges]
    total = fee.amount + sum((extra.amount for extra in extras), ZERO)
    order = Order.objects.create(user=user, total=total, currency=fee.currency, created_at=now)
    order.number = f"{day.year}-{order.pk:06d}"
    order.save(update_fields=["number"])
    # The main line first (its fulfilment does the work), then one line per surcharge.
    lines = [(fee, description or fee.name, purpose)] + [(extra, extra.name, SURCHARGE) for extra in extras]
    for line_fee, line_description, line_purpose in lines:
        OrderLine.objects.create(
            order=order,
            program=program,
            fee=line_fee,
            fee_code=line_fee.code,
            description=line_description,
            amount=line_fee.amount,
            refundable=line_fee.refundable,
            purpose=line_purpose,
            reference=reference or {},
        )
    record(
        actor=user,
        verb="order.created",
        obj=order,
        data={
            "fee": fee.code,
            "amount": total,
            "fee_from": fee.effective_from,
            "purpose": purpose,
            "surcharges": [extra.code for extra in extras],
        },
        now=now,
    )
    if total == ZERO:
        _mark_paid(order, now=now, actor=user)
    return order


@dataclass
class Started:
    payment: Payment
    redirect_url: str


def price_notes(order: Order, now: datetime) -> list[str]:
    """What the order page says before paying about lines whose price depends on the day."""
    notes = []
    for line in order.lines.all():
        pricer = PRICERS.get(line.purpose)
        price = pricer(line, now) if pricer else None
        if price is not None and price.note and price.note not in notes:
            notes.append(price.note)
    return notes


def reprice(*, order: Order, now: datetime | None = None) -> bool:
    """Lines priced by the day they are paid (a renewal: on time or late) cost what they cost
    today: an order opened before the expiry day and paid after it pays the late fee. Only while
    nothing is paid or being paid (an open checkout keeps the amount it shows, a check on its way
    the amount it was written for). True when a price changed; the change is audited."""
    now = now or timezone.now()
    if order.status != OrderStatus.PENDING or not any(line.purpose in PRICERS for line in order.lines.all()):
        return False
    with bounded_transaction():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        busy = locked.payments.filter(
            state__in=[PaymentState.CREATED, PaymentState.PENDING, PaymentState.CONFIRMED]
        ).exists()
        if locked.status != OrderStatus.PENDING or busy:
            return False
        changes = []
        for line in locked.lines.select_for_update(of=("self",)).select_related("fee"):
            pricer = PRICERS.get(line.purpose)
            price = pricer(line, now) if pricer else None
            if price is None or (price.fee.pk == line.fee_id and price.fee.amount == line.amount):
                continue
            changes.append(
                {
                    "line": line.pk,
                    "from": [line.fee_code, line.amount],
                    "to": [price.fee.code, price.fee.amount],
                }
            )
            line.fee = price.fee
            line.fee_code = price.fee.code
            line.amount = price.fee.amount
            line.refundable = price.fee.refundable
            line.description = price.description
            line.save(update_fields=["fee", "fee_code", "amount", "refundable", "description"])
        if not changes:
            return False
        locked.total = money(sum((line.amount for line in locked.lines.all()), ZERO))
        locked.save(update_fields=["total"])
        record(
            actor=None,
            verb="order.repriced",
            obj=locked,
            data={"lines": changes, "total": locked.total},
            now=now,
        )
    order.refresh_from_db()
    return True


def start_payment(
    *,
    order: Order,
    provider_code: str,
    actor: User,
    return_url: str,
    cancel_url: str,
    now: datetime | None = None,
) -> Started:
    """Begin paying an order with a provider. Clicking Pay twice reuses the open attempt.

    The provider is called (Stripe: over the network) with no lock held: the payment row is made
    under the order's lock, the checkout created outside it, and recorded under the lock again.
    Two clicks at once may each create a checkout; the first recorded is kept and the other is
    canceled here and closed at the provider, so the person has one page to pay on."""
    now = now or timezone.now()
    try:
        provider = get_provider(provider_code)
    except ProviderError as exc:
        raise PaymentError(str(exc)) from None
    reprice(order=order, now=now)
    with bounded_transaction():
        locked = _lock_payable(order.pk)
        resumed = _resume(locked, provider, cancel_url)
        if resumed is not None:
            return resumed
        payment = Payment.objects.create(
            order=locked, provider=provider.code, amount=locked.amount_due(), created_at=now
        )
    try:
        checkout = provider.start(payment=payment, return_url=return_url, cancel_url=cancel_url)
    except ProviderError as exc:
        fail_payment(payment_id=payment.pk, reason=str(exc), now=now, actor=actor)
        raise PaymentError(str(exc)) from None
    try:
        with bounded_transaction():
            locked = _lock_payable(order.pk)
            # Another click recorded its checkout while ours was being made: keep that one.
            kept = _resume(locked, provider, cancel_url, other_than=payment)
            if kept is None:
                payment.provider_id = checkout.provider_id
                payment.info = {**payment.info, **checkout.info}
                if checkout.pending:
                    payment.state = PaymentState.PENDING
                payment.save(update_fields=["provider_id", "info", "state"])
                record(
                    actor=actor,
                    verb="payment.started",
                    obj=locked,
                    data={"provider": provider.code, "payment": payment.pk},
                    now=now,
                )
                return Started(payment, checkout.url)
            payment.state = PaymentState.CANCELED
            payment.save(update_fields=["state"])
    except PaymentError:
        # The order was paid or canceled meanwhile: our checkout must not stay payable.
        Payment.objects.filter(pk=payment.pk, state=PaymentState.CREATED).update(state=PaymentState.CANCELED)
        provider.discard(checkout)
        raise
    provider.discard(checkout)
    return kept


def _lock_payable(order_id: int) -> Order:
    locked = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
    if locked.status != OrderStatus.PENDING:
        raise PaymentError(
            f"Order {locked.number} is {locked.get_status_display().lower()}; there is nothing to pay."
        )
    return locked


def _resume(
    order: Order, provider: PaymentProvider, cancel_url: str, *, other_than: Payment | None = None
) -> Started | None:
    """The open attempt with this provider that a second click goes back to, if there is one
    (a checkout still being made has no page to go back to yet)."""
    attempts = order.payments.filter(
        provider=provider.code, state__in=[PaymentState.CREATED, PaymentState.PENDING]
    ).order_by("pk")
    if other_than is not None:
        attempts = attempts.exclude(pk=other_than.pk)
    for attempt in attempts:
        url = provider.resume_url(attempt)
        if url:
            return Started(attempt, url)
        if attempt.state == PaymentState.PENDING:
            return Started(attempt, cancel_url)
    return None


def confirm_payment(
    *,
    payment_id: int,
    amount: Decimal | None = None,
    info: dict[str, Any] | None = None,
    provider_id: str | None = None,
    actor: User | None = None,
    reason: str = "",
    now: datetime | None = None,
    only_if_open: bool = False,
) -> bool:
    """Mark a payment confirmed (once); pay and fulfil its order when covered. True if it changed.

    A provider's confirmation is money that arrived and is recorded whatever the payment's state
    (staff refund what was not needed). `only_if_open` is for a confirmation that is a person's
    click (the test-mode page): it counts only while the payment is still open, decided under the
    lock, so a click from a stale page cannot revive a declined or replaced payment."""
    now = now or timezone.now()
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    with bounded_transaction():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment_id)
        if payment.state == PaymentState.CONFIRMED:
            return False
        if only_if_open and payment.state not in (PaymentState.CREATED, PaymentState.PENDING):
            return False
        payment.state = PaymentState.CONFIRMED
        payment.confirmed_at = now
        if amount is not None:
            payment.amount = money(amount)
        if provider_id:
            payment.provider_id = provider_id
        payment.info = {**payment.info, **(info or {})}
        payment.save()
        record(
            actor=actor,
            verb="payment.confirmed",
            obj=order,
            data={"payment": payment.pk, "provider": payment.provider, "amount": payment.amount},
            reason=reason,
            now=now,
        )
        send_templated_email(
            template="payments/email/payment_confirmation",
            to=order.user.email,
            user=order.user,
            context={
                "order": order,
                "payment": payment,
                "user": order.user,
                "amount": format_money(payment.amount),
                "receipt_url": absolute_url("payments:receipt", order.number),
                "next_step": next_step(order),
            },
            attachments=[
                {
                    "filename": f"receipt-{order.number}.pdf",
                    "render": "receipt",
                    "ref": order.number,
                    "mimetype": "application/pdf",
                }
            ],
        )
        if order.status == OrderStatus.PENDING and order.is_covered():
            _mark_paid(order, now=now, actor=actor)
        elif order.status != OrderStatus.PENDING:
            # Money arrived for an order that is already settled: keep it, and let staff see it.
            record(
                actor=None,
                verb="payment.confirmed_on_settled_order",
                obj=order,
                data={"payment": payment.pk},
                now=now,
            )
        excess = order.overpaid_amount()
        if excess > ZERO:
            # Two payments that each fell short can together pay too much (a card checkout left
            # open for the full amount while staff recorded a partial check). The money is real;
            # staff must see the excess to refund it (the staff order page shows it).
            record(
                actor=None,
                verb="payment.overpaid",
                obj=order,
                data={"payment": payment.pk, "excess": excess},
                now=now,
            )
        return True


def _mark_paid(order: Order, *, now: datetime, actor: User | None) -> None:
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.save(update_fields=["status", "paid_at"])
    # Other open attempts (a check promised, a card page left open) are no longer needed.
    order.payments.filter(state__in=[PaymentState.CREATED, PaymentState.PENDING]).update(
        state=PaymentState.CANCELED
    )
    fulfil_order(order, now)
    record(actor=actor, verb="order.paid", obj=order, data={"total": order.total}, now=now)


def fail_payment(
    *, payment_id: int, reason: str, now: datetime | None = None, actor: User | None = None
) -> bool:
    now = now or timezone.now()
    changed = Payment.objects.filter(
        pk=payment_id, state__in=[PaymentState.CREATED, PaymentState.PENDING]
    ).update(state=PaymentState.FAILED)
    if changed:
        payment = Payment.objects.select_related("order").get(pk=payment_id)
        record(
            actor=actor,
            verb="payment.failed",
            obj=payment.order,
            data={"payment": payment_id},
            reason=reason,
            now=now,
        )
    return bool(changed)


def record_manual_payment(
    *,
    order: Order,
    actor: User,
    reference: str,
    amount: Decimal,
    received_on: date,
    reason: str,
    now: datetime | None = None,
) -> Payment:
    """Staff record a check or purchase-order payment that arrived."""
    now = now or timezone.now()
    reference = reference.strip()
    if not reason.strip():
        raise PaymentError("Give a reason: it is kept in the audit log.")
    if not reference:
        raise PaymentError("Give the check number or purchase order reference.")
    if amount <= 0:
        raise PaymentError("The amount must be more than zero.")
    with bounded_transaction():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.status != OrderStatus.PENDING:
            raise PaymentError(
                f"Order {locked.number} is {locked.get_status_display().lower()}; record nothing against it."
            )
        if Payment.objects.filter(provider=Provider.CHECK, provider_id=reference).exists():
            raise PaymentError(f"A payment with reference {reference!r} is already recorded.")
        payment = locked.payments.filter(provider=Provider.CHECK, state=PaymentState.PENDING).first()
        if payment is None:
            payment = Payment(order=locked, provider=Provider.CHECK, amount=money(amount), created_at=now)
        payment.amount = money(amount)
        payment.provider_id = reference
        payment.received_on = received_on
        payment.recorded_by = actor
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:
            raise PaymentError(f"A payment with reference {reference!r} is already recorded.") from None
        # Under the same lock: a reference is never recorded without its payment confirmed.
        # (No @transaction.atomic around this function: the outermost bounded_transaction is
        # the one that bounds SQLite's wait for the write lock.)
        confirm_payment(payment_id=payment.pk, actor=actor, reason=reason, now=now)
    payment.refresh_from_db()
    return payment


def refund_payment(
    *,
    payment: Payment,
    amount: Decimal,
    actor: User,
    reason: str,
    override_nonrefundable: bool = False,
    now: datetime | None = None,
) -> Refund:
    """Send back all or part of a confirmed payment; non-refundable fees need an override."""
    now = now or timezone.now()
    amount = money(amount)
    if not reason.strip():
        raise PaymentError("Give a reason for the refund: it is kept in the audit log.")
    provider = get_provider(payment.provider) if payment.provider != Provider.MANUAL else None
    with bounded_transaction():
        order = Order.objects.select_for_update(of=("self",)).get(pk=payment.order_id)
        locked = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        if locked.state != PaymentState.CONFIRMED:
            raise PaymentError("Only a confirmed payment can be refunded.")
        available = locked.refundable_amount()
        if amount <= 0 or amount > available:
            raise PaymentError(f"Refund between $0.01 and {format_money(available)} of this payment.")
        if not order.is_refundable and not override_nonrefundable:
            raise PaymentError(
                "This order is for a non-refundable fee. To refund it anyway, tick the override and give the reason."
            )
        refund = Refund.objects.create(
            order=order,
            payment=locked,
            amount=amount,
            reason=reason.strip(),
            override_nonrefundable=override_nonrefundable,
            created_by=actor,
            created_at=now,
        )
    # The provider call happens outside the lock; its idempotency key is the refund's id, so a
    # retry after a timeout cannot refund twice.
    try:
        provider_id, done = provider.refund(refund=refund) if provider else ("", True)
    except ProviderError as exc:
        Refund.objects.filter(pk=refund.pk).update(state=RefundState.FAILED, error=str(exc))
        record(
            actor=actor,
            verb="refund.failed",
            obj=order,
            data={"refund": refund.pk, "error": str(exc)},
            reason=reason,
            now=now,
        )
        raise PaymentError(str(exc)) from None
    with bounded_transaction():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        Refund.objects.filter(pk=refund.pk).update(
            provider_id=provider_id,
            state=RefundState.DONE if done else RefundState.CREATED,
            done_at=now if done else None,
        )
        if order.net_paid() <= ZERO and order.status == OrderStatus.PAID:
            order.status = OrderStatus.REFUNDED
            order.save(update_fields=["status"])
        record(
            actor=actor,
            verb="refund.done" if done else "refund.requested",
            obj=order,
            data={
                "refund": refund.pk,
                "payment": payment.pk,
                "amount": amount,
                "override": override_nonrefundable,
            },
            reason=reason,
            now=now,
        )
    refund.refresh_from_db()
    return refund


def cancel_order(*, order: Order, actor: User, reason: str, now: datetime | None = None) -> None:
    """Staff cancel an unpaid order; like every staff action it needs a reason for the audit log."""
    now = now or timezone.now()
    if not reason.strip():
        raise PaymentError("Give a reason for canceling: it is kept in the audit log.")
    with bounded_transaction():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.status != OrderStatus.PENDING:
            raise PaymentError(
                f"Order {locked.number} is {locked.get_status_display().lower()} and cannot be canceled."
            )
        if locked.confirmed_amount() > 0:
            raise PaymentError("Part of this order is paid; refund it instead.")
        locked.status = OrderStatus.CANCELED
        locked.canceled_at = now
        locked.save(update_fields=["status", "canceled_at"])
        locked.payments.filter(state__in=[PaymentState.CREATED, PaymentState.PENDING]).update(
            state=PaymentState.CANCELED
        )
        record(actor=actor, verb="order.canceled", obj=locked, reason=reason.strip(), now=now)
