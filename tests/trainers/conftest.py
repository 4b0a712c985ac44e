"""Fixtures shared by the ToR program's tests."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from stormcert.accounts.models import User
from stormcert.trainers.applications import sign_agreement
from stormcert.trainers.services import grant_term
from tests.trainers.builders import PT, agreement, qisp, tor_program


@pytest.fixture
def tor(programs: None, tom: User) -> User:
    """Tom, a QISP and a Trainer of Record of the term from July 1, 2026, the agreement signed."""
    qisp(tom)
    agreement()
    grant_term(
        user=tom,
        program=tor_program(),
        actor=None,
        reason="test",
        starts_on=date(2026, 7, 1),
        now=datetime(2026, 7, 1, tzinfo=PT),
    )
    sign_agreement(
        user=tom,
        program=tor_program(),
        typed_name="Tom Nguyen",
        ip_address=None,
        user_agent="",
        now=datetime(2026, 7, 2, tzinfo=PT),
    )
    return tom
