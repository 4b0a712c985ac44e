"""The test-mode checkout under two tabs and stale pages (found by the exam-day load checker,
bench/check.py: a client declined in one tab was told "nothing was charged" while the other tab's
Approve charged the same payment, and a stale Approve could confirm a declined payment after a
second payment had paid the order: two confirmed payments on one order).

The interleavings are made deterministic by running the other tab's click inside the service
call, after the view has read the payment's state and before the service takes its lock."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.payments import services, views
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState
from tests.payments.conftest import make_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("programs")]


def open_checkout(client: Client, order: Order) -> tuple[str, Payment]:
    response = client.post(reverse("payments:pay", args=[order.number]), {"provider": "testmode"})
    assert response.status_code == 302
    return response["Location"], Payment.objects.filter(order=order).latest("pk")


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_a_stale_approve_cannot_confirm_a_declined_payment_after_another_paid_the_order(
    alice: User, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = make_order(alice)
    stale_checkout, first = open_checkout(alice_client, order)
    real_confirm = services.confirm_payment

    def other_tab_pays_first(**kwargs: Any) -> bool:
        # Meanwhile, in another tab: the first payment is declined, a new one started and approved.
        monkeypatch.setattr(views, "confirm_payment", real_confirm)
        alice_client.post(stale_checkout, {"outcome": "decline"})
        second_checkout, second = open_checkout(alice_client, order)
        assert second.pk != first.pk
        alice_client.post(second_checkout, {"outcome": "approve"})
        return real_confirm(**kwargs)

    monkeypatch.setattr(views, "confirm_payment", other_tab_pays_first)
    response = alice_client.post(stale_checkout, {"outcome": "approve"}, follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payments.filter(state=PaymentState.CONFIRMED).count() == 1, "paid twice"
    assert Payment.objects.get(pk=first.pk).state == PaymentState.FAILED
    assert "already handled. Nothing was charged by this click" in messages_of(response)


def test_decline_after_the_other_tab_approved_says_the_payment_was_received(
    alice: User, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = make_order(alice)
    checkout, payment = open_checkout(alice_client, order)
    real_fail = services.fail_payment

    def other_tab_approves_first(**kwargs: Any) -> bool:
        services.confirm_payment(payment_id=payment.pk, only_if_open=True)
        return real_fail(**kwargs)

    monkeypatch.setattr(views, "fail_payment", other_tab_approves_first)
    response = alice_client.post(checkout, {"outcome": "decline"}, follow=True)
    told = messages_of(response)
    assert "Nothing was charged" not in told and "Payment received" in told
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CONFIRMED


def test_approve_after_the_other_tab_declined_charges_nothing(
    alice: User, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = make_order(alice)
    checkout, payment = open_checkout(alice_client, order)
    real_confirm = services.confirm_payment

    def other_tab_declines_first(**kwargs: Any) -> bool:
        services.fail_payment(payment_id=payment.pk, reason="other tab")
        return real_confirm(**kwargs)

    monkeypatch.setattr(views, "confirm_payment", other_tab_declines_first)
    response = alice_client.post(checkout, {"outcome": "approve"}, follow=True)
    assert "Nothing was charged by this click" in messages_of(response)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.FAILED
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_provider_confirmation_is_recorded_even_for_a_replaced_payment(alice: User) -> None:
    """Money that arrived (a Stripe webhook for a checkout left open) is kept for staff to refund:
    only a click is refused on a closed payment."""
    order = make_order(alice)
    first = services.start_payment(
        order=order, provider_code="testmode", actor=alice, return_url="/", cancel_url="/"
    ).payment
    services.fail_payment(payment_id=first.pk, reason="declined")
    assert services.confirm_payment(payment_id=first.pk, only_if_open=True) is False
    assert services.confirm_payment(payment_id=first.pk) is True
