"""Exporting a bank to GIFT and Moodle XML, and reading the export back into an empty bank: the
same questions (topics, names, text and format, choices, the correct one, feedback)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams.banks.services import confirm_import, preview_import
from stormcert.exams.models import Question, QuestionBank
from stormcert.programs.models import Program

pytestmark = pytest.mark.django_db


def _bank(code: str) -> QuestionBank:
    return QuestionBank.objects.create(
        program=Program.objects.get(code="QISP"), code=code, title=code.title()
    )


def _awkward_questions(bank: QuestionBank) -> None:
    """Every character GIFT escapes, line breaks, Unicode, each text format, true/false, feedback."""
    make = Question.objects.create
    make(
        bank=bank,
        topic="Monitoring / sampling",
        name="Signs: = ~ # { } \\",
        text="Which is right: a = b, c ~ d, #1, {x}, C:\\path?\nSecond line — 水質",
        choices=["= equals", "~ tilde", "# hash {braces}"],
        correct=1,
        feedback=["No: # is not", "", "Not {that}"],
        general_feedback="See: the permit, §2",
    )
    make(
        bank=bank,
        topic="Monitoring / sampling",
        name="Markdown",
        text="Which is **bold**?\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        text_format="markdown",
        choices=["one", "two"],
        correct=0,
    )
    make(
        bank=bank,
        topic="Exceedances",
        text="<p>Is 5 &lt; 6 &amp; <b>always</b>?</p><ul><li>x</li></ul>",
        text_format="html",
        choices=["True", "False"],
        correct=0,
        feedback=["Right.", "It is."],
    )
    make(
        bank=bank,
        topic="Exceedances",
        name="TF",
        text="A dry year lowers the count.",
        choices=["True", "False"],
        correct=1,
    )
    make(
        bank=bank,
        topic="Exceedances",
        text="Retired",
        choices=["a", "b"],
        correct=0,
        retired_at="2026-01-01T00:00Z",
    )


def _shape(bank: QuestionBank) -> list[tuple[Any, ...]]:
    return [
        (q.topic, q.name, q.text, q.text_format, q.choices, q.correct, q.feedback or [], q.general_feedback)
        for q in Question.objects.filter(bank=bank, retired_at__isnull=True).order_by("topic", "id")
    ]


def _normalized(shape: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # An all-empty feedback list and no list are the same.
    return [(*row[:6], row[6] if any(row[6]) else [], row[7]) for row in shape]


@pytest.mark.parametrize(("file_format", "name"), [("gift", "b.gift"), ("moodle_xml", "b.xml")])
def test_round_trip(programs: None, sara: User, sara_client: Client, file_format: str, name: str) -> None:
    source, target = _bank("source"), _bank("target")
    _awkward_questions(source)
    response = sara_client.get(reverse("exams:staff_bank_export", args=[source.pk]), {"format": file_format})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="source-')
    content = response.content
    assert b"Retired" not in content
    run = preview_import(bank=target, filename=name, content=content, actor=sara, reason="round trip")
    assert run.parsed["rejected"] == []
    confirm_import(run_id=run.pk, actor=sara)
    assert _normalized(_shape(target)) == _normalized(_shape(source))
    event = AuditEvent.objects.get(verb="exam.questions_exported")
    assert event.data == {"topic": "", "format": file_format, "questions": 4}


def test_export_one_topic_and_refusals(programs: None, sara_client: Client) -> None:
    bank = _bank("source")
    _awkward_questions(bank)
    url = reverse("exams:staff_bank_export", args=[bank.pk])
    gift = sara_client.get(url, {"format": "gift", "topic": "Exceedances"}).content.decode()
    assert "$CATEGORY: $course$/top/Exceedances" in gift and "Monitoring" not in gift
    assert "::TF::[plain]A dry year lowers the count. {FALSE}" in gift
    assert "$CATEGORY: $course$/top/Monitoring // sampling" not in gift
    none = sara_client.get(url, {"format": "gift", "topic": "Nope"}, follow=True)
    assert "There are no active questions to export in topic “Nope”." in none.content.decode()
    bad = sara_client.get(url, {"format": "pdf"}, follow=True)
    assert "Choose GIFT or Moodle XML." in bad.content.decode()
    page = sara_client.get(reverse("exams:staff_exams")).content.decode()
    assert '<option value="Exceedances">Exceedances</option>' in page


def test_a_category_with_a_slash_survives(programs: None, sara: User, sara_client: Client) -> None:
    source, target = _bank("source"), _bank("target")
    _awkward_questions(source)
    gift = sara_client.get(reverse("exams:staff_bank_export", args=[source.pk]), {"format": "gift"}).content
    assert b"$CATEGORY: $course$/top/Monitoring // sampling" in gift
    run = preview_import(bank=target, filename="b.gift", content=gift, actor=sara, reason="r")
    assert {q["topic"] for q in run.parsed["questions"]} == {"Monitoring / sampling", "Exceedances"}
