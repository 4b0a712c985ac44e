"""Rules in plain words, for the pages that show people why something is as it is."""

from __future__ import annotations

from stormcert.programs.rules import RuleMissing, Rules


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def exam_facts(rules: Rules, exam: str) -> str:
    try:
        return (
            f"{rules.value(f'{exam}.question_count')} questions · one sitting of at most "
            f"{_duration(rules.value(f'{exam}.duration_minutes'))} · pass at "
            f"{rules.value(f'{exam}.pass_percent')}% · {rules.value(f'{exam}.attempts')} attempts"
        )
    except RuleMissing:
        return ""


_EVENTS = {
    "consequence.midterm_failed_out": "Fail the midterm on every attempt",
    "consequence.final_failed_out": "Fail the final exam on every attempt",
    "consequence.window_expired": "Run out of time before finishing every step",
}


def consequence_lines(rules: Rules) -> list[str]:
    steps = {s.code: s.title for s in rules.program.steps.all()}
    lines = []
    for key, event in _EVENTS.items():
        if key not in rules.values:
            continue
        rule = rules.values[key]
        parts = []
        if rule["fee"]:
            try:
                fee = rules.fee(rule["fee"])
                parts.append(f"pay ${fee.amount} ({fee.name})")
            except RuleMissing:
                parts.append(f"pay the {rule['fee'].replace('_', ' ')} fee")
        if rule.get("extends_window"):
            years = rules.values.get("enrollment.window_years")
            parts.append(f"to get {years} more years" if years else "to extend your enrollment")
        if rule["redo"] == ["*"]:
            parts.append("and redo every step")
        elif rule["redo"]:
            parts.append("and redo: " + ", ".join(steps.get(code, code) for code in rule["redo"]))
        lines.append(f"{event}: " + " ".join(parts) + ".")
    retakes = []
    for exam, title in (("midterm", "the midterm"), ("final", "the final exam")):
        attempts = rules.values.get(f"{exam}.attempts")
        if attempts and attempts > 1:
            retakes.append(f"Fail {title} once: retake it at no charge ({attempts} attempts in all).")
    return retakes + lines
