"""Calendar rules: pure functions of dates, no database.

`add_years` is the one "same day N years later" (certificate validity, the qualification's access
window, renewals). The rest say when things happen around a due day: a qualification's renewal
uses them with the certificate's expiry day as the due day; a trainer program's yearly term can
use them with its fee-due day (`term.fee_due`) the same way.

**The boundary.** A due day is the last day that counts as on time, in the program's time zone:
a certificate is valid through its whole expiry day (Pacific), so paying on the expiry day itself,
up to 23:59:59 Pacific, is on time, and from 00:00 Pacific the next day it is late. Callers pass
`program_today(program, now)`, never a UTC date.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier); 29 February becomes 28 February."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def is_on_time(*, due_day: date, day: date) -> bool:
    """On time through the whole due day."""
    return day <= due_day


def fee_code_for(*, due_day: date, day: date, on_time_code: str, late_code: str) -> str:
    """The fee that applies on `day`: the on-time fee through the due day, the late fee after."""
    return on_time_code if is_on_time(due_day=due_day, day=day) else late_code


def opens_on(*, due_day: date, days_before: int) -> date:
    """The first day a renewal can be made."""
    return due_day - timedelta(days=days_before)


def closes_after(*, due_day: date, days_after: int) -> date | None:
    """The last day a late renewal is still accepted; None when there is no limit (0)."""
    return due_day + timedelta(days=days_after) if days_after > 0 else None


def new_expiry(*, old_expiry: date, renewed_on: date, validity_years: int, extend_from_expiry: bool) -> date:
    """On time (on or before the old expiry day), the new term runs on from the old expiry, so
    renewing early loses nothing; late, it runs from the renewal day. 29 February becomes 28."""
    if extend_from_expiry and is_on_time(due_day=old_expiry, day=renewed_on):
        return add_years(old_expiry, validity_years)
    return add_years(renewed_on, validity_years)


def reminder_day(*, due_day: date, offset_days: int) -> date:
    """The day a reminder is due: `offset_days` before the due day (negative: after it)."""
    return due_day - timedelta(days=offset_days)


def due_reminder(*, due_day: date, offsets: Iterable[int], day: date, catch_up_days: int) -> int | None:
    """The one reminder to send on `day`, or None.

    It is the most recent reminder whose day has come, and only while it is at most
    `catch_up_days` late: a periodic job that missed a few days still sends it, but a reminder
    overtaken by a later one is never sent (no "90 days left" when 10 are left), nor is one long
    past (an imported certificate that expired years ago gets no "expired 30 days ago" message).
    Whether it was already sent is the caller's business (a unique row per offset)."""
    come = [o for o in offsets if reminder_day(due_day=due_day, offset_days=o) <= day]
    if not come:
        return None
    latest = min(come)  # the smallest offset has the latest day
    late_by = (day - reminder_day(due_day=due_day, offset_days=latest)).days
    return latest if late_by <= catch_up_days else None
