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
    "courses/forms.py",
    "courses/ical.py",
    "courses/models.py",
    "courses/pdf.py",
    "courses/services.py",
    "courses/templates/courses/calendar.html",
    "courses/templates/courses/email/offer_lapsed_message.txt",
    "courses/templates/courses/email/offer_lapsed_subject.txt",
    "courses/templates/courses/email/offer_message.txt",
    "courses/templates/courses/email/offer_subject.txt",
    "courses/templates/courses/email/plan_decided_message.txt",
    "courses/templates/courses/email/registered_message.txt",
    "courses/templates/courses/email/registered_subject.txt",
    "courses/templates/courses/email/reminder_message.txt",
    "courses/templates/courses/email/reminder_subject.txt",
    "courses/templates/courses/email/seat_cancelled_message.txt",
    "courses/templates/courses/email/seat_cancelled_subject.txt",
    "courses/templates/courses/email/session_cancelled_message.txt",
    "courses/templates/courses/email/session_cancelled_subject.txt",
    "courses/templates/courses/email/session_changed_message.txt",
    "courses/templates/courses/email/session_changed_subject.txt",
    "courses/templates/courses/email/session_reassigned_message.txt",
    "courses/templates/courses/email/session_reassigned_subject.txt",
    "courses/templates/courses/email/survey_invite_message.txt",
    "courses/templates/courses/email/survey_invite_subject.txt",
    "courses/templates/courses/email/waitlist_closed_message.txt",
    "courses/templates/courses/email/waitlist_closed_subject.txt",
    "courses/templates/courses/email/waitlisted_message.txt",
    "courses/templates/courses/email/waitlisted_subject.txt",
    "courses/templates/courses/mine.html",
    "courses/templates/courses/staff_queue.html",
    "courses/templates/courses/survey.html",
    "courses/views.py",
    "trainers/applications.py",
    "trainers/forms.py",
    "trainers/models.py",
    "trainers/standing.py",
    "trainers/templates/trainers/email/application_submitted_message.txt",
    "trainers/templates/trainers/email/result_message.txt",
    "trainers/templates/trainers/home.html",
    "trainers/templates/trainers/public_list.html",
    "trainers/templates/trainers/review.html",
    "trainers/templates/trainers/staff_application.html",
    "trainers/views.py",
    "trainers/yearly.py",
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
