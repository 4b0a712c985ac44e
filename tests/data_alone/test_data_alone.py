"""Programs defined by data alone: a program that exists only in this test's definition file
(tests/data_alone/definition.toml) is loaded and walked end to end with the project's services,
alone and beside the programs of casqa.toml. Every figure asserted is read back from the loaded
definition (the rules and fees in force), and no word of the test program appears in stormcert/.

Every service takes the program from the enrollment, session, certificate or term it acts on,
so the walk beside casqa.toml is the same walk. What the walk sends and shows (emails, orders,
journey notes, the verify page, the directory) carries no other program's words.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.enrollments.journey import Overall, StepState, window_end_for
from stormcert.enrollments.models import Enrollment, Outcome
from stormcert.enrollments.services import journey_for, rules_for
from stormcert.exams.services import ExamError, start_attempt
from stormcert.lib.dates import add_years
from stormcert.lib.numbers import canonical_number
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition, load_definition_file
from stormcert.programs.lookup import qualification_programs, trainer_programs, trainer_programs_teaching
from stormcert.programs.models import Program
from stormcert.programs.policy import check_version, shape_of
from stormcert.training.models import Course
from stormcert.training.services import is_course_complete
from tests.data_alone import walk
from tests.data_alone.walk import (
    DEFINITION,
    QUALIFICATION,
    TRAINER,
    build_content,
    consequence,
    current_code,
    exam_steps,
    finish_training,
    naming,
    needed_to_pass,
    qualification,
    register,
    resolve,
    sit,
    step_of_kind,
    trainer_program_of_the_test,
)

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 2, 2, 10, 0, tzinfo=AMS)

# Fee codes the code fixes today, so the definition has to use them (findings, not the
# program's words): renewals/services.py ON_TIME_FEE/LATE_FEE, trainers/applications.py
# soq_fee_code and open_cycle, trainers/yearly.py FEE/LATE_FEE.
FIXED_BY_CODE = {"renewal", "renewal_late", "soq", "soq_resubmittal", "tor_yearly", "tor_late"}


def settings() -> Any:
    """Run a test with the test program loaded alone, and beside casqa.toml."""
    return pytest.mark.parametrize("setting", ["alone", "beside"])


@pytest.fixture
def loaded(setting: str, db: Any) -> str:
    if setting == "beside":
        load_definition_file(DEFAULT_DEFINITION)
    walk.load()
    return setting


def definition() -> dict[str, Any]:
    return tomllib.loads(DEFINITION.read_text(encoding="utf-8"))


# --- Loading ------------------------------------------------------------------------------------------


def test_the_definition_loads_alone_and_is_complete() -> None:
    result = load_definition(DEFINITION.read_text(encoding="utf-8"), source=DEFINITION.name)
    assert f"program {QUALIFICATION}" in result.created and f"program {TRAINER}" in result.created
    data = {p["code"]: p for p in definition()["program"]}
    for code, spec in data.items():
        program = Program.objects.get(code=code)
        assert (program.name, program.short_name, program.kind) == (
            spec["name"],
            spec["short_name"],
            spec["kind"],
        )
        assert list(program.steps.order_by("position").values_list("code", flat=True)) == [
            s["code"] for s in spec["step"]
        ]
        assert {f.code: f.amount for f in program.fees.all()} == {
            f["code"]: Decimal(f["amount"]) for f in spec["fee"]
        }
        version = program.policy_versions.get()
        values = {v.key: v.value for v in version.values.all()}
        assert (
            check_version(values, shape_of(program), set(program.fees.values_list("code", flat=True))) == []
        )
    trainer = trainer_program_of_the_test()
    assert list(trainer.requires.all()) == [qualification()]
    assert list(trainer_programs_teaching(qualification())) == [trainer]
    again = load_definition(DEFINITION.read_text(encoding="utf-8"), source=DEFINITION.name)
    assert not again.changed


def test_the_definition_loads_beside_casqa_and_neither_touches_the_other() -> None:
    load_definition_file(DEFAULT_DEFINITION)
    before = {
        p.code: (
            sorted(p.steps.values_list("code", flat=True)),
            sorted((f.code, f.amount) for f in p.fees.all()),
            sorted((v.version.name, v.key, str(v.value)) for v in _values(p)),
        )
        for p in Program.objects.all()
    }
    walk.load()
    for program in Program.objects.exclude(code__in=[QUALIFICATION, TRAINER]):
        assert before[program.code] == (
            sorted(program.steps.values_list("code", flat=True)),
            sorted((f.code, f.amount) for f in program.fees.all()),
            sorted((v.version.name, v.key, str(v.value)) for v in _values(program)),
        )
    assert {QUALIFICATION, *before} >= set(qualification_programs().values_list("code", flat=True))
    assert QUALIFICATION in qualification_programs().values_list("code", flat=True)
    assert TRAINER in trainer_programs().values_list("code", flat=True)
    assert list(trainer_programs_teaching(qualification())) == [trainer_program_of_the_test()]
    for program in Program.objects.filter(kind="qualification").exclude(code=QUALIFICATION):
        assert trainer_program_of_the_test() not in trainer_programs_teaching(program)
    # Loading casqa.toml again afterwards changes nothing of either.
    assert not load_definition_file(DEFAULT_DEFINITION).changed
    assert not load_definition(DEFINITION.read_text(encoding="utf-8"), source=DEFINITION.name).changed


def _values(program: Program) -> Any:
    from stormcert.programs.models import PolicyValue

    return PolicyValue.objects.filter(version__program=program).select_related("version")


# --- The candidate's journey -----------------------------------------------------------------------


def _through_the_first_exam(user: User, content: walk.Content, now: datetime) -> Enrollment:
    """Register, train, and pass the first exam at the first try."""
    program = content.program
    enrollment, _ = register(user, program, now)
    finish_training(user, content.course, now + timedelta(minutes=1))
    first = exam_steps(program)[0]
    sit(
        user,
        content.exams[first.code],
        right=needed_to_pass(program, first.code, now),
        now=now + timedelta(hours=1),
    )
    enrollment.refresh_from_db()
    return enrollment


@settings()
def test_registration_training_and_the_first_exam_failed_out_then_passed(loaded: str, alice: User) -> None:
    program = qualification()
    content = build_content(program, T0)
    first = exam_steps(program)[0]
    training = step_of_kind(program, "training")

    enrollment, order = register(alice, program, T0)
    in_force = rules_for(enrollment, T0)
    payment = step_of_kind(program, "payment")
    # The registration order is the payment step's own fee, at the file's amount.
    assert [line.fee_code for line in order.lines.all()] == [payment.code]
    assert order.total == in_force.fee(payment.code).amount
    assert enrollment.policy_version is not None and enrollment.policy_version.program == program
    assert enrollment.window_end == window_end_for(T0, int(in_force.value("enrollment.window_years")), AMS)
    assert current_code(enrollment, T0) == training.code

    finish_training(alice, content.course, T0 + timedelta(minutes=1))
    assert current_code(enrollment, T0 + timedelta(minutes=2)) == first.code

    attempts = int(in_force.value(f"{first.code}.attempts"))
    passing = needed_to_pass(program, first.code, T0)
    when = T0 + timedelta(hours=1)
    for number in range(1, attempts + 1):
        attempt = sit(alice, content.exams[first.code], right=passing - 1, now=when)
        assert not attempt.passed and attempt.number == number
        assert attempt.question_count == in_force.value(f"{first.code}.question_count")
        assert attempt.pass_percent == in_force.value(f"{first.code}.pass_percent")
        assert attempt.duration_minutes == in_force.value(f"{first.code}.duration_minutes")
        when += timedelta(hours=1)
        left = journey_for(enrollment, when).step(first.code).attempts_left
        assert left == attempts - number

    journey = journey_for(enrollment, when)
    rule = consequence(enrollment, first.code, when)
    assert journey.overall == Overall.FAILED_OUT
    assert journey.step(first.code).state == StepState.BLOCKED
    assert journey.action is not None and journey.action.consequence == f"consequence.{first.code}_failed_out"
    assert journey.action.fee is not None and journey.action.fee.code == rule["fee"]
    with pytest.raises(ExamError):
        start_attempt(user=alice, exam=content.exams[first.code], now=when)

    paid = resolve(enrollment, when)
    assert [line.fee_code for line in paid.lines.all()] == [rule["fee"]]
    assert paid.total == in_force.fee(rule["fee"]).amount
    assert enrollment.cycle == 2
    voided = set(
        enrollment.records.filter(voided_at__isnull=False).values_list("step_code", flat=True).distinct()
    )
    assert voided == set(rule["redo"])
    assert set(rule["redo"]) <= {s.code for s in program.steps.all()}
    # The redo list names the training step, so the progress starts over.
    assert training.code in rule["redo"] and not is_course_complete(alice, content.course)
    assert current_code(enrollment, when) == rule["redo"][0]

    finish_training(alice, content.course, when + timedelta(minutes=1))
    passed = sit(alice, content.exams[first.code], right=passing, now=when + timedelta(hours=1))
    assert passed.passed and passed.number == 1 and passed.cycle == 2
    after = journey_for(enrollment, when + timedelta(hours=2))
    assert after.step(first.code).state == StepState.DONE
    assert after.current is not None and after.current.kind == "course"


@settings()
def test_the_last_exam_failed_out_sends_back_to_every_step_its_rule_names(loaded: str, alice: User) -> None:
    from tests.enrollments.builders import done

    program = qualification()
    content = build_content(program, T0)
    enrollment = _through_the_first_exam(alice, content, T0)
    last = exam_steps(program)[-1]
    when = T0 + timedelta(hours=3)
    # The course and survey steps by their codes in the file (the session walk is the next test).
    for kind in ("course", "survey"):
        done(enrollment, step_of_kind(program, kind).code, when)
    in_force = rules_for(enrollment, when)
    attempts = int(in_force.value(f"{last.code}.attempts"))
    for _ in range(attempts):
        when += timedelta(hours=1)
        assert not sit(alice, content.exams[last.code], right=0, now=when).passed
    journey = journey_for(enrollment, when)
    rule = consequence(enrollment, last.code, when)
    assert journey.overall == Overall.FAILED_OUT and journey.action is not None
    assert journey.action.fee is not None and journey.action.fee.amount == in_force.fee(rule["fee"]).amount

    paid = resolve(enrollment, when)
    assert paid.total == in_force.fee(rule["fee"]).amount
    steps = [s.code for s in program.steps.order_by("position")]
    after_payment = steps[steps.index(step_of_kind(program, "payment").code) + 1 :]
    redo = after_payment if rule["redo"] == ["*"] else rule["redo"]
    live_done = set(
        enrollment.records.filter(voided_at__isnull=True, outcome=Outcome.DONE).values_list(
            "step_code", flat=True
        )
    )
    assert not live_done & set(redo)
    assert current_code(enrollment, when) == redo[0]
    assert Certificate.objects.filter(holder=alice, program=program).count() == 0


@settings()
def test_the_window_running_out_costs_the_files_fee_and_extends_by_its_years(
    loaded: str, alice: User
) -> None:
    from stormcert.enrollments.journey import last_day

    program = qualification()
    content = build_content(program, T0)
    enrollment, _ = register(alice, program, T0)
    finish_training(alice, content.course, T0 + timedelta(minutes=1))
    assert enrollment.window_end is not None
    ended = enrollment.window_end + timedelta(hours=1)
    journey = journey_for(enrollment, ended)
    rule = rules_for(enrollment, ended).value("consequence.window_expired")
    in_force = rules_for(enrollment, ended)
    assert journey.overall == Overall.WINDOW_EXPIRED and journey.action is not None
    assert journey.action.fee is not None and journey.action.fee.code == rule["fee"]
    old_last_day = last_day(enrollment.window_end, AMS)
    paid = resolve(enrollment, ended)
    assert paid.total == in_force.fee(rule["fee"]).amount
    assert rule["extends_window"] and enrollment.cycle == 1
    assert last_day(enrollment.window_end, AMS) == add_years(
        ended.astimezone(AMS).date(), int(in_force.value("enrollment.window_years"))
    )
    assert last_day(enrollment.window_end, AMS) > old_last_day
    assert current_code(enrollment, ended) == exam_steps(program)[0].code


@settings()
def test_workshop_survey_last_exam_certificate_directory_and_verification(
    loaded: str, alice: User, tom: User, client: Client
) -> None:
    program = qualification()
    trainer = trainer_program_of_the_test()
    content = build_content(program, T0)
    walk.trainer_in_standing(tom, trainer=trainer, teaches=program, now=T0)
    enrollment = _through_the_first_exam(alice, content, T0)

    session, seat = walk.attend_workshop(
        candidate=alice, trainer=tom, program=program, content=content, now=T0 + timedelta(hours=2)
    )
    assert session.program == program and seat.program == program
    when = datetime.combine(session.start_day() + timedelta(days=2), time(10), tzinfo=AMS)
    last = exam_steps(program)[-1]
    assert current_code(enrollment, when) == last.code

    attempt = sit(alice, content.exams[last.code], right=needed_to_pass(program, last.code, when), now=when)
    assert attempt.passed
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None

    certificate = Certificate.objects.get(holder=alice, program=program)
    in_force = rules_for(enrollment, when)
    pattern = str(in_force.value("certificate.number_format"))
    sequence = Certificate.objects.filter(program=program).count()  # tom's came first
    assert certificate.number == canonical_number(
        pattern.format(year=certificate.issued_on.year, seq=sequence)
    )
    assert certificate.expires_on == add_years(
        certificate.issued_on, int(in_force.value("certificate.validity_years"))
    )

    # Public pages whose addresses do not change: verification, the directory, the PDF.
    page = client.get(f"/verify/{certificate.number}/").content.decode()
    assert "Valid." in page and program.short_name in page and certificate.number in page
    listing = client.get("/directory/", {"q": alice.last_name}).content.decode()
    assert certificate.number in listing
    pdf = client_for(alice).get(f"/certificates/{certificate.number}/certificate.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


# --- Renewal ---------------------------------------------------------------------------------------


@settings()
def test_renewal_on_time_and_late_priced_from_the_file(loaded: str, alice: User, eve: User) -> None:
    from stormcert.renewals.services import RenewalError, Stage, renewal_status, start_renewal
    from tests.enrollments.builders import pay

    program = qualification()
    issued = date(2025, 1, 10)
    on_time = walk.holder_of(alice, program, issued)
    late = walk.holder_of(eve, program, issued)
    in_force = walk.rules_in_force(program, issued)
    assert on_time.number == canonical_number(
        str(in_force.value("certificate.number_format")).format(year=issued.year, seq=1)
    )
    assert on_time.expires_on == add_years(issued, int(in_force.value("certificate.validity_years")))
    expires = on_time.expires_on
    assert expires is not None
    opens = int(in_force.value("renewal.opens_days_before_expiry"))

    def at(day: date) -> datetime:
        return datetime.combine(day, time(12), tzinfo=AMS)

    assert renewal_status(on_time, at(expires - timedelta(days=opens + 1))).stage == Stage.NOT_YET
    open_now = at(expires - timedelta(days=opens))
    status = renewal_status(on_time, open_now)
    assert status.stage == Stage.OPEN and status.fee is not None
    assert (
        status.fee.amount == in_force.fee("renewal").amount
        and status.fee.name == in_force.fee("renewal").name
    )
    order = start_renewal(user=alice, certificate=on_time, now=open_now)
    assert order.total == in_force.fee("renewal").amount
    page = client_for(alice).get(f"/orders/{order.number}/").content.decode()
    assert in_force.fee("renewal").name in page and str(in_force.fee("renewal").amount) in page
    pay(order, open_now)
    renewed = Certificate.objects.get(renews=on_time)
    assert renewed.program == program
    assert renewed.expires_on == add_years(expires, int(in_force.value("certificate.validity_years")))
    assert renewed.number == canonical_number(
        str(in_force.value("certificate.number_format")).format(year=renewed.issued_on.year, seq=3)
    )

    after = at(expires + timedelta(days=1))
    status = renewal_status(late, after)
    assert status.stage == Stage.LATE and status.fee is not None
    assert status.fee.amount == in_force.fee("renewal_late").amount
    late_order = start_renewal(user=eve, certificate=late, now=after)
    assert late_order.total == in_force.fee("renewal_late").amount
    pay(late_order, after)
    assert Certificate.objects.filter(renews=late).exists()

    too_late = walk.holder_of(another_holder(), program, issued)
    beyond = at(expires + timedelta(days=int(in_force.value("renewal.requalify_after_days")) + 1))
    assert renewal_status(too_late, beyond).stage == Stage.REQUALIFY
    with pytest.raises(RenewalError):
        start_renewal(user=too_late.holder, certificate=too_late, now=beyond)


def another_holder() -> User:
    from conftest import make_person

    return make_person("fen@example.com", first_name="Fen", last_name="Holder")


# --- The trainer program ---------------------------------------------------------------------------


def _term_start_on_or_before(program: Program, day: date) -> date:
    """The file's term start (MM-DD) that falls last on or before `day`."""
    month, dom = (int(part) for part in str(walk.rules_in_force(program, day).value("term.start")).split("-"))
    start = date(day.year, month, dom)
    return start if start <= day else date(day.year - 1, month, dom)


