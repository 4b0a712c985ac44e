"""Session times typed around daylight-saving changes: the spring gap is refused by name, the
autumn repeated hour is taken at its first occurrence (stormcert.lib.wallclock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine
from django.test import Client

from stormcert.accounts.models import User
from stormcert.courses.models import CourseSession
from stormcert.lib.wallclock import NonexistentTime, wall_time
from tests.courses.conftest import T0


def form(**overrides: str) -> dict[str, Any]:
    fields = {
        "title": "QISP one-day training course",
        "day": "2027-03-14",
        "start_time": "08:00",
        "end_time": "16:00",
        "time_zone": "America/Los_Angeles",
        "mode": "in_person",
        "venue": "Training Center",
        "city": "Sacramento",
        "capacity": "10",
        "closes_on": "2027-03-10",
        "contact": "tom@example.com",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def tom_client(trainer: User) -> Client:
    client = Client()
    client.force_login(trainer)
    return client


def test_a_start_in_the_spring_gap_is_refused_naming_the_gap(tom_client: Client) -> None:
    # 02:30 on 2027-03-14 never happens in Los Angeles; it was published silently as 03:30.
    with time_machine.travel(T0):
        response = tom_client.post("/teach/new/", form(start_time="02:30"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "02:30 on March 14, 2027 does not exist in America/Los_Angeles" in page
    assert "the clocks go forward from 02:00 to 03:00 that night" in page
    assert not CourseSession.objects.exists()


def test_an_end_in_the_gap_is_refused_too_but_arizona_has_no_gap(tom_client: Client) -> None:
    with time_machine.travel(T0):
        refused = tom_client.post("/teach/new/", form(start_time="01:00", end_time="02:15"))
        assert (
            refused.status_code == 400
            and "02:15 on March 14, 2027 does not exist" in refused.content.decode()
        )
        phoenix = tom_client.post("/teach/new/", form(start_time="02:30", time_zone="America/Phoenix"))
    assert phoenix.status_code == 302
    session = CourseSession.objects.get()
    assert session.starts_at == datetime(2027, 3, 14, 9, 30, tzinfo=UTC)  # Arizona stays at UTC-7


def test_the_repeated_autumn_hour_is_its_first_occurrence(tom_client: Client) -> None:
    with time_machine.travel(T0):
        response = tom_client.post(
            "/teach/new/",
            form(day="2027-11-07", closes_on="2027-11-01", start_time="01:30", end_time="09:00"),
        )
    assert response.status_code == 302
    session = CourseSession.objects.get()
    assert session.starts_at == datetime(2027, 11, 7, 8, 30, tzinfo=UTC)  # 01:30 PDT, not PST
    assert session.ends_at == datetime(2027, 11, 7, 17, 0, tzinfo=UTC)  # 09:00 PST


@pytest.mark.parametrize(
    ("day", "at", "zone", "gap"),
    [
        (date(2027, 3, 14), time(2, 0), "America/Los_Angeles", "from 02:00 to 03:00"),
        (date(2027, 3, 14), time(2, 59), "America/New_York", "from 02:00 to 03:00"),
        (date(2027, 3, 14), time(2, 30), "America/Anchorage", "from 02:00 to 03:00"),
    ],
)
def test_wall_time_names_the_gap(day: date, at: time, zone: str, gap: str) -> None:
    with pytest.raises(NonexistentTime, match=gap):
        wall_time(day, at, zone)


def test_wall_time_is_exact_either_side_of_the_gap() -> None:
    assert wall_time(date(2027, 3, 14), time(1, 59), "America/Los_Angeles") == datetime(
        2027, 3, 14, 9, 59, tzinfo=UTC
    )
    assert wall_time(date(2027, 3, 14), time(3, 0), "America/Los_Angeles") == datetime(
        2027, 3, 14, 10, 0, tzinfo=UTC
    )


def _cycle(opens_at: str) -> dict[str, str]:
    return {
        "title": "2027 RFQ",
        "rfq_text": "Apply by June 1.",
        "opens_at": opens_at,
        "closes_at": "2027-06-01T17:00",
        "notice_on": "2027-06-15",
        "criteria": "Experience | 3 | 5",
        "soq_fee": "300.00",
        "resubmittal_fee": "150.00",
    }


def test_an_application_cycle_time_in_the_gap_is_refused_the_same_way() -> None:
    from stormcert.trainers.forms import CycleForm

    gap = CycleForm(_cycle("2027-03-14T02:30"))
    assert not gap.is_valid()
    assert "02:30 on March 14, 2027 does not exist in America/Los_Angeles" in gap.errors["opens_at"][0]
    fold = CycleForm(_cycle("2027-11-07T01:30"))
    assert fold.is_valid(), fold.errors  # Django's own field refused the repeated hour outright
    # (in UTC: an aware time in the repeated hour never compares equal across zones, PEP 495)
    assert fold.cleaned_data["opens_at"].astimezone(UTC) == datetime(2027, 11, 7, 8, 30, tzinfo=UTC)
    plain = CycleForm(_cycle("2027-04-01T09:00"))
    assert plain.is_valid() and plain.cleaned_data["opens_at"] == datetime(2027, 4, 1, 16, 0, tzinfo=UTC)


def test_days_past_the_calendar_we_schedule_are_refused(tom_client: Client) -> None:
    # closes_on=9999-12-31: the day after it overflowed (OverflowError, a 500, found by the fuzz test).
    with time_machine.travel(T0):
        late = tom_client.post("/teach/new/", form(closes_on="9999-12-31"))
        early = tom_client.post("/teach/new/", form(day="0001-01-01", closes_on="0001-01-01"))
    assert late.status_code == 400 and "Enter a date between 1900 and 2199." in late.content.decode()
    assert early.status_code == 400 and "Enter a date between 1900 and 2199." in early.content.decode()
    assert not CourseSession.objects.exists()
