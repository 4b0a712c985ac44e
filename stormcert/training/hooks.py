"""How other apps plug into training without training knowing them.

The journey registers who may open a course (registration paid, window open) and what finishing
it means (the training step is done); renewal will do the same for review modules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stormcert.lib.links import NextStep

if TYPE_CHECKING:
    from stormcert.training.models import Course

# (user, course, now) -> None when allowed, or the reason in plain words when not.
AccessCheck = Callable[[Any, "Course", datetime], str | None]
Completion = Callable[[Any, "Course", datetime], None]
# (user, course, now) -> the program rule values that apply to this person (e.g. their enrollment's
# kept version); without one registered, the program's rules in force that day.
RulesLookup = Callable[[Any, "Course", datetime], dict[str, Any]]

ACCESS_CHECKS: dict[str, AccessCheck] = {}
COMPLETION_HOOKS: dict[str, list[Completion]] = {}
RULES_LOOKUPS: dict[str, RulesLookup] = {}


def register_rules(kind: str, lookup: RulesLookup) -> None:
    RULES_LOOKUPS[kind] = lookup


def rule_values(user: Any, course: Course, now: datetime) -> dict[str, Any]:
    lookup = RULES_LOOKUPS.get(course.kind)
    if lookup is not None:
        return lookup(user, course, now)
    from stormcert.programs.rules import program_today, rules_in_force

    return rules_in_force(course.program, program_today(course.program, now)).values


def register_access(kind: str, check: AccessCheck) -> None:
    ACCESS_CHECKS[kind] = check


def on_complete(kind: str, hook: Completion) -> None:
    if hook not in COMPLETION_HOOKS.setdefault(kind, []):
        COMPLETION_HOOKS[kind].append(hook)


def access_denied_reason(user: Any, course: Course, now: datetime) -> str | None:
    if not course.is_published:
        return "This course is not published."
    check = ACCESS_CHECKS.get(course.kind)
    if check is None:
        return "This course is not open to anyone yet."
    return check(user, course, now)


# What finishing a course opens (an exam after the online training), for the message shown
# when the last lesson is done: (user, course, now) -> the next step, or None.
AfterCompletion = Callable[[Any, "Course", datetime], NextStep | None]
AFTER_COMPLETION: dict[str, AfterCompletion] = {}


def register_after_completion(kind: str, function: AfterCompletion) -> None:
    AFTER_COMPLETION[kind] = function


def after_completion(user: Any, course: Course, now: datetime) -> NextStep | None:
    function = AFTER_COMPLETION.get(course.kind)
    return function(user, course, now) if function is not None else None