def _reviewer() -> User:
    from conftest import make_person
    from stormcert.accounts.models import Role

    return make_person(
        "reviewer@example.com", roles=(Role.REVIEWER,), first_name="Rita", last_name="Reviewer"
    )


@settings()
def test_the_trainer_programs_application_cycle_fee_selection_and_first_term(
    loaded: str, alice: User, sara: User, client: Client
) -> None:
    from stormcert.trainers.applications import (
        CriterionSpec,
        acknowledge_course_info,
        add_document,
        approve_candidate,
        assign_reviewer,
        decide,
        declare_conflict,
        record_orientation,
        save_draft,
        send_notices,
        sign_agreement,
        start_application,
        start_fee_payment,
        submit_application,
        submit_scores,
    )
    from tests.enrollments.builders import pay
    from tests.trainers.builders import ANSWERS, pdf

    qual, trainer = qualification(), trainer_program_of_the_test()
    opens = datetime(2026, 1, 10, 9, tzinfo=AMS)
    closes = datetime(2026, 2, 20, 17, tzinfo=AMS)
    walk.holder_of(alice, qual, date(2025, 6, 1))
    in_force = walk.rules(trainer, opens)
    cycle = walk.open_cycle_for(
        trainer,
        actor=sara,
        title=f"{trainer.short_name} call",
        opens_at=opens,
        closes_at=closes,
        notice_on=date(2026, 2, 25),
        criteria=[CriterionSpec("Fieldwork", 2, 5)],
        soq_fee=in_force.fee("soq").amount,
        resubmittal_fee=in_force.fee("soq_resubmittal").amount,
        now=opens - timedelta(days=10),
    )
    assert cycle.program == trainer, f"the cycle went to {cycle.program}, not {trainer}"

    during = opens + timedelta(days=5)
    application = start_application(user=alice, cycle=cycle, now=during)
    assert application.qisp_number == Certificate.objects.get(holder=alice, program=qual).number
    order = start_fee_payment(application=application, now=during)
    assert [line.fee_code for line in order.lines.all()] == [application.fee_code]
    assert order.total == in_force.fee(application.fee_code).amount
    pay(order, during)
    save_draft(application=application, answers=ANSWERS, now=during)
    add_document(application=application, label="CV", upload=pdf(), now=during)
    application = submit_application(application=application, now=during)

    reviewer = _reviewer()
    assignment = assign_reviewer(application=application, reviewer=reviewer, actor=sara, now=during)
    declare_conflict(assignment=assignment, conflict=False, note="", now=during)
    submit_scores(
        assignment=assignment, scores={c.pk: 4 for c in cycle.criteria.all()}, comment="Good.", now=during
    )
    decide(
        application=application,
        selected=True,
        actor=sara,
        reason="Strong fieldwork.",
        now=closes + timedelta(days=1),
    )
    assert send_notices(now=datetime(2026, 2, 25, 9, tzinfo=AMS)) == 1

    walk.agreement_for(trainer, date(2026, 1, 1))
    approved_at = datetime(2026, 3, 20, 10, tzinfo=AMS)
    naming(
        trainer,
        sign_agreement,
        user=alice,
        typed_name=alice.get_full_name(),
        ip_address=None,
        user_agent="t",
        now=approved_at,
    )
    application.refresh_from_db()
    record_orientation(application=application, how="attended", now=approved_at)
    acknowledge_course_info(application=application, now=approved_at)
    term = approve_candidate(application=application, actor=sara, reason="Every step done.", now=approved_at)

    term.refresh_from_db()
    assert term.program == trainer
    start = _term_start_on_or_before(trainer, approved_at.date())
    assert (term.starts_on, term.ends_on) == (start, add_years(start, 1) - timedelta(days=1))
    certificate = term.certificate
    assert certificate is not None and certificate.program == trainer
    pattern = str(in_force.value("certificate.number_format"))
    assert certificate.number == canonical_number(pattern.format(year=certificate.issued_on.year, seq=1))
    assert certificate.expires_on == term.ends_on
    page = client.get(f"/verify/{certificate.number}/").content.decode()
    assert "Valid." in page and trainer.short_name in page


