"""GIFT and Moodle XML imports: accepted questions, every rejection with where and why, all or nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from stormcert.exams.importers import parse_gift, parse_moodle_xml
from stormcert.exams.models import Question, QuestionBank
from stormcert.programs.models import Program

GIFT = """// A sample bank
$CATEGORY: $course$/QISP/Monitoring

::Q1:: How many QSEs are sampled each reporting year? {
  =Four
  ~One#Too few
  ~Twelve
}

What does NAL stand for? {=Numeric Action Level ~National Air Limit ~New Application Letter}

$CATEGORY: $course$/QISP/Permit basics
Which document ends permit coverage? {=A Notice of Termination ~A Notice of Intent \\= escaped ~Nothing}
"""

GIFT_BAD = """Good question? {=Yes ~No}

The permit applies in California. {T}

Which are BMPs? {~%50%Sweeping ~%50%Training ~Nothing}

Name the system. {=SMARTS =smarts}

Match them. {=a -> 1 =b -> 2}

How many inches? {#1.5}
"""

XML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Exceedance response</text></category></question>
  <question type="multichoice">
    <name><text>Level 1</text></name>
    <questiontext format="html"><text><![CDATA[<p>Who prepares the <b>Level 1</b> ERA report?</p>]]></text></questiontext>
    <single>true</single>
    <answer fraction="100"><text>A QISP</text></answer>
    <answer fraction="0"><text>The laboratory</text></answer>
    <answer fraction="0"><text>A neighbor</text></answer>
  </question>
  <question type="multichoice">
    <name><text>Baseline</text></name>
    <questiontext format="html"><text>What moves a facility to Level 1?</text></questiontext>
    <answer fraction="100"><text>An NAL exceedance</text></answer>
    <answer fraction="0"><text>A dry year</text></answer>
  </question>
</quiz>
"""

XML_BAD = """<?xml version="1.0"?>
<quiz>
  <question type="truefalse"><name><text>TF</text></name><questiontext><text>Yes?</text></questiontext></question>
  <question type="multichoice"><name><text>Multi</text></name><questiontext><text>Pick two</text></questiontext>
    <single>false</single><answer fraction="50"><text>a</text></answer><answer fraction="50"><text>b</text></answer></question>
  <question type="multichoice"><name><text>Partial</text></name><questiontext><text>Pick</text></questiontext>
    <answer fraction="100"><text>a</text></answer><answer fraction="-25"><text>b</text></answer></question>
  <question type="multichoice"><name><text>Fine</text></name><questiontext><text>Pick</text></questiontext>
    <answer fraction="100"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>
</quiz>
"""


def test_gift_questions_with_topics_and_escapes() -> None:
    report = parse_gift(GIFT)
    assert not report.rejected
    assert [(q.topic, q.text, q.choices[q.correct]) for q in report.questions] == [
        ("Monitoring", "How many QSEs are sampled each reporting year?", "Four"),
        ("Monitoring", "What does NAL stand for?", "Numeric Action Level"),
        ("Permit basics", "Which document ends permit coverage?", "A Notice of Termination"),
    ]
    assert report.questions[0].choices == ["Four", "One", "Twelve"]
    assert report.questions[2].choices[1] == "A Notice of Intent = escaped"


def test_gift_rejections_name_the_line_and_the_reason() -> None:
    report = parse_gift(GIFT_BAD)
    assert len(report.questions) == 1
    assert report.rejected == [
        ("line 3", "true/false questions are not supported; write it as multiple choice"),
        ("line 5", "partial-credit answers (~%50%…) are not supported; use one correct answer"),
        (
            "line 7",
            "it has 2 correct answers; exactly one is needed (short-answer questions are not supported)",
        ),
        ("line 9", "matching questions are not supported"),
        ("line 11", "numeric questions are not supported"),
    ]


def test_moodle_xml_questions() -> None:
    report = parse_moodle_xml(XML)
    assert not report.rejected
    assert [(q.topic, q.text, q.choices[q.correct]) for q in report.questions] == [
        ("Exceedance response", "Who prepares the Level 1 ERA report?", "A QISP"),
        ("Exceedance response", "What moves a facility to Level 1?", "An NAL exceedance"),
    ]


def test_moodle_xml_rejections_name_the_question_and_the_reason() -> None:
    report = parse_moodle_xml(XML_BAD)
    assert report.rejected == [
        ("question 1 (“TF”)", "type “truefalse” is not supported; only multichoice"),
        ("question 2 (“Multi”)", "it allows several answers; exactly one correct answer is needed"),
        (
            "question 3 (“Partial”)",
            "answer “b” gives partial credit (-25%); use 100 for the one correct answer and 0 for the others",
        ),
    ]


def test_hostile_or_broken_xml_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><quiz>&b;</quiz>'
    assert parse_moodle_xml(bomb).rejected[0][0] == "file"
    assert "not valid Moodle XML" in parse_moodle_xml("<quiz>").rejected[0][1]


@pytest.mark.django_db
def test_staff_import_all_or_nothing_over_http(programs: None, sara_client: Client) -> None:
    bank = QuestionBank.objects.create(program=Program.objects.get(code="QISP"), code="b", title="Bank")
    url = reverse("exams:staff_exams")
    bad = sara_client.post(url, {"bank": bank.pk, "file": SimpleUploadedFile("bank.gift", GIFT_BAD.encode())})
    body = bad.content.decode()
    assert (
        "Nothing was imported: 5 question(s) were rejected." in body and "line 9: matching questions" in body
    )
    assert not Question.objects.exists()
    good = sara_client.post(url, {"bank": bank.pk, "file": SimpleUploadedFile("bank.xml", XML.encode())})
    assert "Imported 2 question(s)" in good.content.decode()
    again = sara_client.post(url, {"bank": bank.pk, "file": SimpleUploadedFile("bank.xml", XML.encode())})
    assert "Imported 0 question(s)" in again.content.decode() and "2 skipped" in again.content.decode()
    gift = sara_client.post(url, {"bank": bank.pk, "file": SimpleUploadedFile("more.gift", GIFT.encode())})
    assert "Imported 3 question(s)" in gift.content.decode()
    assert Question.objects.count() == 5
    wrong_type = sara_client.post(url, {"bank": bank.pk, "file": SimpleUploadedFile("bank.pdf", b"%PDF")})
    assert "choose a .gift/.txt (GIFT) or .xml (Moodle XML) file" in wrong_type.content.decode()


@pytest.mark.django_db
def test_candidates_cannot_import(programs: None, alice_client: Client) -> None:
    assert alice_client.get(reverse("exams:staff_exams")).status_code == 403
