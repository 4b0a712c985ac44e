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

ROOT = Path(__file__).resolve().parent.parent / "stormcert"
DEFINITIONS = ROOT / "programs" / "definitions"
DATA_DIRS = ("migrations", "definitions", "demo", "samples")
DATA_FILES = {"core/management/commands/demo_data.py"}
SUFFIXES = {".py", ".html", ".txt", ".js", ".css", ".md"}
ENGLISH = {"final", "exam", "course", "survey", "training", "registration", "account"}


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


def offending_lines(words: set[str], root: Path = ROOT) -> dict[str, list[str]]:
    # Codes and acronyms (all capitals) match as written, so "QISP" is caught but the role word
    # "ToR" and the URL part "/tor/" are not; names and step codes match in any case.
    upper = sorted((w for w in words if w.isupper()), key=len, reverse=True)
    other = sorted((w for w in words if not w.isupper()), key=len, reverse=True)
    edge = r"(?<![A-Za-z0-9])({})(?![A-Za-z0-9])"
    patterns = [re.compile(edge.format("|".join(map(re.escape, upper))))] if upper else []
    if other:
        patterns.append(re.compile(edge.format("|".join(map(re.escape, other))), re.IGNORECASE))
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        if any(part in DATA_DIRS for part in path.relative_to(root).parts) or rel in DATA_FILES:
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
    assert not found, "program words in code (move them to the definition or the rules):\n" + "\n".join(
        line for lines in found.values() for line in lines
    )


def test_the_check_catches_a_program_word_and_spares_the_role_word(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text('title = "Midterm exam"\nrole = "ToR"  # /tor/ pages\n')
    (tmp_path / "page.html").write_text("<p>Become a QISP</p>\n")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001.py").write_text('code = "QISP"\n')
    found = offending_lines({"QISP", "TOR", "midterm"}, root=tmp_path)
    assert set(found) == {"views.py", "page.html"}
    assert found["views.py"] == ['views.py:1: title = "Midterm exam"']