@settings()
def test_the_yearly_term_runs_from_the_files_term_start_with_its_fees(
    loaded: str, tom: User, sara: User, client: Client
) -> None:
    from stormcert.trainers.models import TermRenewal, TrainerTerm
    from stormcert.trainers.yearly import confirm_renewal, record_meeting, start_term_fee, term_renewal_status
    from tests.enrollments.builders import pay

    qual, trainer = qualification(), trainer_program_of_the_test()
    walk.trainer_in_standing(tom, trainer=trainer, teaches=qual, now=T0)
    term = TrainerTerm.objects.get(user=tom)
    start = _term_start_on_or_before(trainer, T0.date())
    assert (term.program, term.starts_on) == (trainer, start)

    in_force = walk.rules(trainer, T0)
    yearly, late_fee = in_force.fee("tor_yearly"), in_force.fee("tor_late")
    due_month, due_day = (int(part) for part in str(in_force.value("term.fee_due")).split("-"))
    status = naming(trainer, term_renewal_status, user=tom, now=T0)
    assert status is not None
    assert status.term_start == term.ends_on + timedelta(days=1) == add_years(start, 1)
    due = date(status.term_start.year, due_month, due_day)
    assert status.due == (due if due < status.term_start else date(due.year - 1, due_month, due_day))
    assert not status.late and status.amount == yearly.amount

    after_due = datetime.combine(status.due + timedelta(days=1), time(10), tzinfo=AMS)
    late = naming(trainer, term_renewal_status, user=tom, now=after_due)
    assert late is not None and late.late and late.amount == yearly.amount + late_fee.amount
    naming(trainer, record_meeting, user=tom, how="attended", now=after_due)
    order = naming(trainer, start_term_fee, user=tom, now=after_due)
    assert sorted(line.fee_code for line in order.lines.all()) == sorted([yearly.code, late_fee.code])
    assert order.total == yearly.amount + late_fee.amount
    page = client_for(tom).get(f"/orders/{order.number}/").content.decode()
    assert late_fee.name in page and f"{order.total}" in page
    pay(order, after_due)

    renewal = TermRenewal.objects.get(user=tom, program=trainer)
    new_term = confirm_renewal(renewal=renewal, actor=sara, reason="Paid and met.", now=after_due)
    new_term.refresh_from_db()
    assert (new_term.program, new_term.starts_on) == (trainer, status.term_start)
    assert new_term.certificate is not None and new_term.certificate.program == trainer


