"""GIFT, Moodle's plain-text question format: https://docs.moodle.org/en/GIFT_format.

Questions are separated by blank lines; `//` lines are comments; `$CATEGORY: path` sets the topic
of the questions after it. A question is `::title::[format] text {answers}`. Taken: multiple
choice with one correct answer (`=right ~wrong`) and true/false (`{T}`, `{FALSE}`), each answer
with optional `#feedback`, and `####general feedback`. Special characters are escaped with a
backslash: \\= \\~ \\# \\{ \\} \\: and \\n for a line break.
"""

from __future__ import annotations

import re
import textwrap

from stormcert.exams.banks.common import (
    DEFAULT_TOPIC,
    Parsed,
    ParseReport,
    check_choices,
    check_lengths,
    html_text,
    plain,
    topic_from_category,
)

# Escaped characters become private-use code points while parsing, so they never act as syntax.
_TOKENS = {
    "\\": "\ue000",
    "=": "\ue001",
    "~": "\ue002",
    "#": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    ":": "\ue006",
    "n": "\ue007",
}
_BACK = {token: ("\n" if char == "n" else char) for char, token in _TOKENS.items()}
_ESCAPE = re.compile(r"\\([\\=~#{}:n])")
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.I)
_TITLE = re.compile(r"^\s*::(.*?)::", re.S)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
TRUE_WORDS = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _hide_escapes(text: str) -> str:
    return _ESCAPE.sub(lambda m: _TOKENS[m.group(1)], text)


def _show(text: str) -> str:
    for token, char in _BACK.items():
        text = text.replace(token, char)
    return text


def _one_line(text: str) -> str:
    """A choice, feedback or plain text: whitespace collapsed, then the escapes restored (so a
    \\n stays a line break)."""
    return _show(" ".join(text.split()))


def parse_gift(content: str, default_topic: str = DEFAULT_TOPIC) -> ParseReport:
    report = ParseReport(file_format="gift")
    topic = default_topic
    block: list[tuple[int, str]] = []
    lines = content.splitlines()
    for number, raw in enumerate([*lines, ""], start=1):
        line = raw.strip()
        if line.startswith("//"):
            continue
        if line.upper().startswith("$CATEGORY:") and not block:
            topic = topic_from_category(line.split(":", 1)[1].strip(), default_topic)
            continue
        if line:
            block.append((number, raw))
            continue
        if block:
            where = f"line {block[0][0]}"
            result = _question(block, topic, where)
            if isinstance(result, Parsed):
                report.questions.append(result)
            else:
                report.rejected.append((where, result))
            block = []
    return report


def _line_of(block: list[tuple[int, str]], text: str, index: int) -> int:
    return block[0][0] + text.count("\n", 0, index)


