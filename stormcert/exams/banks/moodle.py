"""Moodle XML (https://docs.moodle.org/en/Moodle_XML_format), read with defusedxml: no entity
expansion, no external entities.

Taken: `multichoice` with one correct answer (fraction 100, the others 0) and `truefalse`;
`category` pseudo-questions set the topic. The XML parser decodes the file's entities once; text
marked as HTML stays HTML (sanitised), so `&lt;` in it shows as "<" on the page, never as "&lt;".
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

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

UNSUPPORTED = {
    "shortanswer": "a short-answer question, which is not supported: candidates choose from options here",
    "essay": "an essay question, which is not supported",
    "matching": "a matching question, which is not supported",
    "randomsamatch": "a random short-answer matching question, which is not supported",
    "numerical": "a numeric question, which is not supported",
    "calculated": "a calculated question, which is not supported",
    "calculatedsimple": "a calculated question, which is not supported",
    "calculatedmulti": "a calculated multiple-choice question, which is not supported",
    "multianswer": "an embedded-answers (Cloze) question, which is not supported",
    "description": "a description (text without a question); there is nothing to import",
    "ddwtos": "a drag-and-drop question, which is not supported",
    "gapselect": "a select-missing-words question, which is not supported",
}
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def _text(element: Element | None, *, as_html: bool = False) -> tuple[str, str]:
    """The <text> of a Moodle text element and its stored format. Only `plain_text` and
    `markdown` are not HTML: `html` and `moodle_auto_format` (the default) may hold markup."""
    if element is None:
        return "", "plain"
    value = element.findtext("text", default="") or ""
    fmt = element.get("format", "moodle_auto_format")
    if fmt == "plain_text":
        return (value.strip() if as_html else " ".join(value.split())), "plain"
    if fmt == "markdown":
        return value.strip(), "markdown"
    if as_html:
        return html_text(value)
    return plain(value), "plain"


def _choice_text(element: Element) -> str:
    """A choice or a feedback: always plain text (markup dropped, entities decoded once)."""
    fmt = element.get("format", "moodle_auto_format")
    value = element.findtext("text", default="") or ""
    return " ".join(value.split()) if fmt in ("plain_text", "markdown") else plain(value)


def parse_moodle_xml(content: bytes | str, default_topic: str = DEFAULT_TOPIC) -> ParseReport:
    report = ParseReport(file_format="moodle_xml")
    if isinstance(content, bytes):
        declared = _DECLARED.match(content)
        if not declared or declared.group(1).decode().lower().replace("_", "-") in ("utf-8", "utf8"):
            try:
                content.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                report.rejected.append(("file", not_utf8(exc)))
                return report
    try:
        root = ElementTree.fromstring(content)
    except DefusedXmlException:
        report.rejected.append(("file", "the file declares entities (a DTD), which are refused for safety"))
        return report
    except ElementTree.ParseError as exc:
        report.rejected.append(("file", f"not valid Moodle XML: {exc}"))
        return report
    if root.tag != "quiz":
        report.rejected.append(("file", f"the root element is <{root.tag}>, expected <quiz>"))
        return report
    topic = default_topic
    number = 0
    for element in root.findall("question"):
        kind = element.get("type", "")
        if kind == "category":
            topic = topic_from_category(element.findtext("category/text", default="") or "", default_topic)
            continue
        number += 1
        name = " ".join((element.findtext("name/text", default="") or "").split())
        where = f"question {number}" + (f" (“{name[:60]}”)" if name else "")
        result = _question(element, kind, topic, name, where)
        if isinstance(result, Parsed):
            report.questions.append(result)
        else:
            report.rejected.append((where, result))
    return report


def _question(element: Element, kind: str, topic: str, name: str, where: str) -> Parsed | str:
    if kind in UNSUPPORTED:
        return f"it is {UNSUPPORTED[kind]}"
    if kind not in ("multichoice", "truefalse"):
        return f"its type “{kind}” is not supported; only multichoice and truefalse are"
    text, text_format = _text(element.find("questiontext"), as_html=True)
    if "@@PLUGINFILE@@" in (element.findtext("questiontext/text") or ""):
        return "its text uses a file embedded in the export (an image?), which is not imported"
    general_element = element.find("generalfeedback")
    general = _choice_text(general_element) if general_element is not None else ""
    if kind == "multichoice":
        single = (element.findtext("single", default="true") or "true").strip().lower()
        if single not in ("true", "1"):
            return (
                "it lets candidates pick several answers (<single>false</single>); "
                "exactly one correct answer is needed"
            )
    answers = element.findall("answer")
    choices: list[str] = []
    feedback: list[str] = []
    correct: list[int] = []
    for position, answer in enumerate(answers, start=1):
        value = _choice_text(answer)
        fraction_text = answer.get("fraction", "0")
        try:
            fraction = float(fraction_text)
        except ValueError:
            return f"answer {position} (“{value}”) has fraction “{fraction_text}”, which is not a number"
        if fraction not in (0.0, 100.0):
            return (
                f"answer {position} (“{value}”) gives partial credit ({fraction:g}%); use 100 for the "
                "one correct answer and 0 for the others"
            )
        if fraction == 100.0:
            correct.append(len(choices))
        choices.append(value)
        found = answer.find("feedback")
        feedback.append(_choice_text(found) if found is not None else "")
    if kind == "truefalse":
        words = [c.lower() for c in choices]
        if sorted(words) != ["false", "true"] or len(correct) != 1:
            return "a true/false question needs the answers “true” and “false”, one with fraction 100"
        truth = words[correct[0]] == "true"
        by_word = dict(zip(words, feedback, strict=True))
        choices, correct, feedback = (
            ["True", "False"],
            [0 if truth else 1],
            [by_word["true"], by_word["false"]],
        )
    else:
        problem = check_choices(choices, correct)
        if problem:
            return problem
    parsed = Parsed(
        topic=topic,
        name=name,
        text=text,
        text_format=text_format,
        choices=choices,
        correct=correct[0],
        feedback=feedback if any(feedback) else [],
        general_feedback=general,
        where=where,
    )
    return check_lengths(parsed) or parsed


def not_utf8(exc: UnicodeDecodeError) -> str:
    return (
        f"the file is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at position {exc.start}); "
        "save it as UTF-8 and upload it again"
    )
