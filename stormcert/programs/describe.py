"""Rules in plain words, for the pages that show people why something is as it is."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from stormcert.programs.rules import RuleMissing, Rules


def duration_words(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


class _FeeLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...


def consequence_text(
    rule: dict[str, Any], fees: Mapping[str, _FeeLike], titles: dict[str, str], years: Any
) -> str:
    """What a failure or lapse costs, from its policy rule: "pay $70.00 (…) and redo: …"."""
    parts = []
    fee = fees.get(rule.get("fee", ""))
    if fee:
        parts.append(f"pay ${fee.amount} ({fee.name})")
    elif rule.get("fee"):
        parts.append(f"pay the {rule['fee'].replace('_', ' ')} fee")
    if rule.get("extends_window"):
        parts.append(f"to get {years} more years" if years else "to extend your enrollment")
    if rule.get("redo") == ["*"]:
        parts.append("and redo every step")
    elif rule.get("redo"):
        parts.append("and redo: " + ", ".join(titles.get(code, code) for code in rule["redo"]))
    return " ".join(parts)


def exam_facts(rules: Rules, exam: str) -> str:
    try:
        return (
            f"{rules.value(f'{exam}.question_count')} questions · one sitting of at most "
            f"{duration_words(rules.value(f'{exam}.duration_minutes'))} · pass at "
            f"{rules.value(f'{exam}.pass_percent')}% · {rules.value(f'{exam}.attempts')} attempts"
        )
    except RuleMissing:
        return ""


def _events(steps: list[Any]) -> dict[str, str]:
    """The failure and lapse rules a program can have, in plain words: one per exam step (from
    its title, in step order), then running out of time."""
    events = {
        f"consequence.{step.code}_failed_out": f"Fail the {step.title.lower()} on every attempt"
        for step in steps
        if step.kind == "exam"
    }
    events["consequence.window_expired"] = "Run out of time before finishing every step"
    return events


def consequence_lines(rules: Rules) -> list[str]:
    """Every failure and lapse rule of the program in plain words, for the public page."""
    steps = list(rules.program.steps.all())
    titles = {s.code: s.title for s in steps}
    years = rules.values.get("enrollment.window_years")
    retakes = []
    for step in steps:
        attempts = rules.values.get(f"{step.code}.attempts") if step.kind == "exam" else None
        if attempts and attempts > 1:
            retakes.append(
                f"Fail the {step.title.lower()} once: retake it at no charge ({attempts} attempts in all)."
            )
    lines = [
        f"{event}: {consequence_text(rules.values[key], rules.fees, titles, years)}."
        for key, event in _events(steps).items()
        if key in rules.values
    ]
    return retakes + lines
