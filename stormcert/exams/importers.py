"""Question bank imports from GIFT and Moodle XML, the formats LMS users already have.

Only multiple-choice questions with exactly one correct answer are accepted. Every rejected
question is reported with where it is (GIFT: its line; XML: its number) and why; a file with any
rejection imports nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nh3
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

DEFAULT_TOPIC = "General"


@dataclass
class Parsed:
    topic: str
    text: str
    choices: list[str]
    correct: int
    where: str


@dataclass
class ImportReport:
    questions: list[Parsed] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)

    @property
    def ok(self) -> bool:
        return not self.rejected and bool(self.questions)


def _topic(category: str) -> str:
    parts = [p for p in re.split(r"/", category.replace("$course$", "").replace("$system$", "")) if p.strip()]
    return parts[-1].strip() if parts else DEFAULT_TOPIC


# --- GIFT ---------------------------------------------------------------------------------

_ESCAPED = {
    "\\=": "\x00eq",
    "\\~": "\x00ti",
    "\\#": "\x00ha",
    "\\{": "\x00lb",
    "\\}": "\x00rb",
    "\\:": "\x00co",
}


def _escape(text: str) -> str:
    for raw, token in _ESCAPED.items():
        text = text.replace(raw, token)
    return text


def _unescape(text: str) -> str:
    for raw, token in _ESCAPED.items():
        text = text.replace(token, raw[1])
    return " ".join(text.split())


def _strip_format(text: str) -> str:
    return re.sub(r"^\[(html|moodle|plain|markdown)\]", "", text.strip())


def parse_gift(content: str) -> ImportReport:
    report = ImportReport()
    topic = DEFAULT_TOPIC
    block: list[str] = []
    start = 0
    lines = content.splitlines()
    for number, raw in enumerate([*lines, ""], start=1):
        line = raw.strip()
        if line.startswith("//"):
            continue
        if line.startswith("$CATEGORY:") and not block:
            topic = _topic(line.split(":", 1)[1])
            continue
        if line:
            if not block:
                start = number
            block.append(raw)
            continue
        if block:
            question = _parse_gift_question("\n".join(block), topic, f"line {start}")
            if isinstance(question, Parsed):
                report.questions.append(question)
            else:
                report.rejected.append((f"line {start}", question))
            block = []
    return report


def _parse_gift_question(block: str, topic: str, where: str) -> Parsed | str:
    text = _escape(block)
    text = re.sub(r"^::(.*?)::", "", text.strip(), flags=re.S)
    if "{" not in text or "}" not in text:
        return "no answer block {…}; only multiple-choice questions are supported"
    stem, _, rest = text.partition("{")
    body, _, tail = rest.partition("}")
    stem = _strip_format(stem + (" " + tail if tail.strip() else ""))
    body = body.strip()
    if not _unescape(stem):
        return "the question has no text"
    if body in {"T", "F", "TRUE", "FALSE"}:
        return "true/false questions are not supported; write it as multiple choice"
    if body.startswith("#"):
        return "numeric questions are not supported"
    if "->" in body:
        return "matching questions are not supported"
    if not body:
        return "essay questions are not supported"
    parts = re.findall(r"([=~])([^=~]*)", body)
    choices: list[str] = []
    correct: list[int] = []
    for marker, value in parts:
        answer = value.split("#", 1)[0].strip()
        if answer.startswith("%"):
            return "partial-credit answers (~%50%…) are not supported; use one correct answer"
        if not answer:
            return "an answer has no text"
        if marker == "=":
            correct.append(len(choices))
        choices.append(_unescape(answer))
    if len(correct) != 1:
        return f"it has {len(correct)} correct answers; exactly one is needed (short-answer questions are not supported)"
    if len(choices) < 2:
        return "it needs at least one wrong answer (~)"
    if len(set(choices)) != len(choices):
        return "two answers have the same text"
    return Parsed(topic=topic, text=_unescape(stem), choices=choices, correct=correct[0], where=where)


# --- Moodle XML -------------------------------------------------------------------------------


def _plain(html: str) -> str:
    return " ".join(nh3.clean(html or "", tags=set()).replace("&nbsp;", " ").replace("&amp;", "&").split())


def parse_moodle_xml(content: bytes | str) -> ImportReport:
    report = ImportReport()
    try:
        root = ElementTree.fromstring(content)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        report.rejected.append(("file", f"not valid Moodle XML: {exc}"))
        return report
    if root.tag != "quiz":
        report.rejected.append(("file", f"the root element is <{root.tag}>, expected <quiz>"))
        return report
    topic = DEFAULT_TOPIC
    number = 0
    for element in root.findall("question"):
        kind = element.get("type", "")
        if kind == "category":
            topic = _topic(element.findtext("category/text", default=""))
            continue
        number += 1
        name = element.findtext("name/text", default="").strip()
        where = f"question {number}" + (f" (“{name}”)" if name else "")
        if kind != "multichoice":
            report.rejected.append((where, f"type “{kind}” is not supported; only multichoice"))
            continue
        if element.findtext("single", default="true").strip().lower() not in {"true", "1"}:
            report.rejected.append((where, "it allows several answers; exactly one correct answer is needed"))
            continue
        text = _plain(element.findtext("questiontext/text", default=""))
        choices: list[str] = []
        correct: list[int] = []
        problem = ""
        for answer in element.findall("answer"):
            value = _plain(answer.findtext("text", default=""))
            try:
                fraction = float(answer.get("fraction", "0"))
            except ValueError:
                problem = f"answer “{value}” has a fraction that is not a number"
                break
            if fraction not in (0.0, 100.0):
                problem = f"answer “{value}” gives partial credit ({fraction:g}%); use 100 for the one correct answer and 0 for the others"
                break
            if not value:
                problem = "an answer has no text"
                break
            if fraction == 100.0:
                correct.append(len(choices))
            choices.append(value)
        if not problem and not text:
            problem = "the question has no text"
        if not problem and len(correct) != 1:
            problem = f"it has {len(correct)} correct answers; exactly one is needed"
        if not problem and len(choices) < 2:
            problem = "it needs at least two answers"
        if problem:
            report.rejected.append((where, problem))
            continue
        report.questions.append(
            Parsed(topic=topic, text=text, choices=choices, correct=correct[0], where=where)
        )
    return report


def parse_file(name: str, content: bytes) -> ImportReport:
    lower = name.lower()
    if lower.endswith(".xml"):
        return parse_moodle_xml(content)
    if lower.endswith((".gift", ".txt")):
        try:
            return parse_gift(content.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return ImportReport(rejected=[("file", "not UTF-8 text")])
    return ImportReport(rejected=[("file", "choose a .gift/.txt (GIFT) or .xml (Moodle XML) file")])
