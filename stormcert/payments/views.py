from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import OperationalError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stormcert.accounts.models import User
from stormcert.accounts.requests import AuthedRequest
from stormcert.lib.staff import has_staff_powers, staff_required
from stormcert.payments.forms import CancelForm, ManualPaymentForm, OrderFilterForm, RefundForm
from stormcert.payments.fulfilment import next_step
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState, Provider
from stormcert.payments.providers import PROVIDERS, ProviderError, available_providers
from stormcert.payments.providers.stripe import StripeProvider
from stormcert.payments.receipts import receipt_pdf
from stormcert.payments.services import (
    PaymentError,
    cancel_order,
    confirm_payment,
    fail_payment,
    price_notes,
    record_manual_payment,
    refund_payment,
    reprice,
    start_payment,
)
from stormcert.payments.webhooks import apply_checkout_session


def get_order_for_user(user: User, number: str, *, staff: bool) -> Order:
    """The order, if this person may see it (its owner, or a request with staff powers); 404 otherwise."""
    order = Order.objects.select_related("user").filter(number=number).first()
    if order is None or (order.user_id != user.pk and not staff):
        raise Http404("No such order.")
    return order


def _order(request: AuthedRequest, number: str) -> Order:
    return get_order_for_user(request.user, number, staff=has_staff_powers(request))


@login_required
def order_list(request: AuthedRequest) -> HttpResponse:
    orders = Order.objects.filter(user=request.user).prefetch_related("lines", "payments", "refunds")
    return render(request, "payments/order_list.html", {"orders": orders})


