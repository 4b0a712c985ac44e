"""The Qualification page and the renewal page: when renewal opens, what it needs, the fee in
force today; "Renew" creates the order, and every refusal says why."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.payments.models import Order
from stormcert.programs.models import PolicyValue
from tests.enrollments.builders import pay
from tests.renewals.builders import at, finish_review, holder_until, make_review

pytestmark = pytest.mark.django_db
EXPIRY = date(2028, 1, 15)


def text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_before_renewal_opens_the_qualification_page_says_when(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    with time_machine.travel(at(2027, 9, 1), tick=False):
        page = text(client_for(alice), "/qualification/QISP/")
    assert "Renewal of certificate QISP-2026-00001" in page
    assert "Renewal opens on October 17, 2027, 46 days from today." in page
    assert "Renew your certificate" not in page


def test_open_renewal_shows_the_steps_and_the_fee_today(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    make_review(title="Module 5 – Sufficiently Sensitive Methods")
    with time_machine.travel(at(2027, 12, 1), tick=False):
        client = client_for(alice)  # signed in "now": a session made before travelling has expired
        page = text(client, "/qualification/QISP/")
        assert "Fee today</dt><dd>$220.00" in page
        assert (
            "Renew by January 15, 2028 (Pacific time) for $220.00; from January 16, 2028 the fee is $240.00"
            in page
        )
        renewal = text(client, "/qualification/renewal/")
    assert "1. Complete the review module “Module 5 – Sufficiently Sensitive Methods”" in renewal
    assert "/training/module-5/" in renewal
    assert "Complete the review module “Module 5 – Sufficiently Sensitive Methods” first." in renewal
    assert "Renew: pay" not in renewal


def test_after_expiry_the_late_fee_applies(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    with time_machine.travel(at(2028, 1, 16, 0, 0, 1), tick=False):
        page = text(client_for(alice), "/qualification/renewal/")
    assert "Your certificate expired on January 15, 2028" in page
    assert "Fee today</dt><dd>$240.00" in page
    assert "Renew: pay $240.00" in page  # no review module published: payment only


def test_renew_creates_the_order_and_sends_to_payment(alice: User, programs: None) -> None:
    old = holder_until(alice, EXPIRY)
    module = make_review()
    finish_review(alice, module, at(2027, 12, 1))
    with time_machine.travel(at(2027, 12, 1), tick=False):
        client = client_for(alice)
        assert "Done: you have completed this module." in text(client, "/qualification/renewal/")
        response = client.post(f"/qualification/renewal/{old.number}/renew/")
        order = Order.objects.get(user=alice)
        assert response.status_code == 302 and response["Location"] == f"/orders/{order.number}/"
        # Back on the page, the open order is offered at its own price.
        assert f"Pay order {order.number}: $220.00" in text(client, "/qualification/renewal/")
    with time_machine.travel(at(2027, 12, 2), tick=False):
        pay(order, at(2027, 12, 2))
        page = text(client_for(alice), "/qualification/renewal/")
        assert "Renewed: certificate QISP-2027-00001 is valid until January 15, 2030." in page
        assert "/certificates/QISP-2027-00001/certificate.pdf" in page
        directory = text(Client(), "/directory/?q=alvarez")
    assert "QISP-2027-00001" in directory and "QISP-2026-00001" not in directory


def test_a_refused_renewal_says_why(alice: User, programs: None) -> None:
    old = holder_until(alice, EXPIRY)
    make_review()
    with time_machine.travel(at(2027, 12, 1), tick=False):
        response = client_for(alice).post(f"/qualification/renewal/{old.number}/renew/", follow=True)
    page = " ".join(response.content.decode().split())
    assert "Complete the review module “Module 5” first." in page
    assert not Order.objects.exists()


def test_past_the_limit_the_page_says_to_requalify(alice: User, programs: None) -> None:
    PolicyValue.objects.filter(key="renewal.requalify_after_days", version__program__code="QISP").update(
        value=30
    )
    holder_until(alice, EXPIRY)
    with time_machine.travel(at(2028, 3, 1), tick=False):
        page = text(client_for(alice), "/qualification/renewal/")
    assert "longer ago than renewal allows: you must qualify again from the start." in page
    assert "Renew: pay" not in page


def test_someone_elses_certificate_is_not_found(alice: User, eve: User, programs: None) -> None:
    old = holder_until(alice, EXPIRY)
    with time_machine.travel(at(2027, 12, 1), tick=False):
        assert client_for(eve).post(f"/qualification/renewal/{old.number}/renew/").status_code == 404
        assert "You hold no certificate to renew" in text(client_for(eve), "/qualification/renewal/")


def test_renew_is_post_only_and_needs_sign_in(alice: User, client: Client, programs: None) -> None:
    old = holder_until(alice, EXPIRY)
    assert client_for(alice).get(f"/qualification/renewal/{old.number}/renew/").status_code == 405
    assert client.get("/qualification/renewal/").status_code == 302
