"""Orders, test-mode card payments, checks and purchase orders, refunds, receipts."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import OutboundEmail
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState, RefundState
from stormcert.payments.services import (
    PaymentError,
    confirm_payment,
    create_order,
    record_manual_payment,
    refund_payment,
    start_payment,
)
from stormcert.programs.models import Fee, Program
from tests.payments.conftest import make_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("programs")]
PACIFIC = ZoneInfo("America/Los_Angeles")


def pay_in_test_mode(client: Client, order: Order, outcome: str = "approve") -> Any:
    response = client.post(reverse("payments:pay", args=[order.number]), {"provider": "testmode"})
    assert response.status_code == 302
    checkout = response["Location"]
    assert "TEST MODE" in client.get(checkout).content.decode()
    return client.post(checkout, {"outcome": outcome}, follow=True)


def fulfilments(order: Order) -> int:
    return AuditEvent.objects.filter(verb="tests.fulfilled", object_id=str(order.pk)).count()


def test_order_takes_the_fee_in_force_on_its_day_in_pacific_time(alice: User) -> None:
    qisp = Program.objects.get(code="QISP")
    Fee.objects.create(
        program=qisp,
        code="registration",
        name="QISP online training registration",
        amount=Decimal("525.00"),
        effective_from=date(2027, 1, 1),
    )
    # 23:30 on Dec 31 in California is already Jan 1 in UTC: the old fee still applies.
    before = make_order(alice, now=datetime(2026, 12, 31, 23, 30, tzinfo=PACIFIC))
    after = make_order(alice, now=datetime(2027, 1, 1, 0, 0, tzinfo=PACIFIC))
    assert (before.total, after.total) == (Decimal("505.00"), Decimal("525.00"))
    assert before.number == f"2026-{before.pk:06d}"
    assert before.lines.get().fee.effective_from == date(2023, 1, 1)


def test_an_unknown_purpose_is_refused(alice: User) -> None:
    with pytest.raises(PaymentError, match="Nothing is registered to fulfil 'nope'"):
        create_order(
            user=alice, program=Program.objects.get(code="QISP"), fee_code="registration", purpose="nope"
        )
    assert not Order.objects.exists()


def test_test_mode_payment_pays_fulfils_once_emails_and_shows_in_orders(
    alice: User, alice_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order(alice)
    with django_capture_on_commit_callbacks(execute=True):
        page = pay_in_test_mode(alice_client, order)
    assert "Payment received. Thank you!" in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at
    assert fulfilments(order) == 1
    email = OutboundEmail.objects.get(template="payments/email/payment_confirmation")
    assert email.subject == f"Payment received for order {order.number}" and "$505.00" in email.body_text
    listing = alice_client.get(reverse("payments:orders")).content.decode()
    assert order.number in listing and "QISP online training registration" in listing and "Paid" in listing
    # Approving again (a refresh, a second tab) changes nothing.
    payment = order.payments.get()
    alice_client.post(reverse("payments:testmode_checkout", args=[payment.pk]), {"outcome": "approve"})
    assert fulfilments(order) == 1 and order.payments.count() == 1


def test_declined_test_payment_says_so_and_the_order_stays_payable(alice: User, alice_client: Client) -> None:
    order = make_order(alice)
    page = pay_in_test_mode(alice_client, order, outcome="decline")
    assert "The test payment was declined. Nothing was charged" in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.payments.get().state == PaymentState.FAILED
    assert "Pay $505.00 by card (test mode)" in page.content.decode()


def test_paying_twice_reuses_the_open_attempt(alice: User) -> None:
    order = make_order(alice)
    kwargs: dict[str, Any] = {
        "order": order,
        "provider_code": "testmode",
        "actor": alice,
        "return_url": "/r",
        "cancel_url": "/c",
    }
    first, second = start_payment(**kwargs), start_payment(**kwargs)
    assert first.payment.pk == second.payment.pk and Payment.objects.count() == 1


def test_a_paid_order_cannot_be_paid_again(alice: User, alice_client: Client) -> None:
    order = make_order(alice)
    pay_in_test_mode(alice_client, order)
    page = alice_client.post(
        reverse("payments:pay", args=[order.number]), {"provider": "testmode"}, follow=True
    )
    assert f"Order {order.number} is paid; there is nothing to pay." in page.content.decode()
    assert Payment.objects.count() == 1


def test_test_mode_is_off_in_production(alice: User, alice_client: Client, settings: Any) -> None:
    settings.PAYMENTS_TEST_MODE = False
    order = make_order(alice)
    assert (
        "test mode" not in alice_client.get(reverse("payments:order", args=[order.number])).content.decode()
    )
    page = alice_client.post(
        reverse("payments:pay", args=[order.number]), {"provider": "testmode"}, follow=True
    )
    assert "That payment method is not available; please choose another." in page.content.decode()


def test_others_cannot_see_or_pay_someone_elses_order(alice: User, eve: User) -> None:
    order = make_order(alice)
    eve_client = client_for(eve)
    for name in ("payments:order", "payments:receipt", "payments:receipt_pdf"):
        assert eve_client.get(reverse(name, args=[order.number])).status_code == 404
    assert (
        eve_client.post(reverse("payments:pay", args=[order.number]), {"provider": "testmode"}).status_code
        == 404
    )
    payment = start_payment(
        order=order, provider_code="testmode", actor=alice, return_url="/", cancel_url="/"
    ).payment
    assert (
        eve_client.post(
            reverse("payments:testmode_checkout", args=[payment.pk]), {"outcome": "approve"}
        ).status_code
        == 404
    )
    assert Order.objects.get().status == OrderStatus.PENDING


def test_check_payment_waits_with_instructions_until_staff_record_it(
    alice: User, alice_client: Client, sara: User, sara_client: Client
) -> None:
    order = make_order(alice)
    page = alice_client.post(reverse("payments:pay", args=[order.number]), {"provider": "check"}, follow=True)
    body = page.content.decode()
    assert "Awaiting your check or purchase order." in body and "payable to" in body and order.number in body
    staff_url = reverse("payments:staff_order_record_payment", args=[order.number])
    no_reason = sara_client.post(
        staff_url,
        {
            "pay-reference": "1234",
            "pay-amount": "505.00",
            "pay-received_on": "2026-11-20",
        },
    )
    assert "This field is required." in no_reason.content.decode()
    assert Order.objects.get().status == OrderStatus.PENDING
    done = sara_client.post(
        staff_url,
        {
            "pay-reference": "1234",
            "pay-amount": "505.00",
            "pay-received_on": "2026-11-20",
            "pay-reason": "Check arrived by mail",
        },
        follow=True,
    )
    assert "Payment 1234 recorded." in done.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and fulfilments(order) == 1
    payment = order.payments.get()
    assert (payment.provider_id, payment.recorded_by, payment.received_on) == (
        "1234",
        sara,
        date(2026, 11, 20),
    )
    event = AuditEvent.objects.get(verb="payment.confirmed")
    assert event.actor == sara and event.reason == "Check arrived by mail"


def test_a_partial_check_leaves_the_order_awaiting_the_rest(alice: User, sara: User) -> None:
    order = make_order(alice)
    record_manual_payment(
        order=order,
        actor=sara,
        reference="PO-1",
        amount=Decimal("300"),
        received_on=date(2026, 11, 1),
        reason="PO part 1",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and order.amount_due() == Decimal("205.00")
    record_manual_payment(
        order=order,
        actor=sara,
        reference="PO-2",
        amount=Decimal("205"),
        received_on=date(2026, 11, 2),
        reason="PO part 2",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and fulfilments(order) == 1


def test_a_card_checkout_left_open_during_a_partial_check_overpays_and_staff_see_it(
    alice: User, sara: User, sara_client: Client
) -> None:
    """Found by the order state machine: two payments that each fell short paid $300 too much,
    and nothing told staff. Now the excess is recorded and shown on the staff order page."""
    order = make_order(alice)
    card = start_payment(
        order=order, provider_code="testmode", actor=alice, return_url="/", cancel_url="/"
    ).payment
    assert card.amount == Decimal("505.00")  # the checkout opened for the full amount
    record_manual_payment(
        order=order,
        actor=sara,
        reference="CHK-77",
        amount=Decimal("300"),
        received_on=date(2026, 11, 1),
        reason="partial check",
    )
    confirm_payment(payment_id=card.pk)  # she finishes the checkout she left open
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and fulfilments(order) == 1
    assert order.net_paid() == Decimal("805.00") and order.overpaid_amount() == Decimal("300.00")
    flagged = AuditEvent.objects.get(verb="payment.overpaid", object_id=str(order.pk))
    assert flagged.data["excess"] == "300.00"
    page = sara_client.get(reverse("payments:staff_order", args=[order.number])).content.decode()
    assert "Overpaid by $300.00" in page and "$805.00" in page


def test_amounts_read_back_with_two_places(alice: User, sara: User) -> None:
    # SQLite sums decimals through floats; the order's figures are still money ("126.24").
    order = make_order(alice)
    for n, amount in enumerate(("100.10", "26.14")):
        record_manual_payment(
            order=order,
            actor=sara,
            reference=f"C-{n}",
            amount=Decimal(amount),
            received_on=date(2026, 11, 1),
            reason="parts",
        )
    assert str(order.net_paid()) == "126.24" and str(order.amount_due()) == "378.76"


def test_the_same_check_cannot_be_recorded_twice(alice: User, sara: User) -> None:
    first, second = make_order(alice), make_order(alice)
    record_manual_payment(
        order=first,
        actor=sara,
        reference="777",
        amount=Decimal("505"),
        received_on=date(2026, 11, 1),
        reason="r",
    )
    with pytest.raises(PaymentError, match=re.escape("A payment with reference '777' is already recorded.")):
        record_manual_payment(
            order=second,
            actor=sara,
            reference="777",
            amount=Decimal("505"),
            received_on=date(2026, 11, 1),
            reason="r",
        )
    assert Order.objects.get(pk=second.pk).status == OrderStatus.PENDING


def test_staff_refund_all_or_part_with_a_reason(
    alice: User, alice_client: Client, sara: User, sara_client: Client
) -> None:
    order = make_order(alice)
    pay_in_test_mode(alice_client, order)
    payment = order.payments.get()
    url = reverse("payments:staff_order_refund", args=[order.number])
    too_much = sara_client.post(
        url,
        {"refund-payment": payment.pk, "refund-amount": "600", "refund-reason": "oops"},
        follow=True,
    )
    assert "Refund between $0.01 and $505.00 of this payment." in too_much.content.decode()
    sara_client.post(
        url,
        {
            "refund-payment": payment.pk,
            "refund-amount": "100",
            "refund-reason": "Goodwill",
        },
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.net_paid() == Decimal("405.00")
    sara_client.post(
        url,
        {
            "refund-payment": payment.pk,
            "refund-amount": "405",
            "refund-reason": "Withdrew from the program",
        },
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.net_paid() == 0
    assert list(order.refunds.values_list("state", flat=True)) == [RefundState.DONE, RefundState.DONE]
    assert AuditEvent.objects.filter(verb="refund.done", actor=sara).count() == 2


def test_non_refundable_fee_needs_an_override(alice: User, alice_client: Client, sara: User) -> None:
    order = make_order(alice, fee_code="soq", program_code="IGP-TOR")
    pay_in_test_mode(alice_client, order)
    payment = order.payments.get()
    with pytest.raises(PaymentError, match="non-refundable fee"):
        refund_payment(payment=payment, amount=Decimal("300"), actor=sara, reason="asked nicely")
    assert not order.refunds.exists()
    refund = refund_payment(
        payment=payment,
        amount=Decimal("300"),
        actor=sara,
        reason="Cycle canceled by the board",
        override_nonrefundable=True,
    )
    assert refund.state == RefundState.DONE and refund.override_nonrefundable


def test_receipt_as_page_and_pdf(alice: User, alice_client: Client) -> None:
    order = make_order(alice)
    assert alice_client.get(reverse("payments:receipt_pdf", args=[order.number])).status_code == 404
    pay_in_test_mode(alice_client, order)
    page = alice_client.get(reverse("payments:receipt", args=[order.number])).content.decode()
    assert "Receipt" in page and "$505.00" in page and "Alice Alvarez" in page
    pdf = alice_client.get(reverse("payments:receipt_pdf", args=[order.number]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert f"receipt-{order.number}.pdf" in pdf["Content-Disposition"]


def test_staff_filter_orders(alice: User, sara_client: Client, alice_client: Client) -> None:
    paid = make_order(alice)
    pay_in_test_mode(alice_client, paid)
    with time_machine.travel(datetime(2026, 1, 5, 12, tzinfo=PACIFIC)):
        old = make_order(alice, fee_code="renewal")
    url = reverse("payments:staff_orders")
    assert paid.number in sara_client.get(url, {"status": "paid"}).content.decode()
    assert old.number not in sara_client.get(url, {"status": "paid"}).content.decode()
    by_item = sara_client.get(url, {"item": "renewal"}).content.decode()
    assert old.number in by_item and paid.number not in by_item
    by_date = sara_client.get(url, {"since": "2026-01-01", "until": "2026-01-31"}).content.decode()
    assert old.number in by_date and paid.number not in by_date
    assert alice_client.get(url).status_code == 403


def test_staff_cancel_an_unpaid_order_with_a_reason(alice: User, sara: User, sara_client: Client) -> None:
    order = make_order(alice)
    url = reverse("payments:staff_order_cancel", args=[order.number])
    blank = sara_client.post(url, {"cancel-reason": " "})
    assert blank.status_code == 200 and "This field is required." in blank.content.decode()
    assert Order.objects.get().status == OrderStatus.PENDING
    sara_client.post(url, {"cancel-reason": "Duplicate order"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert AuditEvent.objects.get(verb="order.canceled").reason == "Duplicate order"


def test_staff_home_counts_checks_waiting(alice: User, alice_client: Client, sara_client: Client) -> None:
    alice_client.post(reverse("payments:pay", args=[make_order(alice).number]), {"provider": "check"})
    page = sara_client.get(reverse("staff_home")).content.decode()
    assert "checks or POs to record" in page


def test_zero_fee_orders_are_paid_at_once(alice: User) -> None:
    qisp = Program.objects.get(code="QISP")
    Fee.objects.create(
        program=qisp, code="waived", name="Waived", amount=Decimal("0"), effective_from=date(2023, 1, 1)
    )
    order = make_order(alice, fee_code="waived")
    assert order.status == OrderStatus.PAID and fulfilments(order) == 1


def test_another_persons_order_number_is_not_guessable_into_a_page(alice: User) -> None:
    bob = make_person("bob@example.com")
    order = make_order(alice)
    assert client_for(bob).get(reverse("payments:order", args=[order.number])).status_code == 404


def test_a_payment_for_an_item_nobody_delivers_any_more_is_kept_and_flagged(
    alice: User, alice_client: Client
) -> None:
    order = make_order(alice)
    order.lines.update(purpose="retired.item")
    pay_in_test_mode(alice_client, order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.lines.get().fulfilled_at is None
    assert AuditEvent.objects.filter(verb="order.fulfilment_missing").count() == 1


@pytest.mark.django_db(transaction=True)
def test_recording_a_check_bounds_its_wait_for_the_sqlite_write_lock(
    programs: None, alice: User, sara: User, settings: Any
) -> None:
    """bounded_transaction sets SQLite's busy timeout only as the outermost transaction; an
    @transaction.atomic around record_manual_payment used to open one first, so a check recorded
    during a long write waited the default timeout instead of PAYMENTS_LOCK_TIMEOUT_MS."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("the busy timeout is SQLite's; PostgreSQL sets lock_timeout in any transaction")
    settings.PAYMENTS_LOCK_TIMEOUT_MS = 1234
    order = make_order(alice)
    with CaptureQueriesContext(connection) as queries:
        record_manual_payment(
            order=order,
            actor=sara,
            reference="CHK-77",
            amount=order.total,
            received_on=date(2026, 11, 1),
            reason="Check arrived by mail",
        )
    assert any("PRAGMA busy_timeout = 1234" in q["sql"] for q in queries.captured_queries)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_canceling_an_order_needs_a_reason(alice: User, sara: User) -> None:
    from stormcert.payments.services import PaymentError, cancel_order

    order = make_order(alice)
    with pytest.raises(PaymentError, match="Give a reason"):
        cancel_order(order=order, actor=sara, reason="  ")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not AuditEvent.objects.filter(verb="order.canceled").exists()
