"""Renewing: the review module then the fee, and the new certificate at once. Every time edge
is in Pacific time: the expiry day counts as on time to its last second."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, Source
from stormcert.emails.models import OutboundEmail
from stormcert.payments.models import OrderStatus
from stormcert.programs.models import Fee, PolicyValue
from stormcert.renewals.services import RenewalError, Stage, renewal_status, start_renewal
from stormcert.training.models import Course
from tests.enrollments.builders import pay
from tests.renewals.builders import at, finish_review, holder_until, make_review, qisp, renew, renewal_of

pytestmark = pytest.mark.django_db
EXPIRY = date(2028, 1, 15)
LAST_SECOND = at(2028, 1, 15, 23, 59, 59)
MIDNIGHT = at(2028, 1, 16, 0, 0, 0)


@pytest.fixture
def module(programs: None) -> Course:
    return make_review()


def test_renewal_on_the_expiry_day_one_second_before_midnight_is_on_time(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 10))
    order = renew(alice, old, started=LAST_SECOND)
    assert order.total == Decimal("220.00") and order.lines.get().fee_code == "renewal"
    new = renewal_of(old)
    assert (new.issued_on, new.expires_on, new.source) == (EXPIRY, date(2030, 1, 15), Source.RENEWAL)


@pytest.mark.parametrize("moment", [MIDNIGHT, MIDNIGHT + timedelta(seconds=1)])
def test_renewal_from_pacific_midnight_after_expiry_is_late(
    alice: User, module: Course, moment: datetime
) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 10))
    order = renew(alice, old, started=moment)
    assert order.total == Decimal("240.00") and order.lines.get().fee_code == "renewal_late"
    assert renewal_of(old).expires_on == date(2030, 1, 16)


def test_utc_date_does_not_decide(alice: User, module: Course) -> None:
    # 23:59:59 Pacific on the expiry day is already the next day in UTC: still on time.
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 10))
    assert LAST_SECOND.astimezone(UTC).date() == date(2028, 1, 16)
    assert renewal_status(old, LAST_SECOND).stage == Stage.OPEN
    assert renewal_status(old, MIDNIGHT).stage == Stage.LATE


def test_early_renewal_runs_on_from_the_old_expiry(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2027, 11, 1))
    renew(alice, old, started=at(2027, 11, 1))
    new = renewal_of(old)
    assert (new.issued_on, new.expires_on) == (date(2027, 11, 1), date(2030, 1, 15))
    old.refresh_from_db()
    assert old.superseded_at is not None


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(at(2028, 2, 29, 23, 59, 59), date(2030, 2, 28)), (at(2028, 3, 1, 0, 0, 1), date(2030, 3, 1))],
)
def test_leap_day_expiry(alice: User, module: Course, moment: datetime, expected: date) -> None:
    old = holder_until(alice, date(2028, 2, 29))
    finish_review(alice, module, at(2028, 2, 1))
    renew(alice, old, started=moment)
    assert renewal_of(old).expires_on == expected


def test_started_early_paid_late_pays_the_order_and_runs_from_the_payment_day(
    alice: User, module: Course
) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 10))
    order = renew(alice, old, started=at(2028, 1, 14), paid=at(2028, 2, 3))
    assert order.status == OrderStatus.PAID
    # "Renewed" means paid: the fee in force on the day of payment (late), not the day it opened.
    assert order.total == Decimal("240.00") and order.lines.get().fee_code == "renewal_late"
    assert order.payments.get().amount == Decimal("240.00")
    repriced = AuditEvent.objects.get(verb="order.repriced")
    assert repriced.data["lines"][0]["from"] == ["renewal", "220.00"]
    assert repriced.data["lines"][0]["to"] == ["renewal_late", "240.00"]
    new = renewal_of(old)
    assert (new.issued_on, new.expires_on) == (date(2028, 2, 3), date(2030, 2, 3))
    event = AuditEvent.objects.get(verb="renewal.completed")
    assert event.data["on_time"] is False and event.data["amount"] == "240.00"


def test_the_order_page_says_what_paying_today_costs_before_paying(alice: User, module: Course) -> None:
    import time_machine
    from django.urls import reverse

    from conftest import client_for

    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 10))
    order = start_renewal(user=alice, certificate=old, now=at(2028, 1, 14))
    url = reverse("payments:order", args=[order.number])
    with time_machine.travel(at(2028, 1, 15, 12), tick=False):
        page = client_for(alice).get(url).content.decode()
    assert "through January 15, 2028, the expiry day" in page and "from January 16, 2028" in page
    assert "today that is $220.00" in page and "Pay $220.00" in page
    with time_machine.travel(at(2028, 1, 16, 9), tick=False):
        page = client_for(alice).get(url).content.decode()
    assert "today that is $240.00" in page and "Pay $240.00" in page
    order.refresh_from_db()
    assert order.total == Decimal("240.00")


def test_an_open_checkout_keeps_the_amount_it_shows(alice: User, module: Course) -> None:
    from stormcert.payments.services import reprice, start_payment

    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 10))
    order = start_renewal(user=alice, certificate=old, now=at(2028, 1, 15, 23))
    start_payment(
        order=order,
        provider_code="testmode",
        actor=alice,
        return_url="/",
        cancel_url="/",
        now=at(2028, 1, 15, 23),
    )
    assert reprice(order=order, now=MIDNIGHT + timedelta(hours=1)) is False
    order.refresh_from_db()
    assert order.total == Decimal("220.00")


def test_a_fee_change_between_opening_the_page_and_paying(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2027, 12, 1))
    assert renewal_status(old, at(2027, 12, 31)).fee.amount == Decimal("220.00")  # type: ignore[union-attr]
    order = start_renewal(user=alice, certificate=old, now=at(2027, 12, 31, 23, 59))
    Fee.objects.create(
        program=qisp(),
        code="renewal",
        name="QISP renewal",
        amount=Decimal("250.00"),
        effective_from=date(2028, 1, 1),
    )
    assert renewal_status(old, at(2028, 1, 2)).fee.amount == Decimal("250.00")  # type: ignore[union-attr]
    # The open order is reused, at the fee in force on the day it is paid.
    assert start_renewal(user=alice, certificate=old, now=at(2028, 1, 2)) == order
    pay(order, at(2028, 1, 2))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.get().amount == Decimal("250.00")
    assert renewal_of(old).expires_on == date(2030, 1, 15)


def test_the_page_opened_before_a_fee_change_but_renew_pressed_after_it_quotes_the_new_fee(
    alice: User, module: Course
) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2027, 12, 1))
    Fee.objects.create(
        program=qisp(),
        code="renewal",
        name="QISP renewal",
        amount=Decimal("250.00"),
        effective_from=date(2028, 1, 1),
    )
    order = start_renewal(user=alice, certificate=old, now=at(2028, 1, 1, 0, 0, 1))
    assert order.total == Decimal("250.00")


def test_renewal_needs_the_required_review_module(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    with pytest.raises(RenewalError, match="Complete the review module “Module 5” first"):
        start_renewal(user=alice, certificate=old, now=at(2028, 1, 1))


def test_the_latest_module_in_effect_is_required_and_one_done_before_is_not_asked_again(
    alice: User, module: Course
) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2027, 12, 1))
    renew(alice, old, started=at(2027, 12, 1))
    first_renewal = renewal_of(old)
    # Two years on, Module 5 is still the one in effect: not asked again.
    assert renewal_status(first_renewal, at(2029, 12, 1)).review_needed is False
    # Staff publish Module 6 from 2030-01-01: required from that day, not before.
    make_review(code="module-6", title="Module 6", effective_from=date(2030, 1, 1))
    assert renewal_status(first_renewal, at(2029, 12, 31)).review_needed is False
    later = renewal_status(first_renewal, at(2030, 1, 1))
    assert later.review_needed and later.review and later.review.code == "module-6"


def test_renewal_does_not_open_before_its_day(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    assert renewal_status(old, at(2027, 10, 16, 23, 59, 59)).stage == Stage.NOT_YET
    assert renewal_status(old, at(2027, 10, 17, 0, 0, 0)).stage == Stage.OPEN
    with pytest.raises(RenewalError, match="Renewal opens on October 17, 2027"):
        start_renewal(user=alice, certificate=old, now=at(2027, 10, 16))


def test_renewal_long_after_expiry_is_allowed_when_there_is_no_limit(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2030, 5, 1))
    order = renew(alice, old, started=at(2030, 5, 1))
    assert order.total == Decimal("240.00")
    assert renewal_of(old).expires_on == date(2032, 5, 1)


def test_past_the_requalification_limit_renewal_is_refused(alice: User, module: Course) -> None:
    PolicyValue.objects.filter(key="renewal.requalify_after_days", version__program=qisp()).update(value=365)
    old = holder_until(alice, EXPIRY)
    assert renewal_status(old, at(2029, 1, 14, 23, 59, 59)).stage == Stage.LATE
    status = renewal_status(old, at(2029, 1, 15))
    assert status.stage == Stage.REQUALIFY
    with pytest.raises(RenewalError, match="you must qualify again from the start"):
        start_renewal(user=alice, certificate=old, now=at(2029, 1, 15))


def test_two_paid_orders_renew_once(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 1))
    first = start_renewal(user=alice, certificate=old, now=at(2028, 1, 1))
    # A second order made while the first was open is the same order.
    assert start_renewal(user=alice, certificate=old, now=at(2028, 1, 1)) == first
    pay(first, at(2028, 1, 1))
    with pytest.raises(RenewalError, match="already renewed"):
        start_renewal(user=alice, certificate=old, now=at(2028, 1, 2))
    assert Certificate.objects.filter(renews=old).count() == 1


def test_a_paid_order_for_a_renewed_certificate_is_kept_for_staff(alice: User, module: Course) -> None:
    from stormcert.payments.services import create_order
    from stormcert.renewals.services import PURPOSE

    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 1))
    renew(alice, old, started=at(2028, 1, 1))
    # An order made another way (staff, an old tab) for the same certificate, then paid.
    extra = create_order(
        user=alice,
        program=qisp(),
        fee_code="renewal",
        purpose=PURPOSE,
        reference={"certificate": old.pk},
        now=at(2028, 1, 2),
    )
    pay(extra, at(2028, 1, 2))
    assert Certificate.objects.filter(renews=old).count() == 1
    assert AuditEvent.objects.filter(verb="renewal.duplicate_payment").count() == 1


def test_revoked_certificates_are_not_renewed(alice: User, sara: User, module: Course) -> None:
    from stormcert.certificates.services import revoke_certificate

    old = holder_until(alice, EXPIRY)
    revoke_certificate(certificate=old, actor=sara, reason="Complaint upheld", now=at(2027, 11, 1))
    with pytest.raises(RenewalError, match="is revoked"):
        start_renewal(user=alice, certificate=old, now=at(2028, 1, 1))


def test_only_the_holder_renews(alice: User, eve: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    with pytest.raises(RenewalError, match="Only the holder"):
        start_renewal(user=eve, certificate=old, now=at(2028, 1, 1))


def test_the_new_certificate_is_emailed_and_audited(alice: User, module: Course) -> None:
    old = holder_until(alice, EXPIRY)
    finish_review(alice, module, at(2028, 1, 1))
    renew(alice, old, started=at(2028, 1, 1))
    new = renewal_of(old)
    templates = list(OutboundEmail.objects.filter(to=alice.email).values_list("template", flat=True))
    assert "certificates/email/certificate_issued" in templates
    assert "payments/email/payment_confirmation" in templates
    issued = AuditEvent.objects.get(verb="certificate.issued", object_id=str(new.pk))
    assert issued.data["renews"] == old.number
    assert AuditEvent.objects.filter(verb="renewal.started", object_id=str(old.pk)).exists()
    assert AuditEvent.objects.filter(verb="renewal.review_completed", object_id=str(old.pk)).exists()
