"""A day and a clock time typed by a person, in a named zone, made into one moment, or refused.

Where daylight saving time begins (America/Los_Angeles, 2027-03-14) the clocks jump from 02:00
to 03:00: 02:30 never happens. datetime.combine() does not complain; it silently gives 03:30,
so a session typed for 02:30 was published for a time nobody chose. `wall_time` refuses a time
in that gap with a message naming it.

Where it ends (2027-11-07) 01:00 to 02:00 happens twice. We take the first occurrence (still
daylight time, fold=0): it is what a person means by "01:30 that night" before the change, and
what every calendar app does; the page then shows the moment with its zone abbreviation.

Every form where a person types a local date and time uses this: the ToR session form
(courses.forms, a day and clock times in the session's zone) and `WallClockDateTimeField` (a
date and time in the program's zone: the application cycle's opening and deadline). Day-only
limits (window ends, registration deadlines) are midnight, which no US zone skips.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime


class NonexistentTime(ValueError):
    """The clock time falls in a daylight-saving gap; the message says which and what to do."""


def _gap(local: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The gap a nonexistent naive `local` time falls in, as naive local times: the clock reading
    when the clocks jump, and the reading they jump to."""
    before = zone.utcoffset(local.replace(fold=0)) or timedelta(0)
    after = zone.utcoffset(local.replace(fold=1)) or timedelta(0)
    # The transition instant lies between the two readings of `local`; find it to the minute.
    low, high = (
        (local - max(before, after)).replace(tzinfo=UTC),
        (local - min(before, after)).replace(tzinfo=UTC),
    )
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    switch = high.replace(second=0, microsecond=0, tzinfo=None)  # transitions fall on the minute
    return switch + before, switch + after


def wall_time(day: date, at: time, zone: ZoneInfo | str) -> datetime:
    """The moment `at` on `day` in `zone`; NonexistentTime if the clocks skip it that day."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    moment = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    try:
        round_trip = moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31 late in the day is past the last moment datetime can hold
        raise NonexistentTime(f"{day.isoformat()} is outside the calendar this site can schedule.") from None
    if round_trip != moment.replace(tzinfo=None):
        first, resumes = _gap(moment.replace(tzinfo=None), tz)
        raise NonexistentTime(
            f"{at:%H:%M} on {day:%B} {day.day}, {day.year} does not exist in {tz.key}: "
            f"the clocks go forward from {first:%H:%M} to {resumes:%H:%M} that night "
            "(daylight saving time begins). Choose a time outside that hour."
        )
    return moment


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time typed in the current time zone (the program's, America/Los_Angeles), made a
    moment by `wall_time`: a time in the spring gap is refused naming the gap, the repeated autumn
    hour is its first occurrence. (Django's own field refuses both with one vague message.)
    A value with its own offset is taken as it is."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            naive = value
        elif isinstance(value, date):
            naive = datetime(value.year, value.month, value.day)  # noqa: DTZ001 (made aware below)
        else:
            try:
                parsed = parse_datetime(str(value).strip())
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            naive = parsed or cast(datetime, BaseTemporalField.to_python(self, value))
        if naive.tzinfo is not None:
            return naive
        try:
            return wall_time(naive.date(), naive.time(), timezone.get_current_timezone())
        except NonexistentTime as exc:
            raise ValidationError(str(exc), code="nonexistent") from None


FIRST_YEAR, LAST_YEAR = 1900, 2199


class CalendarDateField(forms.DateField):
    """A date typed into a form, between 1900 and 2199. Django's field takes 0001-01-01 to
    9999-12-31, and a day past either end overflowed the arithmetic behind it (the day after
    9999-12-31, a report's end, a window's last day): a 500 each, found by the bad-input fuzz test.
    Every date form field of the project is one of these."""

    default_error_messages = {"out_of_range": f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}."}

    def validate(self, value: Any) -> None:
        super().validate(value)
        if isinstance(value, date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
