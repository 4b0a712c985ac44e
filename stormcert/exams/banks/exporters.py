"""A bank (or one topic of it) written as GIFT or Moodle XML, so staff can keep a copy, edit it
elsewhere, or move it; reading the export back into an empty bank gives the same questions
(topics, names, text and its format, choices, the correct one, feedback).

A two-choice question whose choices are exactly "True" and "False" is written as a true/false
question, which is what it was imported from."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from xml.etree import ElementTree as ET

from stormcert.exams.models import Question

TRUE_FALSE = ["True", "False"]
_GIFT_SPECIAL = str.maketrans({c: "\\" + c for c in "\\~=#{}:"} | {"\n": "\\n"})
_GIFT_FORMAT = {"plain": "plain", "html": "html", "markdown": "markdown"}
_XML_FORMAT = {"plain": "plain_text", "html": "html", "markdown": "markdown"}


def gift_escape(text: str) -> str:
    return text.replace("\r\n", "\n").translate(_GIFT_SPECIAL)


def _category(topic: str) -> str:
    return "$course$/top/" + topic.replace("/", "//")


def _feedback(question: Question, index: int) -> str:
    feedback = question.feedback or []
    return feedback[index] if index < len(feedback) else ""


def to_gift(questions: Iterable[Question], *, heading: str = "") -> str:
    lines = [f"// {line}" for line in heading.splitlines()] + ([""] if heading else [])
    for topic, group in groupby(sorted(questions, key=lambda q: (q.topic, q.pk or 0)), key=lambda q: q.topic):
        lines += [f"$CATEGORY: {_category(topic)}", ""]
        for question in group:
            title = f"::{gift_escape(question.name)}::" if question.name else ""
            head = f"{title}[{_GIFT_FORMAT.get(question.text_format, 'plain')}]{gift_escape(question.text)}"
            general = f"####{gift_escape(question.general_feedback)}" if question.general_feedback else ""
            if question.choices == TRUE_FALSE:
                # GIFT's true/false feedback: first the one for a wrong answer, then for a right one.
                right, wrong = (
                    _feedback(question, question.correct),
                    _feedback(question, 1 - question.correct),
                )
                answer = "TRUE" if question.correct == 0 else "FALSE"
                feedback = f"#{gift_escape(wrong)}#{gift_escape(right)}" if (right or wrong) else ""
                lines += [f"{head} {{{answer}{feedback}{general}}}", ""]
                continue
            body = [f"{head} {{"]
            for index, choice in enumerate(question.choices):
                marker = "=" if index == question.correct else "~"
                note = _feedback(question, index)
                body.append(f"\t{marker}{gift_escape(choice)}" + (f"#{gift_escape(note)}" if note else ""))
            if general:
                body.append(f"\t{general}")
            lines += ["\n".join([*body, "}"]), ""]
    return "\n".join(lines)


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if fmt:
        element.set("format", fmt)
    ET.SubElement(element, "text").text = value
    return element


def to_moodle_xml(questions: Iterable[Question]) -> bytes:
    quiz = ET.Element("quiz")
    for topic, group in groupby(sorted(questions, key=lambda q: (q.topic, q.pk or 0)), key=lambda q: q.topic):
        category = ET.SubElement(quiz, "question", type="category")
        _text(category, "category", _category(topic))
        for question in group:
            true_false = question.choices == TRUE_FALSE
            element = ET.SubElement(quiz, "question", type="truefalse" if true_false else "multichoice")
            _text(element, "name", question.name)
            _text(element, "questiontext", question.text, _XML_FORMAT.get(question.text_format, "plain_text"))
            _text(element, "generalfeedback", question.general_feedback, "plain_text")
            ET.SubElement(element, "defaultgrade").text = "1"
            ET.SubElement(element, "penalty").text = "0"
            ET.SubElement(element, "hidden").text = "0"
            if not true_false:
                ET.SubElement(element, "single").text = "true"
                ET.SubElement(element, "shuffleanswers").text = "true"
                ET.SubElement(element, "answernumbering").text = "abc"
            for index, choice in enumerate(question.choices):
                answer = ET.SubElement(
                    element,
                    "answer",
                    fraction="100" if index == question.correct else "0",
                    format="plain_text",
                )
                ET.SubElement(answer, "text").text = choice.lower() if true_false else choice
                _text(answer, "feedback", _feedback(question, index), "plain_text")
    ET.indent(quiz)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + ET.tostring(quiz, encoding="utf-8", xml_declaration=False)
        + b"\n"
    )
