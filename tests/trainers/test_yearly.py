"""The yearly term: the June 30 boundary in Pacific time, the late fee, confirmation, lapsing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.courses.services import CourseError, check_can_publish
from stormcert.trainers.applications import public_trainers
from stormcert.trainers.models import TrainerTerm
from stormcert.trainers.services import TrainerError, grant_term
from stormcert.trainers.yearly import (
    confirm_renewal,
    record_meeting,
    sessions_without_a_term,
    start_term_fee,
    term_renewal_status,
)
from tests.courses.conftest import T0, make_session
from tests.enrollments.builders import pay
from tests.trainers.builders import PT, qisp_program, tor_program

pytestmark = pytest.mark.django_db

LAST_SECOND = datetime(2027, 6, 30, 23, 59, 59, tzinfo=PT)
FIRST_SECOND = datetime(2027, 7, 1, 0, 0, 0, tzinfo=PT)


def test_the_fee_on_june_30_is_65_and_from_july_1_it_is_90(tor: User) -> None:
    on_time = term_renewal_status(tor, tor_program(), LAST_SECOND)
    assert on_time is not None
    assert (on_time.term_start, on_time.due, on_time.late, on_time.amount) == (
        date(2027, 7, 1),
        date(2027, 6, 30),
        False,
        Decimal("65.00"),
    )
    late = term_renewal_status(tor, tor_program(), FIRST_SECOND)
    assert late is not None
    # The current term has lapsed unrenewed: the renewal is for the term that began today.
    assert (late.term_start, late.late, late.amount) == (date(2027, 7, 1), True, Decimal("90.00"))
    order = start_term_fee(user=tor, program=tor_program(), now=FIRST_SECOND)
    assert sorted((line.fee_code, line.amount) for line in order.lines.all()) == [
        ("tor_late", Decimal("25.00")),
        ("tor_yearly", Decimal("65.00")),
    ]
    assert order.total == Decimal("90.00")


def test_the_fee_on_the_order_wins_when_paid_after_the_due_day(tor: User) -> None:
    order = start_term_fee(user=tor, program=tor_program(), now=LAST_SECOND)
    assert order.total == Decimal("65.00")
    # Paid a day later, the order placed on time keeps its amount, and the same order is reused.
    assert start_term_fee(user=tor, program=tor_program(), now=FIRST_SECOND + timedelta(days=1)) == order
    pay(order, FIRST_SECOND + timedelta(days=1))
    status = term_renewal_status(tor, tor_program(), FIRST_SECOND + timedelta(days=1))
    assert status is not None and status.renewal.paid_at is not None
    with pytest.raises(TrainerError, match="already paid"):
        start_term_fee(user=tor, program=tor_program(), now=FIRST_SECOND + timedelta(days=2))


def test_staff_confirm_only_when_all_four_steps_are_in(tor: User, sara: User) -> None:
    spring = datetime(2027, 5, 15, 10, tzinfo=PT)
    status = term_renewal_status(tor, tor_program(), spring)
    # Reading where the ToR stands saves nothing: the renewal row is made by the first action.
    assert status is not None and status.renewal.pk is None
    order = start_term_fee(user=tor, program=tor_program(), now=spring)
    status = term_renewal_status(tor, tor_program(), spring)
    assert status is not None and status.renewal.pk is not None
    with pytest.raises(TrainerError, match="the renewal meeting; the yearly fee"):
        confirm_renewal(renewal=status.renewal, actor=sara, reason="check", now=spring)
    record_meeting(user=tor, program=tor_program(), how="viewed", now=spring)
    pay(order, spring)
    term = confirm_renewal(renewal=status.renewal, actor=sara, reason="All four done", now=spring)
    assert (term.starts_on, term.ends_on) == (date(2027, 7, 1), date(2028, 6, 30))
    # A certificate for the new term; the previous ToR certificate (if any) is superseded.
    assert Certificate.objects.filter(program__code="IGP-TOR", expires_on=date(2028, 6, 30)).count() == 1
    # Across the boundary the ToR stays listed and may publish.
    check_can_publish(tor, qisp_program(), FIRST_SECOND)
    assert tor in [t.user for t in public_trainers(FIRST_SECOND)]


def test_an_unrenewed_term_lapses_at_pacific_midnight(tor: User) -> None:
    check_can_publish(tor, qisp_program(), LAST_SECOND)
    july_15 = (date(2027, 7, 15) - T0.date()).days
    session = make_session(tor, now=datetime(2027, 6, 1, tzinfo=PT), day_offset=july_15)
    assert tor in [t.user for t in public_trainers(LAST_SECOND)]
    with pytest.raises(CourseError, match="term ended on June 30, 2027; renew it"):
        check_can_publish(tor, qisp_program(), FIRST_SECOND)
    assert tor not in [t.user for t in public_trainers(FIRST_SECOND)]
    # Sessions already published for after the lapse are flagged to staff.
    assert session in sessions_without_a_term(datetime(2027, 6, 1, tzinfo=PT))


def test_a_lapsed_qisp_blocks_confirmation(tor: User, sara: User) -> None:
    later = datetime(2028, 5, 1, tzinfo=PT)  # the QISP certificate expired on 2028-01-15
    grant_term(
        user=tor, program=tor_program(), actor=None, reason="test", starts_on=date(2027, 7, 1), now=later
    )
    record_meeting(user=tor, program=tor_program(), how="attended", now=later)
    pay(start_term_fee(user=tor, program=tor_program(), now=later), later)
    status = term_renewal_status(tor, tor_program(), later)
    assert status is not None and status.missing_certificates == ["an active QISP certificate"]
    with pytest.raises(TrainerError, match="an active QISP certificate"):
        confirm_renewal(renewal=status.renewal, actor=sara, reason="check", now=later)
    assert TrainerTerm.objects.filter(user=tor).count() == 2


def test_the_program_page_shows_the_renewal_checklist(tor: User) -> None:
    import time_machine

    with time_machine.travel(datetime(2027, 6, 1, 9, tzinfo=PT), tick=False):
        page = client_for(tor).get("/tor/IGP-TOR/").content.decode()
    assert "Yearly renewal: term July 1, 2027 to June 30, 2028" in page
    assert "$65.00 today" in page and "due by June 30, 2027" in page


def test_the_trainer_home_page_shows_the_renewal_without_saving_a_row(tor: User) -> None:
    from django.urls import reverse

    from stormcert.trainers.models import TermRenewal

    spring = datetime(2027, 5, 15, 10, tzinfo=PT)
    with time_machine.travel(spring, tick=False):
        page = client_for(tor).get(reverse("trainers:home", args=["IGP-TOR"]))
    assert page.status_code == 200 and "renewal meeting" in page.content.decode()
    assert not TermRenewal.objects.exists()
    record_meeting(user=tor, program=tor_program(), how="viewed", now=spring)
    assert TermRenewal.objects.get().meeting_how == "viewed"
