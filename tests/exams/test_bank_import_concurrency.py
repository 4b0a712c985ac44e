"""Double clicks and two staff importing the same file at once (SQLite here, PostgreSQL in CI): the
questions are written once."""

from __future__ import annotations

import pytest

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams.banks.services import AlreadyDecided, confirm_import, preview_import
from stormcert.exams.models import BankImport, Question, QuestionBank
from stormcert.programs.models import Program
from tests.exams.test_bank_import_pages import MIXED_GIFT
from tests.exams.test_concurrency import together

pytestmark = pytest.mark.django_db(transaction=True)


def _confirm(run_id: int, sara: User) -> str:
    try:
        confirm_import(run_id=run_id, actor=sara)
    except AlreadyDecided:
        return "already"
    return "imported"


def test_concurrent_confirms_import_once(programs: None, sara: User) -> None:
    bank = QuestionBank.objects.create(program=Program.objects.get(code="QISP"), code="b", title="Bank")
    one = preview_import(bank=bank, filename="a.gift", content=MIXED_GIFT.encode(), actor=sara, reason="r")
    assert sorted(together(5, lambda _: _confirm(one.pk, sara))) == ["already"] * 4 + ["imported"]
    # Two uploads of the same file, confirmed at the same moment: the bank's lock makes them take
    # turns, and the second finds the first one's questions there.
    two = [
        preview_import(bank=bank, filename="b.gift", content=MIXED_GIFT.encode(), actor=sara, reason="r")
        for _ in range(2)
    ]
    Question.objects.all().delete()
    assert together(2, lambda i: _confirm(two[i].pk, sara)) == ["imported", "imported"]
    assert Question.objects.count() == 3
    assert AuditEvent.objects.filter(verb="exam.questions_imported").count() == 3
    created = sorted(
        len(run.report["created"]) for run in BankImport.objects.filter(pk__in=[r.pk for r in two])
    )
    assert created == [0, 3]