# --- Words ------------------------------------------------------------------------------------------

STORMCERT = Path(__file__).resolve().parents[2] / "stormcert"


def the_test_programs_words() -> set[str]:
    """Codes and words of the test program, from its file: program codes, names, short names,
    rule version names, step codes and titles, fee codes and names, number prefixes."""
    words: set[str] = set()
    for program in definition()["program"]:
        words |= {program["code"], program["name"], program["short_name"]}
        words |= {p["name"] for p in program["policy"]}
        words |= {s["code"] for s in program["step"]} | {s["title"] for s in program["step"]}
        words |= {f["name"] for f in program["fee"]} | {f["code"] for f in program["fee"]}
        for policy in program["policy"]:
            words.add(str(policy["values"]["certificate.number_format"]).split("{")[0].strip("-"))
    # The step kinds are the product's vocabulary, not the program's; so are the fee codes the
    # code fixes (findings: see FIXED_BY_CODE).
    return {w for w in words if w} - FIXED_BY_CODE


def test_no_word_of_the_test_program_is_in_stormcert() -> None:
    words = the_test_programs_words()
    assert {QUALIFICATION, TRAINER, "first_exam", "last_exam"} <= words
    found = []
    for path in sorted(STORMCERT.rglob("*")):
        if not path.is_file() or path.suffix in {".pyc", ".png", ".jpg", ".ico", ".woff2", ".ttf", ".pdf"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore").lower()
        found += [f"{path.relative_to(STORMCERT)}: {w}" for w in sorted(words) if w.lower() in text]
    assert found == []


def other_programs_words() -> dict[str, bool]:
    """Words of casqa.toml's programs, each with whether it matches case-sensitively (all capitals,
    like codes) or in any case (names, and the exam step code that is no plain English)."""
    words: dict[str, bool] = {"midterm": False}
    for program in tomllib.loads(DEFAULT_DEFINITION.read_text(encoding="utf-8"))["program"]:
        for word in (program["code"], program["short_name"], program["name"]):
            words[word] = word.upper() == word
        for token in program["short_name"].split():
            if token.isupper() and len(token) > 1:
                words[token] = True
        for policy in program["policy"]:
            for token in policy["name"].split():
                if token.isupper() and len(token) > 1:
                    words[token] = True
    return words


def foreign_words(text: str) -> set[str]:
    import re

    found = set()
    for word, exact in other_programs_words().items():
        pattern = rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])"
        if re.search(pattern, text, 0 if exact else re.IGNORECASE):
            found.add(word)
    return found


