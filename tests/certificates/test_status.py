"""Status is derived from dates in the program's zone: active through the whole expiry day
(Pacific), expired from the next midnight, revoked whatever the dates say."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from stormcert.accounts.models import User
from stormcert.certificates.models import Status
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db
PT = ZoneInfo("America/Los_Angeles")
MIDNIGHT_AFTER_EXPIRY = datetime(2028, 1, 16, 0, 0, tzinfo=PT)  # certificate expires 2028-01-15


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (MIDNIGHT_AFTER_EXPIRY - timedelta(seconds=1), Status.ACTIVE),
        (MIDNIGHT_AFTER_EXPIRY, Status.EXPIRED),
        (MIDNIGHT_AFTER_EXPIRY + timedelta(seconds=1), Status.EXPIRED),
    ],
)
def test_expiry_turns_at_pacific_midnight(
    alice: User, programs: None, moment: datetime, expected: Status
) -> None:
    certificate = certify(alice, issued_on=date(2026, 1, 15))
    assert certificate.expires_on == date(2028, 1, 15)
    assert certificate.status_at(moment) == expected
    # 23:59:59 Pacific is already the next day in UTC: the program's zone decides, not UTC.
    assert certificate.status_at(moment.astimezone(ZoneInfo("UTC"))) == expected


def test_the_public_pages_follow_the_clock(alice: User, programs: None, client: Client) -> None:
    certify(alice, issued_on=date(2026, 1, 15))
    with time_machine.travel(MIDNIGHT_AFTER_EXPIRY - timedelta(seconds=1), tick=False):
        assert client.get("/api/verify/QISP-2026-00001").json()["status"] == "valid"
        assert "Active" in client.get("/directory/?q=alvarez").content.decode()
    with time_machine.travel(MIDNIGHT_AFTER_EXPIRY + timedelta(seconds=1), tick=False):
        assert client.get("/api/verify/QISP-2026-00001").json()["status"] == "expired"
        page = client.get("/directory/?q=alvarez").content.decode()
        assert "Expired" in page and "Active</span>" not in page
        assert ">QISP-2026-00001<" in client.get("/directory/?status=expired").content.decode()
        assert "QISP-2026-00001" not in client.get("/directory/?status=active").content.decode()


def test_revoked_overrides_the_dates(alice: User, programs: None) -> None:
    certificate = certify(alice, issued_on=date(2026, 1, 15))
    certificate.revoked_at = datetime(2026, 2, 1, 12, tzinfo=PT)
    assert certificate.status_on(date(2026, 3, 1)) == Status.REVOKED
    assert certificate.status_on(date(2030, 1, 1)) == Status.REVOKED
