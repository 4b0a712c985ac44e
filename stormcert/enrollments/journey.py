"""What is next, and why: one pure function of an enrollment's facts, its rules and `now`.

No database access here. `services.journey_for` gathers the facts; this module decides each
step's state (done, current, locked, blocked) and explains it in plain words. Credit is never
given out of order: a step counts as done only when every step before it is done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from stormcert.lib.dates import add_years
from stormcert.programs.describe import consequence_text, duration_words


class StepState(StrEnum):
    DONE = "done"
    CURRENT = "current"
    LOCKED = "locked"
    BLOCKED = "blocked"  # it would be current, but the window closed or attempts ran out


class Overall(StrEnum):
    IN_PROGRESS = "in_progress"
    WINDOW_EXPIRED = "window_expired"
    FAILED_OUT = "failed_out"
    COMPLETE = "complete"


@dataclass(frozen=True)
class StepFact:
    code: str
    kind: str
    title: str


@dataclass(frozen=True)
class RecordFact:
    step_code: str
    outcome: str  # "done" or "failed"
    cycle: int


@dataclass(frozen=True)
class FeeFact:
    code: str
    name: str
    amount: Decimal


@dataclass(frozen=True)
class Facts:
    steps: tuple[StepFact, ...]
    values: dict[str, Any]
    fees: dict[str, FeeFact]
    email_verified: bool
    window_start: datetime | None
    window_end: datetime | None
    cycle: int
    records: tuple[RecordFact, ...]  # live (not voided) records only
    completed: bool
    self_directed: bool
    zone: ZoneInfo
    now: datetime


@dataclass
class StepView:
    code: str
    kind: str
    title: str
    position: int
    state: StepState
    note: str
    attempts_left: int | None = None


@dataclass
class Action:
    """Something to pay before going on: a re-registration or an extension."""

    consequence: str
    fee: FeeFact | None
    text: str


@dataclass
class Journey:
    steps: list[StepView]
    overall: Overall
    current: StepView | None
    action: Action | None
    access_until: date | None
    summary: str
    extra: dict[str, Any] = field(default_factory=dict)

    def step(self, code: str) -> StepView:
        return next(s for s in self.steps if s.code == code)


def window_end_for(start: datetime, years: int, zone: ZoneInfo) -> datetime:
    """Access runs through the same calendar day `years` later, in the program's zone:
    paid 2026-11-21 at 10:00 Pacific → open until 2028-11-22 00:00 Pacific (DST-safe)."""
    last_day = add_years(start.astimezone(zone).date(), years)
    return datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=zone)


def last_day(window_end: datetime, zone: ZoneInfo) -> date:
    """The last day of a window ending at `window_end` (exclusive), in `zone`
    (Enrollment.access_until says the same for a stored enrollment)."""
    return (window_end.astimezone(zone) - timedelta(microseconds=1)).date()


def _day(day: date | None) -> str:
    return f"{day:%B} {day.day}, {day.year}" if day else ""


def evaluate(facts: Facts) -> Journey:
    values = facts.values
    titles = {s.code: s.title for s in facts.steps}
    done = {r.step_code for r in facts.records if r.outcome == "done"}
    failures = Counter(r.step_code for r in facts.records if r.outcome == "failed" and r.cycle == facts.cycle)
    registered = facts.window_start is not None
    window_open = registered and facts.window_end is not None and facts.now < facts.window_end
    access_until = last_day(facts.window_end, facts.zone) if facts.window_end else None
    reg_index = next((i for i, s in enumerate(facts.steps) if s.kind == "payment"), None)
    years = values.get("enrollment.window_years")

    views: list[StepView] = []
    current: StepView | None = None
    action: Action | None = None
    overall = Overall.IN_PROGRESS
    all_done_so_far = True

    if facts.self_directed and facts.completed:
        views = [
            StepView(
                s.code,
                s.kind,
                s.title,
                i + 1,
                StepState.DONE,
                "Not required: qualified by the self-directed route.",
            )
            for i, s in enumerate(facts.steps)
        ]
        return Journey(
            views,
            Overall.COMPLETE,
            None,
            None,
            access_until,
            "You are qualified through the self-directed route for licensed professionals.",
        )

    for index, step in enumerate(facts.steps):
        position = index + 1
        is_done = facts.email_verified if step.kind == "account" else step.code in done
        if all_done_so_far and is_done:
            views.append(StepView(step.code, step.kind, step.title, position, StepState.DONE, "Done."))
            continue
        if not all_done_so_far:
            previous = facts.steps[index - 1].title
            views.append(
                StepView(
                    step.code,
                    step.kind,
                    step.title,
                    position,
                    StepState.LOCKED,
                    f"Opens when “{previous}” is done.",
                )
            )
            continue
        all_done_so_far = False
        after_registration = reg_index is not None and index > reg_index
        attempts = values.get(f"{step.code}.attempts") if step.kind == "exam" else None
        attempts_left = max(attempts - failures[step.code], 0) if attempts else None
        rule_key = f"consequence.{step.code}_failed_out"
        if step.kind == "exam" and attempts and attempts_left == 0 and rule_key in values:
            overall = Overall.FAILED_OUT
            rule = values[rule_key]
            text = consequence_text(rule, facts.fees, titles, years)
            action = Action(rule_key, facts.fees.get(rule["fee"]), f"To go on, {text}.")
            view = StepView(
                step.code,
                step.kind,
                step.title,
                position,
                StepState.BLOCKED,
                f"Every attempt ({attempts}) was used without a pass. To go on, {text}.",
                0,
            )
        elif after_registration and registered and not window_open and "consequence.window_expired" in values:
            overall = Overall.WINDOW_EXPIRED
            rule = values["consequence.window_expired"]
            text = consequence_text(rule, facts.fees, titles, years)
            action = Action("consequence.window_expired", facts.fees.get(rule["fee"]), f"To go on, {text}.")
            view = StepView(
                step.code,
                step.kind,
                step.title,
                position,
                StepState.BLOCKED,
                f"Your enrollment window ended on {_day(access_until)}. To go on, {text}.",
                attempts_left,
            )
        else:
            view = StepView(
                step.code,
                step.kind,
                step.title,
                position,
                StepState.CURRENT,
                _current_note(step, facts, attempts_left, access_until, titles, years),
                attempts_left,
            )
        views.append(view)
        current = view

    if all_done_so_far:
        overall = Overall.COMPLETE
        summary = "Every step is done: you are qualified."
    elif action is not None:
        summary = action.text
    else:
        summary = f"Next: {current.title}." if current else ""
    return Journey(views, overall, current, action, access_until, summary)


def _current_note(
    step: StepFact,
    facts: Facts,
    attempts_left: int | None,
    access_until: date | None,
    titles: dict[str, str],
    years: Any,
) -> str:
    values = facts.values
    until = f" Finish every step by {_day(access_until)}." if access_until else ""
    if step.kind == "acknowledge":
        return "Read the documents listed for this step, then confirm you have read them."
    if step.kind == "questionnaire":
        return "A few questions, not graded, that estimate how long the training will take you."
    if step.kind == "payment":
        fee = facts.fees.get(step.code)
        price = f"${fee.amount}" if fee else "the registration fee"
        access = f"{years} years of access" if years else "access"
        return f"Register for {price}: {access} to the online training."
    if step.kind == "training":
        index = next(i for i, s in enumerate(facts.steps) if s.code == step.code)
        after = facts.steps[index + 1].title if index + 1 < len(facts.steps) else ""
        unlocks = f"; finishing them unlocks “{after}”" if after else ""
        return f"Work through every required lesson{unlocks}.{until}"
    if step.kind == "exam":
        try:
            facts_line = (
                f"{values[f'{step.code}.question_count']} questions, one sitting of at most "
                f"{duration_words(values[f'{step.code}.duration_minutes'])}, pass at "
                f"{values[f'{step.code}.pass_percent']}%."
            )
        except KeyError:
            facts_line = ""
        attempts = values.get(f"{step.code}.attempts")
        left = f" {attempts_left} of {attempts} attempts left." if attempts else ""
        rule = values.get(f"consequence.{step.code}_failed_out")
        risk = (
            f" Failing every attempt means: {consequence_text(rule, facts.fees, titles, years)}."
            if rule
            else ""
        )
        return f"Unlocked. {facts_line}{left}{risk}{until}".strip()
    if step.kind == "course":
        return f"Register for a session with a Trainer of Record on the course calendar.{until}"
    if step.kind == "survey":
        return f"Tell us about the course you attended.{until}"
    return f"{titles[step.code]} is next.{until}"
