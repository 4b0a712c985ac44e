"""How the courses app asks who may teach, without knowing the trainer programs.

Courses sits below trainers (DESIGN.md, layers), so the trainers app registers its one answer
to "may this person teach sessions of this qualification program today, and if not, why" here
(trainers/integrations.py): a session is taught by a Trainer of Record in standing in a trainer
program that teaches the session's own program. Publishing,
editing, rosters, attendance, registration and the staff queue of sessions all ask through it.
With nothing registered nobody may teach: a missing integration must not open the calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

# (user, qualification program, now) -> the reasons the person may not teach that program's
# sessions, in plain words; empty when they may.
StandingCheck = Callable[[Any, Any, datetime], list[str]]
# (user ids or None for everyone, qualification program, now) -> the ids who may teach it: the
# calendar and the queue ask for many at once.
StandingFilter = Callable[[Iterable[int] | None, Any, datetime], set[int]]

_CHECK: list[StandingCheck] = []
_FILTER: list[StandingFilter] = []

NOBODY = "No Trainer of Record program is set up, so nobody may teach yet."


def register_standing(check: StandingCheck, many: StandingFilter) -> None:
    """The trainers app's answer, registered once (a second registration replaces the first)."""
    _CHECK[:] = [check]
    _FILTER[:] = [many]


def teaching_problems(user: Any, program: Any, now: datetime) -> list[str]:
    """Why `user` may not teach sessions of the qualification `program` at `now` (empty: they may)."""
    if not getattr(user, "is_authenticated", False):
        return ["Sign in as a Trainer of Record."]
    if not _CHECK:
        return [NOBODY]
    return _CHECK[0](user, program, now)


def may_teach(user: Any, program: Any, now: datetime) -> bool:
    return not teaching_problems(user, program, now)


def who_may_teach(user_ids: Iterable[int] | None, program: Any, now: datetime) -> set[int]:
    """Of `user_ids` (None: of everyone), who may teach sessions of `program` at `now`."""
    if not _FILTER:
        return set()
    return _FILTER[0](None if user_ids is None else set(user_ids), program, now)
