"""Staff import a question file in two steps: a preview that writes nothing, then "Import the N
valid questions" or "Import nothing"; the report stays and the decision is audited."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams.banks.services import AlreadyDecided, confirm_import, preview_import
from stormcert.exams.models import BankImport, ImportStatus, Question, QuestionBank
from stormcert.programs.models import Program
from tests.exams.test_imports import XML_MIXED

pytestmark = pytest.mark.django_db

# A real-world export: comments, categories, titles, every format tag, feedback, CRLF line ends,
# and the kinds this site does not take, mixed in.
MIXED_GIFT = "\r\n".join(
    [
        "// Exported from the training provider's Moodle, 2026",
        "$CATEGORY: $course$/top/Default for QISP/Monitoring",
        "",
        "::Sampling events::How many sampling events per reporting year? {",
        "  =Four#Two in each half of the year",
        "  ~One",
        "  ~Twelve",
        "}",
        "",
        "::Drought::[markdown]A **dry** year lowers the sampling count. {FALSE#It does not.#Right.}",
        "",
        "::Short::Name the reporting system. {=SMARTS}",
        "",
        "::Rain::How many inches is a qualifying storm? {#0.5:0.1}",
        "",
        "$CATEGORY: $course$/top/Default for QISP/Exceedances",
        "",
        "::Match::Match the levels. {=Baseline -> no exceedance =Level 1 -> first exceedance}",
        "",
        "::HTML::[html]<p>What follows a <b>Level&nbsp;1</b> status &amp; an exceedance?</p> {",
        "  =A Level 1 ERA report",
        "  ~Nothing",
        "}",
        "",
        "::Essay::Describe your facility's BMPs. {}",
        "",
        "::Broken::Which level comes after Level 1? {=Level 2 ~Baseline",
        "",
        "Welcome to the exceedance questions.",
        "",
        "::Partial::Which are BMPs? {~%50%Sweeping ~%50%Covering ~Paving}",
        "",
    ]
)


@pytest.fixture
def bank(programs: None) -> QuestionBank:
    return QuestionBank.objects.create(program=Program.objects.get(code="QISP"), code="b", title="Bank")


def upload(client: Client, bank: QuestionBank, name: str, content: bytes, **extra: str) -> BankImport:
    data = {"bank": bank.pk, "file": SimpleUploadedFile(name, content), "reason": "2027 bank", **extra}
    response = client.post(reverse("exams:staff_bank_upload"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    run = BankImport.objects.latest("pk")
    assert response["Location"] == reverse("exams:staff_bank_import", args=[run.pk])
    return run


def test_preview_shows_everything_and_writes_nothing(bank: QuestionBank, sara_client: Client) -> None:
    run = upload(sara_client, bank, "export.gift", MIXED_GIFT.encode())
    assert not Question.objects.exists() and run.status == ImportStatus.PREVIEW
    uploaded = AuditEvent.objects.get(verb__startswith="exam.question")  # the upload only
    assert uploaded.verb == "exam.question_file_uploaded" and uploaded.data["valid"] == 3
    page = sara_client.get(reverse("exams:staff_bank_import", args=[run.pk])).content.decode()
    assert "Preview: export.gift" in page and "Nothing has been written yet." in page
    assert "Import the 3 valid questions" in page and "Import nothing" in page
    # Each valid question as candidates see it, its title, topic, right answer and feedback.
    assert "Line 4: Sampling events" in page and "Topic: Monitoring" in page
    assert '<strong>✓ Four</strong> <span class="badge badge-ok">correct answer</span>' in page
    assert "Feedback: Two in each half of the year" in page
    assert "A <strong>dry</strong> year lowers the sampling count." in page  # Markdown, rendered
    assert "<p>What follows a <b>Level&nbsp;1</b> status &amp; an exceedance?</p>" in page
    assert "Topic: Exceedances" in page
    # Every rejection, by line, with the reason.
    for line, why in [
        ("Line 12", "Every answer is marked = and none ~ (wrong): a short-answer question"),
        ("Line 14", "It is a numeric question"),
        ("Line 18", "It is a matching question"),
        ("Line 25", "Its answer block {} is empty: an essay question"),
        ("Line 27", "The answer block opened on line 27 is never closed"),
        ("Line 29", "It has no answer block {…}: text without answers (a description) is not a question"),
        ("Line 31", "Answer “Sweeping” gives partial credit (50%)"),
    ]:
        assert f'<tr><td class="bank-where">{line}</td><td>{why}' in page, line
    assert "Rejected (7)" in page


def test_import_the_valid_ones_then_the_report_stays(
    bank: QuestionBank, sara: User, sara_client: Client
) -> None:
    run = upload(sara_client, bank, "export.gift", MIXED_GIFT.encode())
    done = sara_client.post(reverse("exams:staff_bank_import_confirm", args=[run.pk]), follow=True)
    page = done.content.decode()
    assert "Imported 3 questions into Bank." in page and "Import report: export.gift" in page
    assert "Rejected (7)" in page and "The answer block opened on line 27 is never closed" in page
    questions = list(Question.objects.order_by("id"))
    assert [(q.topic, q.name, q.text_format, q.choices[q.correct]) for q in questions] == [
        ("Monitoring", "Sampling events", "plain", "Four"),
        ("Monitoring", "Drought", "markdown", "False"),
        ("Exceedances", "HTML", "html", "A Level 1 ERA report"),
    ]
    assert questions[0].feedback == ["Two in each half of the year", "", ""]
    assert questions[1].feedback == ["It does not.", "Right."] and questions[1].choices == ["True", "False"]
    assert questions[0].source == "export.gift, line 4"
    event = AuditEvent.objects.get(verb="exam.questions_imported")
    assert event.actor == sara and event.reason == "2027 bank" and event.data["created"] == 3
    assert [
        "line 27",
        "the answer block opened on line 27 is never closed (no “}” before the next blank line)",
    ] in event.data["rejected"]
    assert event.data["sha256"] == run.sha256 and len(run.sha256) == 64
    # A second click changes nothing and says so.
    again = sara_client.post(reverse("exams:staff_bank_import_confirm", args=[run.pk]), follow=True)
    assert "This file was already imported; nothing more was done." in again.content.decode()
    assert Question.objects.count() == 3
    # The staff page lists the import with its outcome and a link to the report.
    listing = sara_client.get(reverse("exams:staff_exams")).content.decode()
    assert "3 imported, 0 kept, 7 rejected" in listing and "export.gift" in listing


def test_import_nothing(bank: QuestionBank, sara_client: Client) -> None:
    run = upload(sara_client, bank, "export.gift", MIXED_GIFT.encode())
    done = sara_client.post(reverse("exams:staff_bank_import_discard", args=[run.pk]), follow=True)
    assert "Nothing was imported from export.gift." in done.content.decode()
    assert not Question.objects.exists()
    run.refresh_from_db()
    assert run.status == ImportStatus.DISCARDED and len(run.report["rejected"]) == 7
    assert AuditEvent.objects.get(verb="exam.question_import_discarded").data["valid"] == 3
    report = sara_client.get(reverse("exams:staff_bank_import", args=[run.pk])).content.decode()
    assert "Nothing was imported:" in report and "not imported" in report
    late = sara_client.post(reverse("exams:staff_bank_import_confirm", args=[run.pk]), follow=True)
    assert "Staff already chose to import nothing from this file." in late.content.decode()
    assert not Question.objects.exists()


def test_reimporting_the_same_file_changes_nothing(bank: QuestionBank, sara: User) -> None:
    first = preview_import(bank=bank, filename="a.gift", content=MIXED_GIFT.encode(), actor=sara, reason="r")
    confirm_import(run_id=first.pk, actor=sara)
    Question.objects.filter(name="Drought").update(retired_at="2026-01-01T00:00Z")
    second = preview_import(bank=bank, filename="a.gift", content=MIXED_GIFT.encode(), actor=sara, reason="r")
    done = confirm_import(run_id=second.pk, actor=sara)
    assert done.report["created"] == []
    assert done.report["kept"] == [
        ["line 4", "already there: kept"],
        ["line 10", "already there (retired): kept retired"],
        ["line 20", "already there: kept"],
    ]
    assert Question.objects.count() == 3
    with pytest.raises(AlreadyDecided):
        confirm_import(run_id=second.pk, actor=sara)


def test_a_changed_answer_key_is_not_imported_over_the_bank(
    bank: QuestionBank, sara: User, sara_client: Client
) -> None:
    gift = b"Which ends coverage? {=NOT ~NOI}\n\nSame twice? {=a ~b}\n\nSame twice? {=a ~b}\n"
    confirm_import(
        run_id=preview_import(bank=bank, filename="a.gift", content=gift, actor=sara, reason="r").pk,
        actor=sara,
    )
    assert Question.objects.count() == 2  # the file's own duplicate is imported once
    changed = preview_import(
        bank=bank, filename="b.gift", content=b"Which ends coverage? {~NOT =NOI}\n", actor=sara, reason="r"
    )
    page = sara_client.get(reverse("exams:staff_bank_import", args=[changed.pk])).content.decode()
    assert "Already there with “NOT” as the correct answer, not “NOI”" in page
    assert "There is nothing new to import from this file." in page and "Import the" not in page


def test_upload_refusals_keep_what_staff_typed(bank: QuestionBank, sara_client: Client) -> None:
    url = reverse("exams:staff_bank_upload")
    no_file = sara_client.post(
        url, {"bank": bank.pk, "reason": "2027 bank", "topic": "Permits", "file_format": "aiken"}
    )
    page = no_file.content.decode()
    assert "Choose a GIFT, Aiken or Moodle XML file." in page
    assert (
        'value="2027 bank"' in page
        and 'value="Permits"' in page
        and '<option value="aiken" selected>' in page
    )
    no_reason = sara_client.post(url, {"bank": bank.pk, "file": SimpleUploadedFile("a.gift", b"Q? {T}")})
    assert "Give the reason for the import" in no_reason.content.decode()
    no_bank = sara_client.post(
        url, {"bank": "999", "reason": "r", "file": SimpleUploadedFile("a.gift", b"Q? {T}")}
    )
    assert "Choose the question bank to import into." in no_bank.content.decode()
    big = SimpleUploadedFile("a.gift", b"x" * (5 * 1024 * 1024 + 1))
    assert (
        "larger than 5 MB"
        in sara_client.post(url, {"bank": bank.pk, "reason": "r", "file": big}).content.decode()
    )
    assert not BankImport.objects.exists()
    # A file that is not UTF-8 gets as far as the preview, which says so.
    run = upload(sara_client, bank, "latin.gift", "Qualité? {T}".encode("latin-1"))
    page = sara_client.get(reverse("exams:staff_bank_import", args=[run.pk])).content.decode()
    assert "The file is not UTF-8 text (byte 0xE9 at position 6)" in page


def test_aiken_with_a_topic_and_a_mixed_moodle_file(bank: QuestionBank, sara_client: Client) -> None:
    aiken = (
        b"Which document ends coverage?\nA. A NOT\nB) A NOI\nANSWER: A\n\nBroken?\nA. a\nB. b\nANSWER: Z\n"
    )
    run = upload(sara_client, bank, "bank.txt", aiken, topic="Permit basics")
    assert run.file_format == "aiken"
    page = sara_client.get(reverse("exams:staff_bank_import", args=[run.pk])).content.decode()
    assert "Topic: Permit basics" in page and "“ANSWER: Z” on line 9 names no option" in page
    sara_client.post(reverse("exams:staff_bank_import_confirm", args=[run.pk]))
    assert Question.objects.get().topic == "Permit basics"

    xml = upload(sara_client, bank, "moodle.xml", XML_MIXED.encode())
    page = sara_client.get(reverse("exams:staff_bank_import", args=[xml.pk])).content.decode()
    assert "Import the 2 valid questions" in page and "Rejected (11)" in page
    assert '<tr><td class="bank-where">Question 6 (“Intro”)</td><td>It is a description' in page
    sara_client.post(reverse("exams:staff_bank_import_confirm", args=[xml.pk]))
    assert set(Question.objects.filter(topic="Mixed").values_list("name", flat=True)) == {
        "Fine",
        "水質 — été",
    }
    report = sara_client.get(reverse("exams:staff_bank_import", args=[xml.pk])).content.decode()
    assert "Imported questions (2)" in report and "Question 4 (“Essay”)" in report


def test_candidates_cannot_import_or_export(bank: QuestionBank, alice_client: Client) -> None:
    assert alice_client.get(reverse("exams:staff_exams")).status_code == 403
    assert alice_client.get(reverse("exams:staff_bank_export", args=[bank.pk])).status_code == 403
    assert alice_client.post(reverse("exams:staff_bank_upload")).status_code == 403


def test_a_huge_file_previews_its_first_questions_and_every_count(
    bank: QuestionBank, sara: User, sara_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stormcert.exams.views.PREVIEW_SHOWN", 2)
    run = preview_import(bank=bank, filename="a.gift", content=MIXED_GIFT.encode(), actor=sara, reason="r")
    page = sara_client.get(reverse("exams:staff_bank_import", args=[run.pk])).content.decode()
    assert "Valid questions (3)" in page and "The first 2 of 3 are shown here." in page
    assert "Line 10: Drought" in page and "Line 20: HTML" not in page and "Rejected (7)" in page
