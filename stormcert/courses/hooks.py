"""How the courses app asks who may teach, without knowing the Trainer of Record program.

Courses sits below trainers (DESIGN.md, layers), so the trainers app registers its one answer
to "may this person teach today, and if not, why" here (trainers/integrations.py). Publishing,
editing, rosters, attendance, registration and the staff queue of sessions all ask through it.
With nothing registered nobody may teach: a missing integration must not open the calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

# (user, now) -> the reasons the person may not teach, in plain words; empty when they may.
StandingCheck = Callable[[Any, datetime], list[str]]
# (user ids or None for everyone, now) -> the ids who may teach: the calendar and the queue ask
# for many at once.
StandingFilter = Callable[[Iterable[int] | None, datetime], set[int]]

_CHECK: list[StandingCheck] = []
_FILTER: list[StandingFilter] = []

NOBODY = "No Trainer of Record program is set up, so nobody may teach yet."


def register_standing(check: StandingCheck, many: StandingFilter) -> None:
    """The trainers app's answer, registered once (a second registration replaces the first)."""
    _CHECK[:] = [check]
    _FILTER[:] = [many]


def teaching_problems(user: Any, now: datetime) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return ["Sign in as a Trainer of Record."]
    if not _CHECK:
        return [NOBODY]
    return _CHECK[0](user, now)


def may_teach(user: Any, now: datetime) -> bool:
    return not teaching_problems(user, now)


def who_may_teach(user_ids: Iterable[int] | None, now: datetime) -> set[int]:
    """Of `user_ids` (None: of everyone), who may teach at `now`."""
    if not _FILTER:
        return set()
    return _FILTER[0](None if user_ids is None else set(user_ids), now)