@pytest.mark.parametrize("setting", ["alone"])
def test_what_the_walk_sends_and_shows_names_only_the_test_program(
    loaded: str, alice: User, tom: User, client: Client
) -> None:
    from stormcert.emails.models import OutboundEmail
    from stormcert.payments.models import OrderLine
    from stormcert.renewals.services import start_renewal
    from stormcert.trainers.yearly import start_term_fee, term_renewal_status

    test_workshop_survey_last_exam_certificate_directory_and_verification(loaded, alice, tom, client)
    certificate = Certificate.objects.get(holder=alice, program=qualification())
    expires = certificate.expires_on
    assert expires is not None
    renewal_day = datetime.combine(expires - timedelta(days=1), time(10), tzinfo=AMS)
    start_renewal(user=alice, certificate=certificate, now=renewal_day)
    trainer = trainer_program_of_the_test()
    status = naming(trainer, term_renewal_status, user=tom, now=T0)
    assert status is not None
    naming(trainer, start_term_fee, user=tom, now=T0)

    texts: dict[str, str] = {}
    # What the journey says to a second candidate at each step of the file's program.
    program = qualification()
    content = walk.Content(
        program=program,
        course=Course.objects.get(program=program),
        exams={e.step_code: e for e in program.exams.all()},
        survey=[],
    )
    candidate = another_holder()
    enrollment, _ = register(candidate, program, T0)

    def journey_says(label: str, moment: datetime) -> None:
        journey = journey_for(enrollment, moment)
        texts[f"journey {label}"] = "\n".join(
            [journey.summary, *(s.note for s in journey.steps), journey.action.text if journey.action else ""]
        )

    journey_says("after registering", T0)
    finish_training(candidate, content.course, T0 + timedelta(minutes=1))
    journey_says("after the training", T0 + timedelta(minutes=2))
    first = exam_steps(program)[0]
    for number in range(int(rules_for(enrollment, T0).value(f"{first.code}.attempts"))):
        sit(candidate, content.exams[first.code], right=0, now=T0 + timedelta(hours=1 + number))
    journey_says("failed out", T0 + timedelta(hours=10))
    for email in OutboundEmail.objects.all():
        texts[f"email {email.template}"] = f"{email.subject}\n{email.body_text}\n{email.body_html}"
    for line in OrderLine.objects.select_related("order"):
        texts[f"order line {line.fee_code}"] = line.description
        holder = client_for(line.order.user)
        texts[f"order page {line.fee_code}"] = holder.get(f"/orders/{line.order.number}/").content.decode()
    texts["verify page"] = client.get(f"/verify/{certificate.number}/").content.decode()
    texts["directory"] = client.get("/directory/", {"q": alice.last_name}).content.decode()
    leaks = {where: sorted(words) for where, text in texts.items() if (words := foreign_words(text))}
    assert leaks == {}, "\n".join(f"{where}: {', '.join(words)}" for where, words in sorted(leaks.items()))


@settings()
def test_the_public_description_states_each_exam_steps_failure_rule(loaded: str) -> None:
    from stormcert.programs.describe import consequence_lines

    program = qualification()
    in_force = walk.rules(program, T0)
    lines = "\n".join(consequence_lines(in_force))
    for step in exam_steps(program):
        rule = in_force.value(f"consequence.{step.code}_failed_out")
        fee = in_force.fee(rule["fee"])
        assert step.title.lower() in lines.lower() and f"{fee.amount}" in lines, lines