def _question(block: list[tuple[int, str]], topic: str, where: str) -> Parsed | str:
    text = hidden = _hide_escapes("\n".join(raw for _, raw in block))
    name = ""
    title = _TITLE.match(text)
    if title:
        name = _one_line(title.group(1))
        text = text[title.end() :]
        offset = title.end()
    else:
        offset = 0
    text_format = "moodle"
    found = _FORMAT.match(text)
    if found:
        text_format = found.group(1).lower()
        text = text[found.end() :]
        offset += found.end()
    opens = [i for i, c in enumerate(text) if c == "{"]
    closes = [i for i, c in enumerate(text) if c == "}"]

    def line(i: int) -> int:
        # The hidden-escape text has the file's line breaks, so counting them gives the file's line.
        return _line_of(block, hidden, offset + i)

    if not opens and not closes:
        if title and not text.strip():
            return "it has a title but no text and no answer block {…}"
        return "it has no answer block {…}: text without answers (a description) is not a question"
    if not opens or (closes and closes[0] < opens[0]):
        return (
            f"the “}}” on line {line(closes[0])} closes no answer block; write \\}} for a brace in the text"
        )
    if not closes:
        return f"the answer block opened on line {line(opens[0])} is never closed (no “}}” before the next blank line)"
    if len(opens) > 1 and opens[1] < closes[0]:
        return (
            f"a second “{{” on line {line(opens[1])} opens inside the answer block opened on line "
            f"{line(opens[0])}; write \\{{ for a brace in the text"
        )
    if len(opens) > 1:
        first, second = line(opens[0]), line(opens[1])
        lines = f"on line {first}" if first == second else f"on lines {first} and {second}"
        return f"it has two answer blocks ({lines}); a question has one, write \\{{ and \\}} for braces in the text"
    if len(closes) > 1:
        return (
            f"the “}}” on line {line(closes[1])} closes no answer block; write \\}} for a brace in the text"
        )
    stem, body, tail = text[: opens[0]], text[opens[0] + 1 : closes[0]], text[closes[0] + 1 :]
    if tail.strip():
        stem = stem.rstrip() + " _____ " + tail.lstrip()  # missing word: the blank is where the block was
    question_text, stored_format = _stem(stem, text_format)
    answers_are_html = text_format == "html"

    def answer_text(value: str) -> str:
        return plain(_show(value)) if answers_are_html else _one_line(value)

    general = ""
    if "####" in body:
        body, general_raw = body.split("####", 1)
        general = answer_text(general_raw)
    stripped = body.strip()
    if not stripped:
        return "its answer block {} is empty: an essay question, which is not supported"
    if stripped.startswith("#"):
        return "it is a numeric question ({#…}), which is not supported"
    parts = stripped.split("#")
    if parts[0].strip().upper() in TRUE_WORDS:
        if len(parts) > 3:
            return "a true/false answer takes at most two feedbacks (#if wrong#if right)"
        truth = TRUE_WORDS[parts[0].strip().upper()]
        wrong_fb = answer_text(parts[1]) if len(parts) > 1 else ""
        right_fb = answer_text(parts[2]) if len(parts) > 2 else ""
        feedback = [right_fb, wrong_fb] if truth else [wrong_fb, right_fb]
        parsed = Parsed(
            topic=topic,
            name=name,
            text=question_text,
            text_format=stored_format,
            choices=["True", "False"],
            correct=0 if truth else 1,
            feedback=feedback if any(feedback) else [],
            general_feedback=general,
            where=where,
        )
        return check_lengths(parsed) or parsed
    if stripped[0] not in "=~":
        opening = _one_line(stripped.split("\n", 1)[0])[:40]
        return f"its answer block starts with “{opening}”; each answer must start with = (right) or ~ (wrong)"
    pieces = re.findall(r"([=~])([^=~]*)", stripped)
    if any("->" in value for _, value in pieces):
        return "it is a matching question (a -> b), which is not supported"
    choices: list[str] = []
    feedback = []
    correct: list[int] = []
    for marker, value in pieces:
        answer, _, answer_feedback = value.partition("#")
        answer = answer.strip()
        weight = _WEIGHT.match(answer)
        if weight:
            percent = float(weight.group(1))
            answer = answer[weight.end() :].strip()
            if percent not in (0.0, 100.0):
                return (
                    f"answer “{answer_text(answer)}” gives partial credit ({percent:g}%); "
                    "mark one answer = (right) and the others ~ (wrong)"
                )
            marker = "=" if percent == 100.0 else "~"
        if marker == "=":
            correct.append(len(choices))
        choices.append(answer_text(answer))
        feedback.append(answer_text(answer_feedback))
    if correct and len(correct) == len(choices):
        return (
            "every answer is marked = and none ~ (wrong): a short-answer question, which is not "
            "supported; give the wrong choices with ~"
        )
    problem = check_choices(choices, correct)
    if problem:
        return problem
    parsed = Parsed(
        topic=topic,
        name=name,
        text=question_text,
        text_format=stored_format,
        choices=choices,
        correct=correct[0],
        feedback=feedback if any(feedback) else [],
        general_feedback=general,
        where=where,
    )
    return check_lengths(parsed) or parsed


def _stem(stem: str, text_format: str) -> tuple[str, str]:
    """The question text in the format it is stored in."""
    if text_format == "markdown":
        lines = stem.strip("\n").split("\n")
        first, rest = lines[0].strip(), textwrap.dedent("\n".join(lines[1:]))
        joined = "\n".join(line.rstrip() for line in [first, *rest.split("\n")]).strip()
        return _show(joined), "markdown"
    if text_format == "html":
        return html_text(_show(stem.strip()))
    return _one_line(stem), "plain"
