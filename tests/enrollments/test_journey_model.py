"""The pure journey function, exhaustively: a hypothesis state machine drives events (verify,
complete the current step, pass or fail an exam, time passes, pay what is due) and checks the
invariants after each one."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from stormcert.enrollments.journey import (
    Facts,
    FeeFact,
    Overall,
    RecordFact,
    StepFact,
    StepState,
    evaluate,
    window_end_for,
)

PT = ZoneInfo("America/Los_Angeles")
STEPS = (
    StepFact("account", "account", "Create an account"),
    StepFact("read_guides", "acknowledge", "Read the guides"),
    StepFact("self_assessment", "questionnaire", "Self-assessment"),
    StepFact("registration", "payment", "Register"),
    StepFact("training", "training", "Online training"),
    StepFact("midterm", "exam", "Midterm exam"),
    StepFact("course", "course", "Course"),
    StepFact("survey", "survey", "Survey"),
    StepFact("final", "exam", "Final exam"),
)
CASQA: dict[str, Any] = {
    "enrollment.window_years": 2,
    "midterm.attempts": 2,
    "midterm.question_count": 35,
    "midterm.duration_minutes": 120,
    "midterm.pass_percent": 70,
    "final.attempts": 2,
    "final.question_count": 70,
    "final.duration_minutes": 240,
    "final.pass_percent": 70,
    "consequence.midterm_failed_out": {
        "fee": "re_registration",
        "redo": ["training", "midterm"],
        "extends_window": False,
    },
    "consequence.final_failed_out": {
        "fee": "re_registration",
        "redo": ["training", "midterm", "course", "survey", "final"],
        "extends_window": False,
    },
    "consequence.window_expired": {"fee": "extension", "redo": [], "extends_window": True},
}
OWP: dict[str, Any] = {
    **CASQA,
    "consequence.midterm_failed_out": {"fee": "re_registration", "redo": ["*"], "extends_window": False},
    "consequence.final_failed_out": {"fee": "re_registration", "redo": ["*"], "extends_window": False},
    "consequence.window_expired": {"fee": "re_registration", "redo": ["*"], "extends_window": False},
}
FEES = {
    "registration": FeeFact("registration", "Registration", Decimal("505.00")),
    "re_registration": FeeFact("re_registration", "Re-registration", Decimal("70.00")),
    "extension": FeeFact("extension", "Extension", Decimal("70.00")),
}


class JourneyMachine(RuleBasedStateMachine):
    @initialize(owp=st.booleans())
    def start(self, owp: bool) -> None:
        self.values = OWP if owp else CASQA
        self.now = datetime(2026, 11, 21, 9, 0, tzinfo=PT)
        self.verified = False
        self.window_start: datetime | None = None
        self.window_end: datetime | None = None
        self.cycle = 1
        self.records: list[tuple[str, str, int, bool]] = []  # code, outcome, cycle, live
        self.done_order: list[str] = []

    def facts(self) -> Facts:
        return Facts(
            steps=STEPS,
            values=self.values,
            fees=FEES,
            email_verified=self.verified,
            window_start=self.window_start,
            window_end=self.window_end,
            cycle=self.cycle,
            records=tuple(RecordFact(c, o, cy) for c, o, cy, live in self.records if live),
            completed=False,
            self_directed=False,
            zone=PT,
            now=self.now,
        )

    @property
    def journey(self) -> Any:
        return evaluate(self.facts())

    @rule()
    def verify_email(self) -> None:
        self.verified = True

    @precondition(
        lambda self: self.journey.current is not None and self.journey.current.state == StepState.CURRENT
    )
    @rule()
    def complete_current_step(self) -> None:
        current = self.journey.current
        self.records.append((current.code, "done", self.cycle, True))
        if current.kind == "payment":
            self.window_start = self.now
            self.window_end = window_end_for(self.now, 2, PT)

    @precondition(
        lambda self: (
            self.journey.current is not None
            and self.journey.current.state == StepState.CURRENT
            and self.journey.current.kind == "exam"
        )
    )
    @rule()
    def fail_current_exam(self) -> None:
        before = self.journey.current.attempts_left
        self.records.append((self.journey.current.code, "failed", self.cycle, True))
        after = self.journey.step(self.journey.current.code).attempts_left if self.journey.current else 0
        assert after == max(before - 1, 0)

    @rule(days=st.integers(min_value=1, max_value=400))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @precondition(lambda self: self.journey.action is not None)
    @rule()
    def pay_what_is_due(self) -> None:
        action = self.journey.action
        rule_value = self.values[action.consequence]
        codes = [s.code for s in STEPS]
        redo = codes[codes.index("registration") + 1 :] if rule_value["redo"] == ["*"] else rule_value["redo"]
        self.records = [(c, o, cy, live and c not in redo) for c, o, cy, live in self.records]
        if rule_value["extends_window"]:
            self.window_end = window_end_for(max(self.window_end or self.now, self.now), 2, PT)
        else:
            self.cycle += 1
            self.window_start = self.now
            self.window_end = window_end_for(self.now, 2, PT)

    @invariant()
    def done_steps_form_a_prefix(self) -> None:
        states = [s.state for s in self.journey.steps]
        first_not_done = next((i for i, s in enumerate(states) if s != StepState.DONE), len(states))
        assert all(s == StepState.DONE for s in states[:first_not_done])
        assert all(s == StepState.LOCKED for s in states[first_not_done + 1 :])

    @invariant()
    def one_place_to_act(self) -> None:
        journey = self.journey
        acting = [s for s in journey.steps if s.state in (StepState.CURRENT, StepState.BLOCKED)]
        assert len(acting) == (0 if journey.overall == Overall.COMPLETE else 1)
        blocked = any(s.state == StepState.BLOCKED for s in journey.steps)
        assert blocked == (journey.action is not None)
        assert (journey.overall in (Overall.FAILED_OUT, Overall.WINDOW_EXPIRED)) == blocked

    @invariant()
    def attempts_stay_in_range(self) -> None:
        for step in self.journey.steps:
            if step.attempts_left is not None:
                assert 0 <= step.attempts_left <= self.values[f"{step.code}.attempts"]

    @invariant()
    def nothing_after_registration_while_the_window_is_closed(self) -> None:
        journey = self.journey
        if self.window_end is not None and self.now >= self.window_end and journey.current is not None:
            index = [s.code for s in STEPS].index(journey.current.code)
            if index > 3:
                assert journey.current.state == StepState.BLOCKED

    @invariant()
    def complete_only_when_every_step_is_done(self) -> None:
        journey = self.journey
        assert (journey.overall == Overall.COMPLETE) == all(s.state == StepState.DONE for s in journey.steps)


JourneyMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestJourneyMachine = JourneyMachine.TestCase


def test_every_step_explains_itself() -> None:
    machine_facts = Facts(
        steps=STEPS,
        values=CASQA,
        fees=FEES,
        email_verified=True,
        window_start=None,
        window_end=None,
        cycle=1,
        records=(RecordFact("read_guides", "done", 1),),
        completed=False,
        self_directed=False,
        zone=PT,
        now=datetime(2026, 11, 21, tzinfo=PT),
    )
    journey = evaluate(machine_facts)
    assert journey.step("self_assessment").note.startswith("A few questions, not graded")
    assert journey.step("registration").note == "Opens when “Self-assessment” is done."
    assert journey.summary == "Next: Self-assessment."


def test_a_record_for_a_later_step_gives_no_credit_out_of_order() -> None:
    facts = Facts(
        steps=STEPS,
        values=CASQA,
        fees=FEES,
        email_verified=True,
        window_start=None,
        window_end=None,
        cycle=1,
        records=(RecordFact("midterm", "done", 1),),
        completed=False,
        self_directed=False,
        zone=PT,
        now=datetime(2026, 11, 21, tzinfo=PT),
    )
    journey = evaluate(facts)
    assert journey.step("midterm").state == StepState.LOCKED
    assert journey.current is not None and journey.current.code == "read_guides"
