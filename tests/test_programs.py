"""Programs as data: definition files, rules by day, both QISP rule sets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from stormcert.audit.models import AuditEvent
from stormcert.programs import describe
from stormcert.programs.definitions import (
    DEFINITIONS_DIR,
    DefinitionError,
    load_definition,
    load_definition_file,
)
from stormcert.programs.models import Fee, PolicyValue, PolicyVersion, Program, Step
from stormcert.programs.policy import missing_keys, shape_of
from stormcert.programs.rules import RuleMissing, program_today, rules_in_force

pytestmark = pytest.mark.django_db


def test_casqa_definition_seeds_both_programs_with_nine_qisp_steps(programs: None) -> None:
    qisp = Program.objects.get(code="QISP")
    assert [s.code for s in qisp.steps.all()] == [
        "account",
        "read_guides",
        "self_assessment",
        "registration",
        "training",
        "midterm",
        "course",
        "survey",
        "final",
    ]
    tor = Program.objects.get(code="IGP-TOR")
    assert list(tor.requires.all()) == [qisp]


def test_rules_in_force_give_the_casqa_figures(programs: None) -> None:
    rules = rules_in_force(Program.objects.get(code="QISP"), date(2026, 11, 21))
    assert rules.value("midterm.question_count") == 35
    assert rules.value("final.duration_minutes") == 240
    assert rules.fee("registration").amount == Decimal("505.00")
    assert rules.fee("renewal_late").amount == Decimal("240.00")
    assert rules.value("consequence.window_expired") == {
        "fee": "extension",
        "redo": [],
        "extends_window": True,
    }


def test_a_fee_change_takes_effect_on_its_day_and_not_before(programs: None) -> None:
    qisp = Program.objects.get(code="QISP")
    Fee.objects.create(
        program=qisp,
        code="registration",
        name="QISP online training registration",
        amount=Decimal("525.00"),
        effective_from=date(2027, 1, 1),
    )
    assert rules_in_force(qisp, date(2026, 12, 31)).fee("registration").amount == Decimal("505.00")
    assert rules_in_force(qisp, date(2027, 1, 1)).fee("registration").amount == Decimal("525.00")


def test_a_new_rule_version_applies_from_its_day(programs: None) -> None:
    qisp = Program.objects.get(code="QISP")
    old = rules_in_force(qisp, date(2027, 6, 30)).version
    new = PolicyVersion.objects.create(program=qisp, name="CASQA 2027", effective_from=date(2027, 7, 1))
    for value in old.values.all():
        PolicyValue.objects.create(version=new, key=value.key, value=value.value)
    new.values.filter(key="midterm.attempts").update(value=3)
    assert rules_in_force(qisp, date(2027, 6, 30)).value("midterm.attempts") == 2
    assert rules_in_force(qisp, date(2027, 7, 1)).value("midterm.attempts") == 3


def test_no_rules_before_the_first_version_is_a_clear_error(programs: None) -> None:
    with pytest.raises(RuleMissing, match="no rules in force on 2019-05-27"):
        rules_in_force(Program.objects.get(code="QISP"), date(2019, 5, 27))


def test_missing_fee_is_a_clear_error(programs: None) -> None:
    rules = rules_in_force(Program.objects.get(code="QISP"), date(2026, 1, 1))
    with pytest.raises(RuleMissing, match="no fee 'tor_yearly'"):
        rules.fee("tor_yearly")


def test_program_day_turns_at_pacific_midnight(programs: None) -> None:
    qisp = Program.objects.get(code="QISP")
    utc = ZoneInfo("UTC")
    # 07:59 UTC on Jan 1 is still Dec 31 in California; 08:00 UTC is Jan 1.
    assert program_today(qisp, datetime(2027, 1, 1, 7, 59, tzinfo=utc)) == date(2026, 12, 31)
    assert program_today(qisp, datetime(2027, 1, 1, 8, 0, tzinfo=utc)) == date(2027, 1, 1)


def test_loading_twice_changes_nothing(programs: None) -> None:
    events = AuditEvent.objects.count()
    result = load_definition_file(DEFINITIONS_DIR / "casqa.toml")
    assert not result.changed
    assert AuditEvent.objects.count() == events


def test_the_owp_rules_are_an_earlier_dated_version_of_the_same_program(programs: None) -> None:
    qisp = Program.objects.get(code="QISP")
    rules = rules_in_force(qisp, date(2020, 1, 1))
    assert rules.version.name == "OWP 2019"
    assert rules.value("journey.skipped_steps") == ["read_guides", "self_assessment", "survey"]
    for key in (
        "consequence.midterm_failed_out",
        "consequence.final_failed_out",
        "consequence.window_expired",
    ):
        assert rules.value(key) == {"fee": "re_registration", "redo": ["*"], "extends_window": False}
    assert "redo every step" in " ".join(describe.consequence_lines(rules))
    assert rules_in_force(qisp, date(2023, 1, 1)).version.name == "CASQA"


def test_steps_can_be_reordered_by_reloading(programs: None) -> None:
    text = (DEFINITIONS_DIR / "casqa.toml").read_text()
    blocks = text.split("[[program.step]]\n")
    midterm = next(i for i, b in enumerate(blocks) if b.startswith('code = "midterm"'))
    course = next(i for i, b in enumerate(blocks) if b.startswith('code = "course"'))
    blocks[midterm], blocks[course] = blocks[course], blocks[midterm]
    load_definition("[[program.step]]\n".join(blocks))
    assert [s.code for s in Step.objects.filter(program__code="QISP")][4:8] == [
        "training",
        "course",
        "midterm",
        "survey",
    ]


BROKEN = """
[[program]]
code = "QISP"
name = "Q"
short_name = "Q"
kind = "qualification"
summary = "s"
requires = ["QSIP"]

