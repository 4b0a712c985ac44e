"""Importing a question file in two steps, and exporting a bank.

1. `preview_import` reads the file and keeps it (bytes, hash and the reading) on a `BankImport`
   row; nothing is written to the bank. Staff see every question as a candidate would and every
   rejection with where and why.
2. `confirm_import` writes the valid questions from that stored reading, or `discard_import`
   writes none. Either way the decision is audited and the report stays on the row.

Questions already in the bank (same topic, text and choices; retired ones too, so a question staff
retired is not brought back) are kept as they are: importing the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.exams.banks.common import DEFAULT_TOPIC, MAX_BYTES, TOPIC_MAX, Parsed, ParseReport
from stormcert.exams.importers import parse_file
from stormcert.exams.models import BankImport, ImportStatus, Question, QuestionBank


class BankImportError(Exception):
    """The upload or the decision cannot be carried out; the message says why."""


class AlreadyDecided(BankImportError):
    pass


@dataclass
class Planned:
    """One valid question of the file and what importing it would do."""

    question: Parsed
    new: bool
    note: str = ""  # why it is not new


def plan(bank: QuestionBank, report: ParseReport) -> list[Planned]:
    existing = {
        (q.topic, q.text, tuple(q.choices)): q
        for q in Question.objects.filter(bank=bank).only("topic", "text", "choices", "correct", "retired_at")
    }
    first_in_file: dict[tuple[str, str, tuple[str, ...]], str] = {}
    planned = []
    for parsed in report.questions:
        there = existing.get(parsed.key)
        if there is not None and there.correct != parsed.correct:
            note = (
                f"already there with “{there.choices[there.correct]}” as the correct answer, not "
                f"“{parsed.choices[parsed.correct]}”: the bank's question is kept; correct it in the admin if the file is right"
            )
        elif there is not None:
            note = "already there (retired): kept retired" if there.retired_at else "already there: kept"
        elif parsed.key in first_in_file:
            note = f"the same question as at {first_in_file[parsed.key]}: imported once"
        else:
            first_in_file[parsed.key] = parsed.where
            planned.append(Planned(parsed, new=True))
            continue
        planned.append(Planned(parsed, new=False, note=note))
    return planned


def preview_import(
    *,
    bank: QuestionBank,
    filename: str,
    content: bytes,
    actor: User,
    reason: str,
    file_format: str = "detect",
    default_topic: str = "",
    now: datetime | None = None,
) -> BankImport:
    if not reason.strip():
        raise BankImportError(
            "Give the reason for the import (where the file comes from): it is kept in the audit log."
        )
    if len(content) > MAX_BYTES:
        raise BankImportError("That file is larger than 5 MB; split it into smaller files.")
    if not content:
        raise BankImportError("That file is empty.")
    topic = " ".join(default_topic.split()) or DEFAULT_TOPIC
    if len(topic) > TOPIC_MAX:
        raise BankImportError(f"Give a topic of at most {TOPIC_MAX} characters.")
    report = parse_file(filename, content, file_format, topic)
    run = BankImport.objects.create(
        bank=bank,
        created_by=actor,
        created_at=now or timezone.now(),
        filename=filename[:200],
        file_format=report.file_format,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        default_topic=topic,
        reason=reason.strip(),
        parsed=report.as_dict(),
    )
    # The file (and its answer key) is now kept here: say who put it here and why.
    record(
        actor=actor,
        verb="exam.question_file_uploaded",
        obj=bank,
        reason=run.reason,
        data={
            "import": run.pk,
            "file": run.filename,
            "sha256": run.sha256,
            "format": run.file_format,
            "valid": len(report.questions),
            "rejected": len(report.rejected),
        },
        now=run.created_at,
    )
    return run


def reading(run: BankImport) -> ParseReport:
    return ParseReport.from_dict(run.parsed)


def _decide(run_id: int) -> BankImport:
    run = BankImport.objects.select_for_update(of=("self",)).select_related("bank").get(pk=run_id)
    if run.status != ImportStatus.PREVIEW:
        raise AlreadyDecided(
            "This file was already imported; nothing more was done."
            if run.status == ImportStatus.IMPORTED
            else "Staff already chose to import nothing from this file."
        )
    return run


@transaction.atomic
def confirm_import(*, run_id: int, actor: User, now: datetime | None = None) -> BankImport:
    """Write the valid, new questions of a previewed file. A second confirm (a double click, two
    tabs) finds the row decided and writes nothing; the bank's row lock makes two imports into one
    bank take turns, so neither duplicates what the other wrote."""
    now = now or timezone.now()
    run = _decide(run_id)
    QuestionBank.objects.select_for_update(of=("self",)).filter(pk=run.bank_id).first()
    parsed = reading(run)
    planned = plan(run.bank, parsed)
    new = [p.question for p in planned if p.new]
    Question.objects.bulk_create(
        Question(
            bank=run.bank,
            topic=q.topic,
            name=q.name,
            text=q.text,
            text_format=q.text_format,
            choices=q.choices,
            correct=q.correct,
            feedback=q.feedback,
            general_feedback=q.general_feedback,
            source=f"{run.filename}, {q.where}"[:200],
            created_at=now,
        )
        for q in new
    )
    run.report = {
        "created": [q.where for q in new],
        "kept": [[p.question.where, p.note] for p in planned if not p.new],
        "rejected": [list(r) for r in parsed.rejected],
    }
    run.status, run.decided_by, run.decided_at = ImportStatus.IMPORTED, actor, now
    run.save(update_fields=["report", "status", "decided_by", "decided_at"])
    record(
        actor=actor,
        verb="exam.questions_imported",
        obj=run.bank,
        reason=run.reason,
        data={
            "import": run.pk,
            "file": run.filename,
            "sha256": run.sha256,
            "format": run.file_format,
            "created": len(new),
            "kept": run.report["kept"],
            "rejected": run.report["rejected"],
        },
        now=now,
    )
    return run


@transaction.atomic
def discard_import(*, run_id: int, actor: User, now: datetime | None = None) -> BankImport:
    now = now or timezone.now()
    run = _decide(run_id)
    parsed = reading(run)
    run.report = {"created": [], "kept": [], "rejected": [list(r) for r in parsed.rejected]}
    run.status, run.decided_by, run.decided_at = ImportStatus.DISCARDED, actor, now
    run.save(update_fields=["report", "status", "decided_by", "decided_at"])
    record(
        actor=actor,
        verb="exam.question_import_discarded",
        obj=run.bank,
        reason=run.reason,
        data={
            "import": run.pk,
            "file": run.filename,
            "sha256": run.sha256,
            "valid": len(parsed.questions),
            "rejected": run.report["rejected"],
        },
        now=now,
    )
    return run


def export_questions(
    *, bank: QuestionBank, topic: str, file_format: str, actor: User, now: datetime | None = None
) -> tuple[str, bytes, str]:
    """(file name, content, content type) of the bank's active questions, or one topic's. The
    export holds the answer key, so it is audited."""
    from stormcert.exams.banks.exporters import to_gift, to_moodle_xml

    questions = Question.objects.filter(bank=bank, retired_at__isnull=True)
    if topic:
        questions = questions.filter(topic=topic)
    chosen = list(questions.order_by("topic", "id"))
    if not chosen:
        raise BankImportError(
            "There are no active questions to export" + (f" in topic “{topic}”." if topic else ".")
        )
    now = now or timezone.now()
    stem = bank.code + (f"-{_slug(topic)}" if topic else "") + f"-{now:%Y%m%d}"
    if file_format == "gift":
        heading = f"{bank.title}{f', topic {topic}' if topic else ''}: {len(chosen)} questions, exported {now:%Y-%m-%d %H:%M %Z}"
        name, content, kind = (
            f"{stem}.gift",
            to_gift(chosen, heading=heading).encode(),
            "text/plain; charset=utf-8",
        )
    elif file_format == "moodle_xml":
        name, content, kind = f"{stem}.xml", to_moodle_xml(chosen), "application/xml"
    else:
        raise BankImportError("Choose GIFT or Moodle XML.")
    record(
        actor=actor,
        verb="exam.questions_exported",
        obj=bank,
        data={"topic": topic, "format": file_format, "questions": len(chosen)},
        now=now,
    )
    return name, content, kind


def _slug(text: str) -> str:
    from django.utils.text import slugify

    return slugify(text)[:40] or "topic"
