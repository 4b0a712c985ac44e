"""The pure date rules (lib.dates): the one add_years, the fee boundary, the new expiry (leap
days too), opening and the requalification limit, and which reminder is due on a day."""

from __future__ import annotations

from datetime import date

import pytest

from stormcert.lib import dates


def test_add_years_keeps_the_calendar_day_and_turns_29_february_into_28() -> None:
    assert dates.add_years(date(2026, 11, 21), 2) == date(2028, 11, 21)
    assert dates.add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert dates.add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert dates.add_years(date(2030, 2, 28), -2) == date(2028, 2, 28)  # demo and builders go back


@pytest.mark.parametrize(
    ("day", "code"),
    [(date(2028, 1, 14), "on_time"), (date(2028, 1, 15), "on_time"), (date(2028, 1, 16), "late")],
)
def test_the_due_day_itself_is_on_time(day: date, code: str) -> None:
    assert (
        dates.fee_code_for(due_day=date(2028, 1, 15), day=day, on_time_code="on_time", late_code="late")
        == code
    )


def test_the_same_helper_serves_a_yearly_term_fee_due_june_30() -> None:
    due = date(2027, 6, 30)
    assert (
        dates.fee_code_for(due_day=due, day=date(2027, 6, 30), on_time_code="tor", late_code="tor_late")
        == "tor"
    )
    assert (
        dates.fee_code_for(due_day=due, day=date(2027, 7, 1), on_time_code="tor", late_code="tor_late")
        == "tor_late"
    )


@pytest.mark.parametrize(
    ("renewed_on", "expected"),
    [
        (date(2027, 10, 20), date(2030, 1, 15)),  # early: runs on from the old expiry
        (date(2028, 1, 15), date(2030, 1, 15)),  # on the expiry day: still on time
        (date(2028, 1, 16), date(2030, 1, 16)),  # the day after: from the renewal day
        (date(2029, 3, 1), date(2031, 3, 1)),  # long after
    ],
)
def test_new_expiry(renewed_on: date, expected: date) -> None:
    got = dates.new_expiry(
        old_expiry=date(2028, 1, 15), renewed_on=renewed_on, validity_years=2, extend_from_expiry=True
    )
    assert got == expected


def test_new_expiry_from_the_renewal_day_when_the_rule_says_so() -> None:
    got = dates.new_expiry(
        old_expiry=date(2028, 1, 15), renewed_on=date(2027, 12, 1), validity_years=2, extend_from_expiry=False
    )
    assert got == date(2029, 12, 1)


def test_leap_day_expiry_renewed_on_time_ends_on_28_february() -> None:
    got = dates.new_expiry(
        old_expiry=date(2028, 2, 29), renewed_on=date(2028, 2, 29), validity_years=2, extend_from_expiry=True
    )
    assert got == date(2030, 2, 28)


def test_renewed_late_on_a_leap_day() -> None:
    got = dates.new_expiry(
        old_expiry=date(2028, 2, 28), renewed_on=date(2028, 2, 29), validity_years=2, extend_from_expiry=True
    )
    assert got == date(2030, 2, 28)


def test_opening_and_the_requalification_limit() -> None:
    assert dates.opens_on(due_day=date(2028, 1, 15), days_before=90) == date(2027, 10, 17)
    assert dates.closes_after(due_day=date(2028, 1, 15), days_after=0) is None
    assert dates.closes_after(due_day=date(2028, 1, 15), days_after=365) == date(2029, 1, 14)


OFFSETS = [90, 21, 0, -30]
EXPIRY = date(2028, 1, 15)


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (date(2027, 10, 16), None),  # 91 days before: nothing yet
        (date(2027, 10, 17), 90),
        (date(2027, 10, 20), 90),  # three days late: still sent
        (date(2027, 10, 25), None),  # eight days late: past the 7-day catch-up
        (date(2027, 12, 25), 21),
        (date(2027, 12, 28), 21),
        (date(2028, 1, 14), None),  # 21-day reminder 20 days late
        (date(2028, 1, 15), 0),
        (date(2028, 2, 14), -30),
        (date(2028, 2, 22), None),
        (date(2031, 1, 1), None),  # long expired: no stale reminder
    ],
)
def test_due_reminder(day: date, offset: int | None) -> None:
    assert dates.due_reminder(due_day=EXPIRY, offsets=OFFSETS, day=day, catch_up_days=7) == offset


def test_an_overtaken_reminder_is_never_sent() -> None:
    # 10 days before expiry the 90-day reminder is overdue, but the 21-day one replaced it.
    assert dates.due_reminder(due_day=EXPIRY, offsets=OFFSETS, day=date(2028, 1, 5), catch_up_days=365) == 21