@login_required
def order_detail(request: AuthedRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    now = timezone.now()
    # A price that depends on the day (a renewal turning late at midnight) is brought up to
    # date before it is shown: the page states what paying now costs.
    reprice(order=order, now=now)
    pending_check = order.payments.filter(provider=Provider.CHECK, state=PaymentState.PENDING).first()
    return render(
        request,
        "payments/order_detail.html",
        {
            "order": order,
            "price_notes": price_notes(order, now) if order.status == OrderStatus.PENDING else [],
            "providers": available_providers(),
            "pending_check": pending_check,
            "check_instructions": settings.PAYMENTS_CHECK_INSTRUCTIONS,
            "has_receipt": order.payments.filter(state=PaymentState.CONFIRMED).exists(),
            # A paid order says what it opened and links there (the training after registering).
            "next_step": next_step(order) if order.status == OrderStatus.PAID else None,
        },
    )


@login_required
@require_POST
def pay(request: AuthedRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    if order.user_id != request.user.pk:
        raise Http404("No such order.")  # staff record payments; they don't pay for others
    detail_url = reverse("payments:order", args=[order.number])
    try:
        started = start_payment(
            order=order,
            provider_code=request.POST.get("provider", ""),
            actor=request.user,
            return_url=request.build_absolute_uri(reverse("payments:stripe_return", args=[order.number])),
            cancel_url=request.build_absolute_uri(detail_url),
        )
    except PaymentError as exc:
        messages.error(request, str(exc))
        return redirect(detail_url)
    except OperationalError:
        messages.error(
            request, "We are busy with this order right now; nothing was charged. Please try again."
        )
        return redirect(detail_url)
    if started.payment.provider == Provider.CHECK:
        messages.info(
            request, "Your order is waiting for your check or purchase order. The instructions are below."
        )
    return redirect(started.redirect_url)


@login_required
def testmode_checkout(request: AuthedRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(
        Payment.objects.select_related("order"), pk=payment_id, provider=Provider.TESTMODE
    )
    if payment.order.user_id != request.user.pk or not PROVIDERS["testmode"].is_available():
        raise Http404("No such payment.")
    order = payment.order
    if request.method == "POST":
        # The state read above may already be stale (a second tab, a double click): the service
        # decides under the payment's lock, and the message says what is true after it, never
        # what this click hoped for. The load checker found both tabs told opposite things.
        approve = request.POST.get("outcome") == "approve"
        if approve:
            confirm_payment(
                payment_id=payment.pk,
                provider_id=f"test_{payment.pk}",
                info={"test_mode": True},
                actor=request.user,
                only_if_open=True,
            )
        else:
            declined = fail_payment(
                payment_id=payment.pk, reason="declined on the test-mode page", actor=request.user
            )
        state = Payment.objects.values_list("state", flat=True).get(pk=payment.pk)
        if state == PaymentState.CONFIRMED and approve:
            messages.success(request, "Payment received. Thank you! A confirmation email is on its way.")
        elif state == PaymentState.CONFIRMED:
            messages.info(
                request, "This test payment was already approved in another window. Payment received."
            )
        elif not approve and declined:
            messages.error(request, "The test payment was declined. Nothing was charged; you can try again.")
        else:
            messages.info(
                request, "This test payment was already handled. Nothing was charged by this click."
            )
        return redirect("payments:order", number=order.number)
    return render(request, "payments/testmode_checkout.html", {"payment": payment, "order": order})


@login_required
def stripe_return(request: AuthedRequest, number: str) -> HttpResponse:
    """Back from Stripe: re-fetch the session from Stripe itself; the query string proves nothing."""
    order = _order(request, number)
    session_id = request.GET.get("session_id", "")
    payment = order.payments.filter(provider=Provider.STRIPE, provider_id=session_id).first()
    if payment is None:
        messages.error(request, "We could not match that card payment to this order.")
        return redirect("payments:order", number=number)
    provider = PROVIDERS["stripe"]
    if not isinstance(provider, StripeProvider) or not provider.is_available():
        raise Http404("Card payments are not set up.")
    try:
        outcome = apply_checkout_session(provider.retrieve_session(session_id))
    except ProviderError as exc:
        messages.warning(request, str(exc))
        return redirect("payments:order", number=number)
    if outcome in ("confirmed", "already confirmed"):
        messages.success(request, "Payment received. Thank you! A confirmation email is on its way.")
    else:
        messages.info(request, "Stripe has not confirmed the payment yet; this page updates when it does.")
    return redirect("payments:order", number=number)


@login_required
def receipt(request: AuthedRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    if not order.payments.filter(state=PaymentState.CONFIRMED).exists():
        messages.info(request, "A receipt is available once a payment is received.")
        return redirect("payments:order", number=number)
    return render(
        request,
        "payments/receipt.html",
        {"order": order, "next_step": next_step(order) if order.status == OrderStatus.PAID else None},
    )


@login_required
def receipt_download(request: AuthedRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    if not order.payments.filter(state=PaymentState.CONFIRMED).exists():
        raise Http404("No payment yet, so no receipt.")
    response = HttpResponse(receipt_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{order.number}.pdf"'
    return response


# --- Staff -----------------------------------------------------------------------------


@staff_required
def staff_orders(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    orders = (
        Order.objects.select_related("user")
        .prefetch_related("lines", "payments", "refunds")
        .order_by("-created_at")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            orders = orders.filter(status=data["status"])
        if data["item"]:
            orders = orders.filter(lines__fee_code=data["item"].strip())
        if data["since"]:
            orders = orders.filter(created_at__date__gte=data["since"])
        if data["until"]:
            orders = orders.filter(created_at__date__lte=data["until"])
        if data["q"]:
            q = data["q"].strip()
            orders = orders.filter(Q(number__icontains=q) | Q(user__email__icontains=q))
    page = Paginator(orders.distinct(), 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(request, "payments/staff_orders.html", {"form": form, "page": page, "query": query})


def _refundable(order: Order) -> list[Payment]:
    return [p for p in order.payments.filter(state=PaymentState.CONFIRMED) if p.refundable_amount() > 0]


def _staff_order_page(
    request: HttpRequest,
    order: Order,
    *,
    pay_form: ManualPaymentForm | None = None,
    refund_form: RefundForm | None = None,
    cancel_form: CancelForm | None = None,
) -> HttpResponse:
    """The staff order page with its three action forms; an action whose form did not validate
    passes its bound form, so the page shows it with the errors."""
    return render(
        request,
        "payments/staff_order.html",
        {
            "order": order,
            "pay_form": pay_form or ManualPaymentForm(initial={"amount": order.amount_due()}, prefix="pay"),
            "refund_form": refund_form or RefundForm(payments=_refundable(order), prefix="refund"),
            "cancel_form": cancel_form or CancelForm(prefix="cancel"),
            "refundable": _refundable(order),
        },
    )


def _staff_get_order(number: str) -> Order:
    return get_object_or_404(Order.objects.select_related("user"), number=number)


@staff_required
@require_GET
def staff_order(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_order_page(request, _staff_get_order(number))


# One view per staff action, each with its own form and URL (as pretix does for order actions).


@staff_required
@require_POST
def staff_order_record_payment(request: AuthedRequest, number: str) -> HttpResponse:
    order = _staff_get_order(number)
    form = ManualPaymentForm(request.POST, prefix="pay")
    if form.is_valid():
        d = form.cleaned_data
        try:
            record_manual_payment(
                order=order,
                actor=request.user,
                reference=d["reference"],
                amount=d["amount"],
                received_on=d["received_on"],
                reason=d["reason"],
            )
        except PaymentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Payment {d['reference']} recorded.")
            return redirect("payments:staff_order", number=number)
    return _staff_order_page(request, order, pay_form=form)


@staff_required
@require_POST
def staff_order_refund(request: AuthedRequest, number: str) -> HttpResponse:
    order = _staff_get_order(number)
    form = RefundForm(request.POST, payments=_refundable(order), prefix="refund")
    if form.is_valid():
        d = form.cleaned_data
        try:
            refund = refund_payment(
                payment=d["payment"],
                amount=d["amount"],
                actor=request.user,
                reason=d["reason"],
                override_nonrefundable=d["override_nonrefundable"],
            )
        except PaymentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Refunded ${refund.amount}.")
            return redirect("payments:staff_order", number=number)
    return _staff_order_page(request, order, refund_form=form)


@staff_required
@require_POST
def staff_order_cancel(request: AuthedRequest, number: str) -> HttpResponse:
    order = _staff_get_order(number)
    form = CancelForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            cancel_order(order=order, actor=request.user, reason=form.cleaned_data["reason"])
        except PaymentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Order {number} canceled.")
            return redirect("payments:staff_order", number=number)
    return _staff_order_page(request, order, cancel_form=form)
