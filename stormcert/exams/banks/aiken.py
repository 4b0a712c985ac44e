"""Aiken, the simplest plain-text multiple-choice format: https://docs.moodle.org/en/Aiken_format.

    Which document ends permit coverage?
    A. A Notice of Termination
    B) A Notice of Intent
    ANSWER: A

The question may run over several lines; options are a capital letter, "." or ")" and the text;
the ANSWER line names the correct letter. Aiken has no categories: every question goes to the
topic staff give on the import form.
"""

from __future__ import annotations

import re

from stormcert.exams.banks.common import DEFAULT_TOPIC, Parsed, ParseReport, check_choices, check_lengths

_OPTION = re.compile(r"^([A-Z])[.)]\s+(.*)$")
_ANSWER = re.compile(r"^ANSWER\s*:\s*(.*)$", re.I)


class _Question:
    def __init__(self, line: int) -> None:
        self.line = line
        self.text: list[str] = []
        self.letters: list[str] = []
        self.choices: list[str] = []
        self.problem = ""


def parse_aiken(content: str, default_topic: str = DEFAULT_TOPIC) -> ParseReport:
    report = ParseReport(file_format="aiken")
    current: _Question | None = None

    def reject(question: _Question, why: str) -> None:
        report.rejected.append((f"line {question.line}", why))

    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        answer = _ANSWER.match(line)
        option = _OPTION.match(line)
        if answer:
            if current is None or not current.choices:
                where = current if current is not None else _Question(number)
                reject(where, f"the ANSWER line on line {number} comes before any options (A. …, B. …)")
                current = None
                continue
            result = _finish(current, answer.group(1).strip(), number, default_topic)
            if isinstance(result, Parsed):
                report.questions.append(result)
            else:
                reject(current, result)
            current = None
        elif option and current is not None and current.text:
            letter = option.group(1)
            expected = chr(ord("A") + len(current.letters))
            if letter != expected and not current.problem:
                current.problem = f"option “{letter}” on line {number} should be “{expected}”: options run A, B, C… in order"
            current.letters.append(letter)
            current.choices.append(" ".join(option.group(2).split()))
        elif current is not None and current.choices:
            # Text after the options: the ANSWER line is missing, and this line starts a new question.
            reject(
                current, f"no ANSWER line after its options (line {number} is neither an option nor ANSWER:)"
            )
            current = _Question(number)
            current.text.append(line)
        else:
            if current is None:
                current = _Question(number)
            current.text.append(line)
    if current is not None:
        if current.choices:
            reject(current, "the file ends before its ANSWER line")
        else:
            reject(current, "no options (A. …, B. …) and no ANSWER line follow this text")
    return report


def _finish(question: _Question, letter: str, line: int, topic: str) -> Parsed | str:
    if question.problem:
        return question.problem
    if len(letter) != 1 or letter.upper() not in question.letters:
        return (
            f"“ANSWER: {letter}” on line {line} names no option; give one letter of "
            f"{', '.join(question.letters)}"
        )
    correct = question.letters.index(letter.upper())
    problem = check_choices(question.choices, [correct], label="option")
    if problem:
        return problem
    parsed = Parsed(
        topic=topic,
        text=" ".join(" ".join(question.text).split()),
        choices=question.choices,
        correct=correct,
        where=f"line {question.line}",
    )
    return check_lengths(parsed) or parsed
