"""No program figure or program word in code: programs are data.

The words come from the definition files themselves (every program's code, short name and
name, the organisations its rule versions are named after, and exam step codes that are not
plain English), so a program added later is covered without editing this test. Definitions,
demo data, migrations and the legacy-import sample file are data and may name programs.

Check by hand: `make program-words` (or `.venv/bin/python -m pytest tests/test_no_program_words.py`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "stormcert"
DEFINITIONS = ROOT / "programs" / "definitions"
DATA_DIRS = ("migrations", "definitions", "demo", "samples")
DATA_FILES = {"core/management/commands/demo_data.py"}
SUFFIXES = {".py", ".html", ".txt", ".js", ".css", ".md"}
ENGLISH = {"final", "exam", "course", "survey", "training", "registration", "account"}

# Files not yet cleaned; each entry goes away when its file is. Must only shrink.
NOT_YET: set[str] = {
    "accounts/templates/accounts/claim.html",
    "accounts/templates/accounts/email/claim_decided_message.txt",
    "accounts/templates/accounts/email/claim_decided_subject.txt",
    "accounts/templates/accounts/email/claim_link_message.txt",
    "accounts/templates/accounts/email/claim_link_subject.txt",
    "api.py",
    "backoffice/imports.py",
    "backoffice/reports.py",
    "backoffice/templates/backoffice/imports.html",
    "backoffice/templates/backoffice/person.html",
    "backoffice/views.py",
    "certificates/credentials.py",
    "certificates/services.py",
    "certificates/templates/certificates/email/certificate_issued_message.txt",
    "certificates/templates/certificates/email/name_change_approved_message.txt",
    "certificates/templates/certificates/email/name_change_refused_message.txt",
    "certificates/templates/certificates/email/name_change_requested_message.txt",
    "certificates/templates/certificates/mine.html",
    "core/views.py",
    "directory/templates/directory/search.html",
    "directory/templates/directory/verify_lookup.html",
    "enrollments/journey.py",
    "enrollments/templates/enrollments/staff_list.html",
    "enrollments/views.py",
    "exams/models.py",
    "exams/templates/exams/email/accommodation_declined_message.txt",
    "exams/templates/exams/email/accommodation_granted_message.txt",
    "exams/templates/exams/email/accommodation_requested_message.txt",
    "lib/dates.py",
    "lib/numbers.py",
    "payments/receipts.py",
    "payments/templates/payments/email/payment_confirmation_message.txt",
    "payments/templates/payments/receipt.html",
    "programs/definitions.py",
    "programs/describe.py",
    "programs/models.py",
    "programs/policy.py",
    "renewals/services.py",
    "renewals/templates/renewals/email/renewal_reminder_message.txt",
    "settings.py",
    "templates/account/email/account_already_exists_message.html",
    "templates/account/email/account_already_exists_message.txt",
    "templates/account/email/account_already_exists_subject.txt",
    "templates/account/email/base_message.txt",
    "templates/account/email/email_confirmation_message.html",
    "templates/account/email/email_confirmation_message.txt",
    "templates/account/email/email_confirmation_signup_subject.txt",
    "templates/account/email/email_confirmation_subject.txt",
    "templates/account/email/login_code_message.html",
    "templates/account/email/login_code_message.txt",
    "templates/account/email/login_code_subject.txt",
    "templates/account/email/password_reset_key_subject.txt",
    "templates/account/email/unknown_account_message.html",
    "templates/account/email/unknown_account_message.txt",
    "templates/account/email/unknown_account_subject.txt",
    "templates/base.html",
    "templates/core/dashboard.html",
    "templates/core/home.html",
    "templates/core/qualification.html",
    "templates/emails/base_email.html",
    "training/models.py",
    "training/templates/training/course.html",
}


def program_words() -> set[str]:
    words: set[str] = set()
    for path in sorted(DEFINITIONS.glob("*.toml")):
        for program in tomllib.loads(path.read_text(encoding="utf-8")).get("program", []):
            words |= {program["code"], program["short_name"], program["name"]}
            words |= {part for part in re.split(r"[-_. ]", program["code"]) if len(part) >= 3}
            for policy in program.get("policy", []):
                words.add(policy["name"].split()[0])
            for step in program.get("step", []):
                if step["kind"] == "exam" and step["code"].lower() not in ENGLISH:
                    words.add(step["code"])
    return {w for w in words if len(w) >= 3}


def offending_lines(words: set[str]) -> dict[str, list[str]]:
    # Codes and acronyms (all capitals) match as written, so "QISP" is caught but the role word
    # "ToR" and the URL part "/tor/" are not; names and step codes match in any case.
    upper = sorted((w for w in words if w.isupper()), key=len, reverse=True)
    other = sorted((w for w in words if not w.isupper()), key=len, reverse=True)
    edge = r"(?<![A-Za-z0-9])({})(?![A-Za-z0-9])"
    patterns = [re.compile(edge.format("|".join(map(re.escape, upper))))] if upper else []
    if other:
        patterns.append(re.compile(edge.format("|".join(map(re.escape, other))), re.IGNORECASE))
    found: dict[str, list[str]] = {}
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        if any(part in DATA_DIRS for part in path.relative_to(ROOT).parts) or rel in DATA_FILES:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(p.search(line) for p in patterns):
                found.setdefault(rel, []).append(f"{rel}:{number}: {line.strip()}")
    return found


def test_the_words_come_from_the_definitions() -> None:
    words = program_words()
    assert words, "no definition files found"


def test_no_program_word_in_code() -> None:
    found = offending_lines(program_words())
    new = {rel: lines for rel, lines in found.items() if rel not in NOT_YET}
    assert not new, "program words in code (move them to the definition or the rules):\n" + "\n".join(
        line for lines in new.values() for line in lines
    )


def test_the_not_yet_list_only_shrinks() -> None:
    found = offending_lines(program_words())
    cleaned = sorted(NOT_YET - set(found))
    if cleaned:
        pytest.fail("these files are clean now; remove them from NOT_YET: " + ", ".join(cleaned))
