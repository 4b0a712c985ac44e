"""What every reader produces: the questions it could take and, for every other one, where it is
in the file and why it was not taken."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from stormcert.exams.text import html_to_plain, sanitize_html

DEFAULT_TOPIC = "General"
TOPIC_MAX = 100  # Question.topic
NAME_MAX = 200  # Question.name
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Parsed:
    topic: str
    text: str
    choices: list[str]
    correct: int
    where: str
    name: str = ""
    text_format: str = "plain"
    feedback: list[str] = field(default_factory=list)
    general_feedback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Same topic, text and choices: the same question (re-importing a file adds nothing)."""
        return (self.topic, self.text, tuple(self.choices))


@dataclass
class ParseReport:
    file_format: str = ""
    questions: list[Parsed] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_format": self.file_format,
            "questions": [q.as_dict() for q in self.questions],
            "rejected": [list(r) for r in self.rejected],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseReport:
        return cls(
            file_format=data.get("file_format", ""),
            questions=[Parsed(**q) for q in data.get("questions", [])],
            rejected=[(w, r) for w, r in data.get("rejected", [])],
        )


def topic_from_category(category: str, default: str) -> str:
    """The last part of a Moodle category path ($course$/top/Monitoring → Monitoring). Moodle
    writes a "/" inside a name as "//"."""
    path = category.replace("$course$", "").replace("$system$", "").replace("$module$", "")
    parts = [p.replace("\x00", "/").strip() for p in path.replace("//", "\x00").split("/")]
    parts = [p for p in parts if p and p != "top"]
    return parts[-1] if parts else default


def html_text(html: str) -> tuple[str, str]:
    """Sanitised HTML and its format; HTML without any markup or entity is kept as plain text, so
    it reads (and searches) as what it is."""
    clean = sanitize_html(html)
    if "<" not in clean and "&" not in clean:
        return " ".join(clean.split()), "plain"
    return clean, "html"


def plain(html: str) -> str:
    return html_to_plain(html)


def check_choices(choices: list[str], correct: list[int], *, label: str = "answer") -> str:
    """The rejection shared by every format's multiple choice, or "" when the choices are fine."""
    for number, choice in enumerate(choices, start=1):
        if not choice:
            return f"{label} {number} has no text"
    seen: dict[str, int] = {}
    for number, choice in enumerate(choices, start=1):
        if choice in seen:
            return f"{label}s {seen[choice]} and {number} are the same (“{choice}”); each choice must differ"
        seen[choice] = number
    if not correct:
        return "no answer is marked correct; exactly one must be"
    if len(correct) > 1:
        return f"{len(correct)} answers are marked correct; exactly one must be (several correct answers are not supported)"
    if len(choices) < 2:
        return "it has only one answer; a multiple-choice question needs at least one wrong answer too"
    return ""


def check_lengths(parsed: Parsed) -> str:
    if len(parsed.topic) > TOPIC_MAX:
        return f"its category name is {len(parsed.topic)} characters long; at most {TOPIC_MAX} fit"
    if len(parsed.name) > NAME_MAX:
        return f"its title is {len(parsed.name)} characters long; at most {NAME_MAX} fit"
    if not parsed.text.strip():
        return "the question has no text"
    return ""


ANSWER_LINE = re.compile(r"^\s*ANSWER\s*:\s*\S", re.M)