[[program.step]]
code = "midterm"
title = "Midterm"
kind = "exam"

[[program.step]]
code = "final"
title = "Final"
kind = "exam"

[[program.policy]]
name = "v1"
effective_from = 2024-01-01
[program.policy.values]
"midterm.attempts" = "two"
"midterm.atempts" = 2
"consequence.final_failed_out" = { fee = "re_registration", redo = ["training"] }

[[program.fee]]
code = "registration"
name = "Registration"
amount = 505.5
effective_from = 2024-01-01
"""


def test_a_broken_definition_reports_every_problem_and_writes_nothing(db: None) -> None:
    with pytest.raises(DefinitionError) as error:
        load_definition(BROKEN, source="broken.toml")
    problems = "\n".join(error.value.problems)
    assert "program QISP: requires unknown program code 'QSIP'" in problems
    assert "midterm.attempts: expected a whole number, got 'two'" in problems
    assert "unknown policy key 'midterm.atempts'" in problems
    assert "names fee 're_registration', which the program does not define" in problems
    assert "names step 'training', which the program does not have" in problems
    assert "amount 505.5 must be a non-negative amount in quotes" in problems
    # A version must be complete for the program's kind and steps; each missing key is named.
    assert "missing final.question_count (Questions in “Final”.)" in problems
    assert "missing certificate.number_format" in problems
    assert not Program.objects.exists()


def test_invalid_toml_reports_the_line(db: None) -> None:
    with pytest.raises(DefinitionError, match=r"not valid TOML: .*line 2"):
        load_definition("[[program]]\ncode = \n", source="x.toml")


def test_a_late_failure_rolls_back_everything(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import stormcert.programs.definitions as definitions

    def explode(**kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(definitions, "record", explode)
    with pytest.raises(RuntimeError):
        load_definition_file(DEFINITIONS_DIR / "casqa.toml")
    assert not Program.objects.exists() and not Fee.objects.exists()


def test_command_reports_unknown_program_code(db: None) -> None:
    with pytest.raises(CommandError) as error:
        call_command("load_programs", "--program", "QSIP")
    assert "unknown program code 'QSIP'; casqa.toml defines QISP, IGP-TOR" in str(error.value)
    assert not Program.objects.exists()


def test_command_reports_unknown_program_code_in_a_named_file(db: None) -> None:
    with pytest.raises(CommandError) as error:
        call_command("load_programs", str(DEFINITIONS_DIR / "casqa.toml"), "--program", "QSIP")
    assert "unknown program code 'QSIP'; this file defines QISP, IGP-TOR" in str(error.value)
    assert not Program.objects.exists()


def test_command_loads_every_definition_file_in_order_and_again_changes_nothing(db: None) -> None:
    call_command("load_programs", verbosity=0)
    files = sorted(path.name for path in DEFINITIONS_DIR.glob("*.toml"))
    assert files[:2] == ["casqa.toml", "cgp.toml"]
    # Listed in file order, then in each file's order: CASQA's programs first.
    assert list(Program.objects.values_list("code", "position")) == [
        ("QISP", 0),
        ("IGP-TOR", 1),
        ("QSD", 2),
        ("CGP-TOR", 3),
    ]
    events = AuditEvent.objects.count()
    out = StringIO()
    call_command("load_programs", stdout=out)
    assert out.getvalue().splitlines() == ["casqa.toml: already up to date.", "cgp.toml: already up to date."]
    # One file reloaded alone keeps its place among the others.
    call_command("load_programs", str(DEFINITIONS_DIR / "cgp.toml"), stdout=out)
    assert AuditEvent.objects.count() == events
    assert Program.objects.get(code="CGP-TOR").position == 3


def test_command_loads_nothing_when_any_file_is_broken(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stormcert.programs.management.commands.load_programs as command

    for name in ("casqa.toml", "cgp.toml"):
        (tmp_path / name).write_text((DEFINITIONS_DIR / name).read_text())
    (tmp_path / "zz_broken.toml").write_text(BROKEN)
    monkeypatch.setattr(command, "DEFINITIONS_DIR", tmp_path)
    with pytest.raises(CommandError) as error:
        call_command("load_programs", verbosity=0)
    assert "zz_broken.toml: nothing was loaded" in str(error.value)
    assert "requires unknown program code 'QSIP'" in str(error.value)
    assert not Program.objects.exists() and not Fee.objects.exists()


def test_command_loads_a_program_from_whichever_file_defines_it(db: None) -> None:
    call_command("load_programs", "--program", "QSD", verbosity=0)
    assert list(Program.objects.values_list("code", "position")) == [("QSD", 2)]


def test_command_loads_one_program(db: None) -> None:
    call_command("load_programs", "--program", "QISP")
    assert list(Program.objects.values_list("code", flat=True)) == ["QISP"]


def test_admin_validation_rejects_a_bad_value(programs: None) -> None:
    from django.core.exceptions import ValidationError

    version = PolicyVersion.objects.get(program__code="QISP", name="CASQA")
    value = PolicyValue(version=version, key="midterm.pass_percent", value=170)
    with pytest.raises(ValidationError, match="percentage from 0 to 100"):
        value.full_clean()


def test_the_sister_definition_loads_beside_casqa_with_its_own_rules(programs: None) -> None:
    events = AuditEvent.objects.count()
    result = load_definition_file(DEFINITIONS_DIR / "cgp.toml")
    assert result.changed and AuditEvent.objects.count() == events + 1
    qsd, cgp_tor = Program.objects.get(code="QSD"), Program.objects.get(code="CGP-TOR")
    qisp, igp_tor = Program.objects.get(code="QISP"), Program.objects.get(code="IGP-TOR")
    assert set(Program.objects.filter(kind="qualification")) == {qisp, qsd}
    assert set(Program.objects.filter(kind="trainer")) == {igp_tor, cgp_tor}
    # Each trainer program requires and teaches its own qualification only.
    assert list(cgp_tor.requires.all()) == [qsd] and list(cgp_tor.teaches.all()) == [qsd]
    assert list(igp_tor.teaches.all()) == [qisp] and list(qsd.taught_by.all()) == [cgp_tor]
    # Its own steps, exam and numbering.
    assert [s.code for s in qsd.steps.all()] == [
        "account",
        "prerequisites",
        "registration",
        "training",
        "course",
        "survey",
        "qsd_exam",
    ]
    day = date(2026, 11, 21)
    rules = rules_in_force(qsd, day)
    assert rules.value("qsd_exam.question_count") == 20
    assert rules.value("certificate.number_format") == "QSD-{year}-{seq:05d}"
    assert rules_in_force(cgp_tor, day).value("certificate.number_format") == "CGPTOR-{year}-{seq:04d}"
    assert rules_in_force(qisp, day).value("certificate.number_format") == "QISP-{year}-{seq:05d}"
    assert rules_in_force(igp_tor, day).value("certificate.number_format") == "TOR-{year}-{seq:04d}"
    assert rules.fee("registration").amount != rules_in_force(qisp, day).fee("registration").amount
    # Every rule version is complete for its program's shape, and every program says where its
    # figures come from.
    for program in Program.objects.all():
        assert program.figures_source
        for version in program.policy_versions.all():
            values = {v.key: v.value for v in version.values.all()}
            assert missing_keys(values, shape_of(program)) == [], (program.code, version.name)
    assert "illustrative demo figures" in qsd.figures_source.lower()
    assert "OWP 2019" in qisp.figures_source
    # Loading it again changes nothing.
    assert not load_definition_file(DEFINITIONS_DIR / "cgp.toml").changed
    assert AuditEvent.objects.count() == events + 1


def test_the_sister_definition_refuses_an_incomplete_version(programs: None) -> None:
    text = (DEFINITIONS_DIR / "cgp.toml").read_text()
    broken = text.replace('"qsd_exam.attempts" = 2\n', "", 1)
    with pytest.raises(DefinitionError) as error:
        load_definition(broken, source="cgp.toml")
    assert "missing qsd_exam.attempts (Attempts at “QSD exam” per registration.)" in "\n".join(
        error.value.problems
    )
    assert not Program.objects.filter(code="QSD").exists()
