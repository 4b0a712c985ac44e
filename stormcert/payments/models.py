"""Orders, payments and refunds (after pretix, made smaller).

An order has lines (what was bought, at the fee in force the day it was created), several
payments and several refunds. It is paid when confirmed payments minus refunds cover its total.
Provider object ids and webhook event ids are unique in the database, so a replay changes nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from stormcert.lib.money import ZERO, money


def _placeholder_number() -> str:
    return f"new-{uuid.uuid4().hex}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Awaiting payment"
    PAID = "paid", "Paid"
    CANCELED = "canceled", "Canceled"
    REFUNDED = "refunded", "Refunded"


class Order(models.Model):
    # Assigned from the id right after insert ("2026-000123"); a unique placeholder until then.
    number = models.CharField(max_length=40, unique=True, default=_placeholder_number)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="payments_order_total_nonnegative")
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    @property
    def program_names(self) -> str:
        """The programs the order pays for, by short name, as its receipt and emails name them
        ("" for an order with no lines)."""
        names: list[str] = []
        for line in self.lines.select_related("program"):
            if line.program.short_name not in names:
                names.append(line.program.short_name)
        return " and ".join(names)

    def confirmed_amount(self) -> Decimal:
        # money(): SQLite sums decimals as floats-turned-Decimal ("126.240000000000").
        return money(
            self.payments.filter(state=PaymentState.CONFIRMED).aggregate(s=Sum("amount"))["s"] or ZERO
        )

    def refunded_amount(self) -> Decimal:
        return money(self.refunds.filter(state=RefundState.DONE).aggregate(s=Sum("amount"))["s"] or ZERO)

    def net_paid(self) -> Decimal:
        return self.confirmed_amount() - self.refunded_amount()

    def amount_due(self) -> Decimal:
        return max(self.total - self.net_paid(), ZERO)

    def is_covered(self) -> bool:
        return self.net_paid() >= self.total

    def overpaid_amount(self) -> Decimal:
        """Money kept beyond the total (zero normally): staff refund it."""
        return max(money(self.net_paid() - self.total), ZERO)

    @property
    def is_refundable(self) -> bool:
        return all(line.refundable for line in self.lines.all())

    @property
    def item_summary(self) -> str:
        return ", ".join(line.description for line in self.lines.all())

    @property
    def partly_refunded(self) -> bool:
        return self.status == OrderStatus.PAID and any(
            r.state == RefundState.DONE for r in self.refunds.all()
        )

    def last_method(self) -> str:
        # Reads .all() so a prefetched list (the Orders tab) costs no query per order.
        payments = [p for p in self.payments.all() if p.state != PaymentState.CANCELED]
        latest = max(payments, key=lambda p: p.created_at, default=None)
        return latest.get_provider_display() if latest else "—"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    fee = models.ForeignKey("programs.Fee", on_delete=models.PROTECT, related_name="+")
    fee_code = models.CharField(max_length=40, db_index=True)
    description = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    refundable = models.BooleanField(default=True)
    purpose = models.CharField(max_length=60, help_text="The fulfilment registered for this item.")
    reference = models.JSONField(default=dict, blank=True, help_text="What the fulfilment acts on.")
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class Provider(models.TextChoices):
    STRIPE = "stripe", "Card (Stripe)"
    CHECK = "check", "Check or purchase order"
    TESTMODE = "testmode", "Test mode"
    MANUAL = "manual", "Recorded by staff"


class PaymentState(models.TextChoices):
    CREATED = "created", "Started"
    PENDING = "pending", "Awaiting confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    state = models.CharField(max_length=10, choices=PaymentState.choices, default=PaymentState.CREATED)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    # The provider's own id (Stripe Checkout Session, a check number): unique per provider.
    provider_id = models.CharField(max_length=255, blank=True)
    info = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    received_on = models.DateField(null=True, blank=True, help_text="For checks: the day it arrived.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="payments_provider_id_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.amount} ({self.get_state_display()})"

    def refundable_amount(self) -> Decimal:
        if self.state != PaymentState.CONFIRMED:
            return ZERO
        done = self.refunds.exclude(state=RefundState.FAILED).aggregate(s=Sum("amount"))["s"] or ZERO
        return money(self.amount - done)


class RefundState(models.TextChoices):
    CREATED = "created", "Requested"
    DONE = "done", "Refunded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    state = models.CharField(max_length=10, choices=RefundState.choices, default=RefundState.CREATED)
    provider_id = models.CharField(max_length=255, blank=True)
    reason = models.TextField()
    override_nonrefundable = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "provider_id"],
                condition=~Q(provider_id=""),
                name="payments_refund_provider_id_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} of {self.payment}"


class WebhookEvent(models.Model):
    """Each provider event is handled once: a replay finds its row and changes nothing."""

    provider = models.CharField(max_length=10, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payments_webhook_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"
