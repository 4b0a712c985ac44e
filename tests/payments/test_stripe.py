"""Stripe Checkout through the real SDK against a local stand-in, and signed webhooks."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import OutboundEmail
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState, RefundState, WebhookEvent
from stormcert.payments.services import refund_payment
from tests.payments.conftest import WEBHOOK_SECRET, make_order
from tests.payments.stripe_standin import StripeStandIn, event_payload, sign_payload

WEBHOOK = "/payments/stripe/webhook/"


def start_card_payment(client: Client, order: Order) -> str:
    response = client.post(reverse("payments:pay", args=[order.number]), {"provider": "stripe"})
    assert response.status_code == 302, response.content
    return str(response["Location"])


def deliver(
    client: Client, payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> Any:
    return client.post(
        WEBHOOK,
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": sign_payload(payload, secret, timestamp)},
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("programs")
class TestCheckout:
    def test_pay_creates_one_checkout_session_through_the_sdk(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        url = start_card_payment(alice_client, order)
        payment = Payment.objects.get()
        assert url == f"{stripe_api.url}/pay/{payment.provider_id}"
        form = stripe_api.requests[0][2]
        assert form["line_items[0][price_data][unit_amount]"] == "50500"
        assert form["client_reference_id"] == order.number
        assert form["success_url"].endswith(
            f"/orders/{order.number}/card-return/?session_id={{CHECKOUT_SESSION_ID}}"
        )
        # A second click goes back to the same Stripe page; no second session, so no second charge.
        assert start_card_payment(alice_client, order) == url
        assert stripe_api.count("POST", "/v1/checkout/sessions") == 1
        assert order.status == OrderStatus.PENDING

    def test_an_sdk_retry_with_the_same_key_gets_the_same_session(
        self, alice: User, stripe_api: StripeStandIn
    ) -> None:
        from stormcert.payments.providers.stripe import StripeProvider

        order = make_order(alice)
        payment = Payment.objects.create(order=order, provider="stripe", amount=order.total)
        provider = StripeProvider()
        first = provider.start(payment=payment, return_url="https://x/r", cancel_url="https://x/c")
        payment.provider_id = ""
        second = provider.start(payment=payment, return_url="https://x/r", cancel_url="https://x/c")
        assert first == second and len(stripe_api.sessions) == 1

    def test_stripe_refusal_is_explained_and_nothing_is_charged(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        stripe_api.fail_next = "Your account cannot currently make live charges."
        order = make_order(alice)
        page = alice_client.post(
            reverse("payments:pay", args=[order.number]), {"provider": "stripe"}, follow=True
        )
        assert "The card payment could not be started" in page.content.decode()
        # The attempt is kept as failed (audited), not open: nothing to resume, nothing charged.
        assert Payment.objects.get().state == PaymentState.FAILED
        assert Order.objects.get().status == OrderStatus.PENDING

    def test_no_transaction_is_open_while_stripe_is_called(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn, monkeypatch: Any
    ) -> None:
        from stormcert.payments.providers.stripe import StripeProvider

        seen: list[bool] = []
        real_start = StripeProvider.start

        def start(self: StripeProvider, **kwargs: Any) -> Any:
            # The test itself runs in a transaction (savepoints inside it are the service's own):
            # the provider is called at the same depth as the test, so no row lock is held.
            seen.append(len(connection.savepoint_ids) == depth)
            return real_start(self, **kwargs)

        monkeypatch.setattr(StripeProvider, "start", start)
        order = make_order(alice)
        depth = len(connection.savepoint_ids)
        start_card_payment(alice_client, order)
        assert seen == [True]

    def test_double_click_keeps_one_checkout_and_expires_the_other(
        self, alice: User, stripe_api: StripeStandIn, monkeypatch: Any
    ) -> None:
        from stormcert.payments.providers.stripe import StripeProvider
        from stormcert.payments.services import start_payment

        order = make_order(alice)
        kwargs: dict[str, Any] = {
            "order": order,
            "provider_code": "stripe",
            "actor": alice,
            "return_url": "https://x/r",
            "cancel_url": "https://x/c",
        }
        real_start = StripeProvider.start
        second: list[Any] = []

        def start(self: StripeProvider, **kw: Any) -> Any:
            # The second click arrives while the first one's Stripe call is in flight, and
            # records its checkout first.
            if not second:
                second.append(None)
                second[0] = start_payment(**kwargs)
            return real_start(self, **kw)

        monkeypatch.setattr(StripeProvider, "start", start)
        first = start_payment(**kwargs)
        # Both clicks go to the same Stripe page: the one recorded first.
        assert first.redirect_url == second[0].redirect_url
        assert first.payment.pk == second[0].payment.pk
        open_payments = Payment.objects.filter(state=PaymentState.CREATED)
        assert [p.pk for p in open_payments] == [first.payment.pk]
        assert Payment.objects.filter(state=PaymentState.CANCELED).count() == 1
        # Two sessions were made; the unused one is expired at Stripe so it cannot take money.
        assert stripe_api.count("POST", "/v1/checkout/sessions") == 2
        statuses = {sid: s["status"] for sid, s in stripe_api.sessions.items()}
        assert statuses[first.payment.provider_id] == "open"
        assert sorted(statuses.values()) == ["expired", "open"]
        assert AuditEvent.objects.filter(verb="payment.started").count() == 1

    def test_order_paid_during_the_stripe_call_keeps_no_checkout(
        self, alice: User, sara: User, stripe_api: StripeStandIn, monkeypatch: Any
    ) -> None:
        import datetime as dt

        from stormcert.payments.providers.stripe import StripeProvider
        from stormcert.payments.services import PaymentError, record_manual_payment, start_payment

        order = make_order(alice)
        real_start = StripeProvider.start

        def start(self: StripeProvider, **kw: Any) -> Any:
            record_manual_payment(
                order=order,
                actor=sara,
                reference="CHK-1",
                amount=order.total,
                received_on=dt.date(2026, 1, 5),
                reason="check arrived",
            )
            return real_start(self, **kw)

        monkeypatch.setattr(StripeProvider, "start", start)
        with pytest.raises(PaymentError, match="nothing to pay"):
            start_payment(
                order=order,
                provider_code="stripe",
                actor=alice,
                return_url="https://x/r",
                cancel_url="https://x/c",
            )
        card = Payment.objects.get(provider="stripe")
        assert card.state == PaymentState.CANCELED and not card.provider_id
        assert [s["status"] for s in stripe_api.sessions.values()] == ["expired"]

    def test_signed_webhook_pays_fulfils_and_emails(
        self,
        alice: User,
        alice_client: Client,
        stripe_api: StripeStandIn,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        order = make_order(alice)
        start_card_payment(alice_client, order)
        session = stripe_api.pay(Payment.objects.get().provider_id)
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(Client(), event_payload("checkout.session.completed", session, "evt_paid"))
        assert response.status_code == 200 and response.content == b"confirmed"
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID
        payment = order.payments.get()
        assert (
            payment.state == PaymentState.CONFIRMED
            and payment.info["payment_intent"] == session["payment_intent"]
        )
        assert AuditEvent.objects.filter(verb="tests.fulfilled").count() == 1
        assert OutboundEmail.objects.filter(template="payments/email/payment_confirmation").count() == 1

    def test_replayed_webhook_changes_nothing(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        start_card_payment(alice_client, order)
        payload = event_payload(
            "checkout.session.completed", stripe_api.pay(Payment.objects.get().provider_id), "evt_x"
        )
        assert deliver(Client(), payload).content == b"confirmed"
        again = deliver(Client(), payload)
        assert again.status_code == 200 and again.content == b"Already handled."
        assert AuditEvent.objects.filter(verb="payment.confirmed").count() == 1

    def test_forged_signature_gets_400_and_writes_nothing(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        start_card_payment(alice_client, order)
        payload = event_payload(
            "checkout.session.completed", stripe_api.pay(Payment.objects.get().provider_id)
        )
        response = deliver(Client(), payload, secret="whsec_someone_else")
        assert response.status_code == 400
        tampered = Client().post(
            WEBHOOK,
            data=payload.replace(b"paid", b"PAID"),
            content_type="application/json",
            headers={"Stripe-Signature": sign_payload(payload, WEBHOOK_SECRET)},
        )
        assert tampered.status_code == 400
        unsigned = Client().post(WEBHOOK, data=payload, content_type="application/json")
        assert unsigned.status_code == 400
        assert not WebhookEvent.objects.exists()
        assert Order.objects.get().status == OrderStatus.PENDING

    def test_event_older_than_five_minutes_gets_400(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        start_card_payment(alice_client, order)
        payload = event_payload(
            "checkout.session.completed", stripe_api.pay(Payment.objects.get().provider_id)
        )
        response = deliver(Client(), payload, timestamp=int(time.time()) - 301)
        assert response.status_code == 400
        assert not WebhookEvent.objects.exists() and Order.objects.get().status == OrderStatus.PENDING

    def test_unknown_event_types_get_200(self, stripe_api: StripeStandIn) -> None:
        response = deliver(
            Client(), event_payload("customer.created", {"id": "cus_1", "object": "customer"}, "evt_c")
        )
        assert response.status_code == 200 and response.content == b"ignored"

    def test_return_page_re_fetches_the_session_from_stripe(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        start_card_payment(alice_client, order)
        session_id = Payment.objects.get().provider_id
        back = reverse("payments:stripe_return", args=[order.number])
        # Coming back before paying (or faking the URL) pays nothing.
        page = alice_client.get(back, {"session_id": session_id}, follow=True)
        assert "Stripe has not confirmed the payment yet" in page.content.decode()
        assert Order.objects.get().status == OrderStatus.PENDING
        stripe_api.pay(session_id)
        page = alice_client.get(back, {"session_id": session_id}, follow=True)
        assert "Payment received. Thank you!" in page.content.decode()
        assert Order.objects.get().status == OrderStatus.PAID
        assert stripe_api.count("GET", f"/v1/checkout/sessions/{session_id}") == 2

    def test_return_page_with_an_unknown_session_says_so(
        self, alice: User, alice_client: Client, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        page = alice_client.get(
            reverse("payments:stripe_return", args=[order.number]), {"session_id": "cs_forged"}, follow=True
        )
        assert "We could not match that card payment to this order." in page.content.decode()

    def test_card_refund_goes_through_stripe(
        self, alice: User, alice_client: Client, sara: User, stripe_api: StripeStandIn
    ) -> None:
        order = make_order(alice)
        start_card_payment(alice_client, order)
        session = stripe_api.pay(Payment.objects.get().provider_id)
        deliver(Client(), event_payload("checkout.session.completed", session, "evt_r"))
        refund = refund_payment(
            payment=Payment.objects.get(), amount=order.total, actor=sara, reason="Withdrawal"
        )
        assert refund.state == RefundState.DONE and refund.provider_id.startswith("re_test_")
        sent = [f for m, p, f in stripe_api.requests if p == "/v1/refunds"]
        assert sent == [{"payment_intent": session["payment_intent"], "amount": "50500"}]
        assert Order.objects.get().status == OrderStatus.REFUNDED


def paid_checkout(user: User, stripe_api: StripeStandIn, event_id: str) -> tuple[Order, bytes]:
    """An order whose card payment Stripe completed, and the webhook payload that says so."""
    order = make_order(user)
    client = Client()
    client.force_login(user)
    start_card_payment(client, order)
    session = stripe_api.pay(Payment.objects.get().provider_id)
    return order, event_payload("checkout.session.completed", session, event_id)


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_yield_one_payment(
    programs: None, alice: User, stripe_api: StripeStandIn, settings: Any
) -> None:
    settings.PAYMENTS_LOCK_TIMEOUT_MS = 20_000
    _order, payload = paid_checkout(alice, stripe_api, "evt_c10")
    barrier = threading.Barrier(10)

    def one_delivery(_: int) -> int:
        try:
            barrier.wait()
            return int(deliver(Client(), payload).status_code)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(one_delivery, range(10)))
    assert statuses == [200] * 10
    assert Payment.objects.filter(state=PaymentState.CONFIRMED).count() == 1
    assert WebhookEvent.objects.count() == 1
    assert AuditEvent.objects.filter(verb="tests.fulfilled").count() == 1
    assert AuditEvent.objects.filter(verb="payment.confirmed").count() == 1
    assert OutboundEmail.objects.filter(template="payments/email/payment_confirmation").count() == 1
    assert Order.objects.get().status == OrderStatus.PAID


@pytest.mark.django_db(transaction=True)
def test_lock_contention_answers_503_then_the_retry_succeeds(
    programs: None, alice: User, stripe_api: StripeStandIn, settings: Any
) -> None:
    settings.PAYMENTS_LOCK_TIMEOUT_MS = 300
    order, payload = paid_checkout(alice, stripe_api, "evt_l")
    holding, release = threading.Event(), threading.Event()

    def hold_the_order() -> None:
        try:
            with transaction.atomic():
                list(Order.objects.select_for_update(of=("self",)).filter(pk=order.pk))
                if connection.vendor == "sqlite":
                    Order.objects.filter(pk=order.pk).update(
                        currency="USD"
                    )  # SQLite locks the whole file on write
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_order)
    holder.start()
    assert holding.wait(5)
    try:
        busy = deliver(Client(), payload)
    finally:
        release.set()
        holder.join()
    assert busy.status_code == 503
    assert not WebhookEvent.objects.exists() and Order.objects.get().status == OrderStatus.PENDING
    retry = deliver(Client(), payload)
    assert retry.status_code == 200 and Order.objects.get().status == OrderStatus.PAID
