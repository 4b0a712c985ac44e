"""A day and a clock time typed by a person, in a named zone, made into one moment, or refused.

Where daylight saving time begins (America/Los_Angeles, 2027-03-14) the clocks jump from 02:00
to 03:00: 02:30 never happens. datetime.combine() does not complain; it silently gives 03:30,
so a session typed for 02:30 was published for a time nobody chose. `wall_time` refuses a time
in that gap with a message naming it.

Where it ends (2027-11-07) 01:00 to 02:00 happens twice. We take the first occurrence (still
daylight time, fold=0): it is what a person means by "01:30 that night" before the change, and
what every calendar app does; the page then shows the moment with its zone abbreviation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


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
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment.replace(tzinfo=None):
        first, resumes = _gap(moment.replace(tzinfo=None), tz)
        raise NonexistentTime(
            f"{at:%H:%M} on {day:%B} {day.day}, {day.year} does not exist in {tz.key}: "
            f"the clocks go forward from {first:%H:%M} to {resumes:%H:%M} that night "
            "(daylight saving time begins). Choose a time outside that hour."
        )
    return moment
