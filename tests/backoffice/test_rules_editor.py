"""The staff rules editor: a form built from the registry and pre-filled from the version in force,
a whole-version check that names each missing or bad key, effective dates only from today, a
preview saying what changes for whom, audited saves; new fee amounts from a date (a late renewal
after it pays the new amount); the admin is read-only for versions, values and fees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from conftest import client_for, enable_totp, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.backoffice.rules_forms import RuleVersionForm, field_name
from stormcert.programs import editing
from stormcert.programs.models import Fee, PolicyValue, PolicyVersion, Program
from stormcert.programs.policy import keys_for, required_keys, shape_of
from stormcert.programs.rules import rules_in_force, version_in_force
from tests.renewals.builders import at, finish_review, holder_until, make_review, renew

pytestmark = pytest.mark.django_db

NOW = at(2027, 6, 1, 12)  # 2027-06-01 noon, Pacific
FUTURE = date(2028, 1, 1)
NEW_URL = "/staff/programs/QISP/rules/new/"
FEE_URL = "/staff/programs/QISP/fees/new/"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def qisp(programs: None) -> Program:
    return Program.objects.get(code="QISP")


@pytest.fixture
def trainer_program(programs: None) -> Program:
    program = Program.objects.filter(kind="trainer").first()
    assert program is not None
    return program


@pytest.fixture
def staff(sara: User) -> Client:
    return client_for(sara, mfa=True)


def exam_step(program: Program) -> str:
    return shape_of(program).exam_steps[-1]


def draft(program: Program) -> dict[str, Any]:
    return editing.draft_from_version_in_force(program, date(2027, 6, 1))


def form_data(client: Client, url: str = NEW_URL, **extra: Any) -> dict[str, Any]:
    """The POST data of the rule-version page as it is first shown (pre-filled), plus `extra`."""
    form = client.get(url).context["form"]
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form.initial.get(name, form.fields[name].initial)
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value if isinstance(value, list) else str(value)
    data.update({"name": "2028 rules", "effective_from": FUTURE.isoformat(), "reason": "Board vote of May."})
    data.update(extra)
    return data


# --- The form ----------------------------------------------------------------------------------


def test_the_form_has_a_field_for_every_key_of_the_program_with_its_unit_and_range(
    staff: Client, qisp: Program
) -> None:
    response = staff.get(NEW_URL)
    assert response.status_code == 200
    form = response.context["form"]
    for key, spec in keys_for(shape_of(qisp)).items():
        names = [field_name(key)] if spec.type != "consequence" else [f"{field_name(key)}__fee"]
        assert all(name in form.fields for name in names), key
    html = response.content.decode()
    opens = form.fields[field_name("renewal.opens_days_before_expiry")]
    assert "(days)" in opens.label and "Key renewal.opens_days_before_expiry" in opens.help_text
    assert f'name="{field_name(f"{exam_step(qisp)}.pass_percent")}"' in html
    assert 'min="0" max="100"' in html  # percent
    assert 'min="1"' in html  # question counts, validity years


def test_the_form_of_a_trainer_program_asks_for_its_term_days(trainer_program: Program) -> None:
    form = RuleVersionForm(program=trainer_program)
    assert field_name("term.start") in form.fields and field_name("term.fee_due") in form.fields
    assert field_name("renewal.opens_days_before_expiry") in form.fields  # optional there
    rows = {row.spec.key: row.required for row in form.rows}
    assert rows["term.start"] and not rows["renewal.opens_days_before_expiry"]


def test_the_draft_copies_the_version_in_force(staff: Client, qisp: Program) -> None:
    in_force = version_in_force(qisp, date(2027, 6, 1))
    values = {v.key: v.value for v in in_force.values.all()}
    assert draft(qisp) == values
    earlier = editing.draft_from_version_in_force(qisp, date(2020, 1, 1))
    assert earlier == {v.key: v.value for v in version_in_force(qisp, date(2020, 1, 1)).values.all()}
    assert earlier != values
    form = staff.get(NEW_URL).context["form"]
    assert (
        form.initial[field_name("renewal.opens_days_before_expiry")]
        == values["renewal.opens_days_before_expiry"]
    )


# --- The service -------------------------------------------------------------------------------


def test_a_version_missing_a_key_is_refused_naming_the_key(qisp: Program, sara: User) -> None:
    values = draft(qisp)
    missing = f"{exam_step(qisp)}.question_count"
    del values[missing]
    with pytest.raises(editing.EditError) as refused:
        editing.create_version(
            program=qisp, name="2028", effective_from=FUTURE, values=values, reason="r", actor=sara, now=NOW
        )
    assert f"missing {missing}" in str(refused.value)
    assert not PolicyVersion.objects.filter(name="2028").exists()


def test_a_trainer_version_with_one_key_is_refused_naming_every_missing_key(
    trainer_program: Program, sara: User
) -> None:
    # The version that made every trainer's page fail: only the fee due day.
    with pytest.raises(editing.EditError) as refused:
        editing.create_version(
            program=trainer_program,
            name="One key",
            effective_from=FUTURE,
            values={"term.fee_due": "07-01"},
            reason="r",
            actor=sara,
            now=NOW,
        )
    message = str(refused.value)
    for key in required_keys(shape_of(trainer_program)):
        if key != "term.fee_due":
            assert f"missing {key}" in message
    assert "term.start" in message


def test_an_out_of_range_value_is_refused_naming_the_key(qisp: Program, sara: User) -> None:
    values = draft(qisp) | {f"{exam_step(qisp)}.pass_percent": 150, "renewal.opens_days_before_expiry": -5}
    with pytest.raises(editing.EditError) as refused:
        editing.create_version(
            program=qisp, name="2028", effective_from=FUTURE, values=values, reason="r", actor=sara, now=NOW
        )
    message = str(refused.value)
    assert f"{exam_step(qisp)}.pass_percent: expected a percentage from 0 to 100, got 150" in message
    assert "renewal.opens_days_before_expiry: expected a number of at least 0, got -5" in message


def test_a_past_date_and_a_clashing_date_or_name_are_refused(qisp: Program, sara: User) -> None:
    in_force = version_in_force(qisp, date(2027, 6, 1))
    for day, name, words in [
        (date(2027, 5, 31), "2027 late", "is in the past"),
        (in_force.effective_from, "Another", "already take effect on"),
        (FUTURE, in_force.name, "already exists"),
    ]:
        with pytest.raises(editing.EditError, match=words):
            editing.create_version(
                program=qisp,
                name=name,
                effective_from=day,
                values=draft(qisp),
                reason="r",
                actor=sara,
                now=NOW,
            )


def test_today_is_allowed_in_the_programs_own_time_zone(qisp: Program, sara: User) -> None:
    # 06:00 UTC on June 2 is still June 1 in the program's time zone.
    early = datetime.fromisoformat("2027-06-02T06:00:00+00:00")
    with pytest.raises(editing.EditError, match="in the past"):
        editing.create_version(
            program=qisp,
            name="x",
            effective_from=date(2027, 5, 31),
            values=draft(qisp),
            reason="r",
            actor=sara,
            now=early,
        )
    version = editing.create_version(
        program=qisp,
        name="x",
        effective_from=date(2027, 6, 1),
        values=draft(qisp),
        reason="r",
        actor=sara,
        now=early,
    )
    assert version.effective_from == date(2027, 6, 1)


def test_saving_creates_the_version_audited_and_rules_change_on_the_date(qisp: Program, sara: User) -> None:
    values = draft(qisp) | {"renewal.opens_days_before_expiry": 60}
    version = editing.create_version(
        program=qisp,
        name="2028 rules",
        effective_from=FUTURE,
        values=values,
        reason="Board vote of May.",
        actor=sara,
        now=NOW,
    )
    assert PolicyValue.objects.filter(version=version).count() == len(values)
    event = AuditEvent.objects.get(verb="programs.rules_version_created")
    assert event.actor == sara and event.reason == "Board vote of May."
    assert event.data["before"] == {"renewal.opens_days_before_expiry": 90}
    assert event.data["after"] == {"renewal.opens_days_before_expiry": 60}
    assert event.data["changes"] == ["Days before expiry that renewal opens: 90 days → 60 days"]
    assert rules_in_force(qisp, date(2027, 12, 31)).value("renewal.opens_days_before_expiry") == 90
    assert rules_in_force(qisp, FUTURE).value("renewal.opens_days_before_expiry") == 60
    assert rules_in_force(qisp, date(2029, 3, 1)).version == version


def test_a_version_needs_a_reason(qisp: Program, sara: User) -> None:
    with pytest.raises(editing.EditError, match="reason"):
        editing.create_version(
            program=qisp, name="x", effective_from=FUTURE, values=draft(qisp), reason=" ", actor=sara, now=NOW
        )


def test_diff_versions_in_plain_words(qisp: Program) -> None:
    old = draft(qisp)
    new = old | {
        "renewal.extends_from_expiry_if_on_time": False,
        "renewal.reminder_days": [60, 0],
        f"{exam_step(qisp)}.pass_percent": 75,
    }
    words = [c.sentence for c in editing.diff_versions(old, new, qisp)]
    assert "On-time renewal extends from the old expiry: yes → no" in words
    assert (
        "Reminder offsets in days before expiry (negative: after): 90, 21, 0, -30 days → 60, 0 days" in words
    )
    assert any(w.endswith(f"{old[f'{exam_step(qisp)}.pass_percent']}% → 75%") for w in words)
    assert editing.diff_versions(old, old, qisp) == []


# --- The pages ---------------------------------------------------------------------------------


def test_the_programs_page_lists_versions_and_fees_over_time(
    staff: Client, qisp: Program, sara: User
) -> None:
    editing.create_fee(
        program=qisp,
        code="renewal_late",
        amount=Decimal("260.00"),
        effective_from=FUTURE,
        reason="r",
        actor=sara,
        now=NOW,
    )
    response = staff.get("/staff/programs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert qisp.name in html and "in force today" in html
    assert "$240.00 from 2023-01-01" in html and "$260.00 from 2028-01-01" in html and "future" in html
    assert f'href="{NEW_URL}"' in html and f'href="{FEE_URL}"' in html


def test_preview_then_save_a_rule_version_through_the_form(staff: Client, qisp: Program) -> None:
    holder_until(make_person("h1@example.com"), date(2028, 3, 1))
    data = form_data(staff, **{field_name("renewal.opens_days_before_expiry"): "60"})
    preview = staff.post(NEW_URL, data | {"action": "preview"})
    html = preview.content.decode()
    assert preview.status_code == 200, preview.context["form"].errors
    assert "Days before expiry that renewal opens: <del>90 days</del> → <ins>60 days</ins>" in html
    assert "New enrollments from 2028-01-01 start under “2028 rules”" in html
    assert "Enrollments keep the version they started under" in html
    assert "1 current certificates expire on or after 2028-01-01" in html
    assert not PolicyVersion.objects.filter(name="2028 rules").exists()
    saved = staff.post(NEW_URL, data | {"action": "save"})
    assert saved.status_code == 302 and saved["Location"] == "/staff/programs/"
    assert rules_in_force(qisp, FUTURE).value("renewal.opens_days_before_expiry") == 60
    assert AuditEvent.objects.filter(verb="programs.rules_version_created").count() == 1


def test_the_form_refuses_a_missing_key_naming_it_and_keeps_what_was_typed(
    staff: Client, qisp: Program
) -> None:
    missing = f"{exam_step(qisp)}.question_count"
    data = form_data(staff, **{field_name(missing): "", field_name("renewal.opens_days_before_expiry"): "45"})
    for action in ("preview", "save"):
        response = staff.post(NEW_URL, data | {"action": action})
        html = response.content.decode()
        assert response.status_code == 400
        assert f"missing {missing}" in html
        assert 'value="45"' in html and 'value="2028 rules"' in html
    assert not PolicyVersion.objects.filter(name="2028 rules").exists()


def test_the_form_refuses_an_out_of_range_value_and_a_past_date(staff: Client, qisp: Program) -> None:
    key = f"{exam_step(qisp)}.pass_percent"
    data = form_data(staff, **{field_name(key): "101", "effective_from": "2027-05-01"})
    response = staff.post(NEW_URL, data | {"action": "save"})
    html = response.content.decode()
    assert response.status_code == 400
    assert f"{key}: expected a percentage from 0 to 100, got 101" in html
    assert "is in the past" in html
    data = form_data(staff, **{field_name("renewal.reminder_days"): "90, soon"})
    html = staff.post(NEW_URL, data | {"action": "save"}).content.decode()
    assert "renewal.reminder_days: expected whole numbers separated by commas" in html
    data = form_data(staff, **{field_name("renewal.opens_days_before_expiry"): "ninety"})
    html = staff.post(NEW_URL, data | {"action": "save"}).content.decode()
    assert "renewal.opens_days_before_expiry: enter a whole number." in html
    assert PolicyVersion.objects.filter(program=qisp).count() == 2


# --- Fees --------------------------------------------------------------------------------------


def test_fee_preview_says_old_to_new_and_how_many_renewals_it_touches(staff: Client, qisp: Program) -> None:
    for i, expiry in enumerate([date(2027, 12, 31), date(2028, 3, 1), date(2027, 7, 1)]):
        holder_until(make_person(f"h{i}@example.com"), expiry)
    data = {
        "code": "renewal_late",
        "amount": "260.00",
        "effective_from": "2028-01-01",
        "reason": "Board vote.",
    }
    response = staff.post(FEE_URL, data | {"action": "preview"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "from 2028-01-01: QISP renewal after expiration: $240.00 → $260.00" in html
    assert "2 renewals due in that window" in html
    assert "0 open orders for this fee keep the amount they were made at" in html
    assert not Fee.objects.filter(amount=Decimal("260.00")).exists()
    saved = staff.post(FEE_URL, data | {"action": "save"})
    assert saved.status_code == 302
    fee = Fee.objects.get(code="renewal_late", effective_from=FUTURE)
    assert fee.amount == Decimal("260.00") and fee.name == "QISP renewal after expiration"
    event = AuditEvent.objects.get(verb="programs.fee_created")
    assert event.data["before"] == {"amount": "240.00"} and event.data["after"] == {"amount": "260.00"}
    assert event.reason == "Board vote."


@pytest.mark.parametrize(
    ("amount", "day", "words"),
    [
        ("-1", "2028-01-01", "Ensure this value is greater than or equal to 0"),
        ("260.005", "2028-01-01", "no more than 2 decimal places"),
        ("260", "2027-05-31", "is in the past"),
        ("260", "2023-01-01", "is in the past"),
    ],
)
def test_the_fee_form_refuses_bad_amounts_and_dates(
    staff: Client, qisp: Program, amount: str, day: str, words: str
) -> None:
    data = {"code": "renewal_late", "amount": amount, "effective_from": day, "reason": "r", "action": "save"}
    response = staff.post(FEE_URL, data)
    assert response.status_code == 400 and words in response.content.decode()
    assert Fee.objects.filter(code="renewal_late").count() == 1


def test_create_fee_refuses_every_problem_in_words(qisp: Program, sara: User) -> None:
    editing.create_fee(
        program=qisp,
        code="renewal",
        amount=Decimal("230"),
        effective_from=FUTURE,
        reason="r",
        actor=sara,
        now=NOW,
    )
    cases = [
        ("renewal", Decimal("230"), FUTURE, "already has an amount from 2028-01-01"),
        ("no_such_fee", Decimal("1"), FUTURE, "has no fee 'no_such_fee'"),
        ("renewal", Decimal("-1"), date(2028, 2, 1), "below zero"),
        ("renewal", Decimal("1.005"), date(2028, 2, 1), "more than 2 decimal places"),
        ("renewal", Decimal("1"), date(2027, 1, 1), "in the past"),
    ]
    for code, amount, day, words in cases:
        with pytest.raises(editing.EditError, match=words):
            editing.create_fee(
                program=qisp, code=code, amount=amount, effective_from=day, reason="r", actor=sara, now=NOW
            )


def test_a_late_renewal_after_the_date_pays_the_new_amount(qisp: Program, alice: User, sara: User) -> None:
    module = make_review()
    editing.create_fee(
        program=qisp,
        code="renewal_late",
        amount=Decimal("260.00"),
        effective_from=FUTURE,
        reason="r",
        actor=sara,
        now=NOW,
    )
    before = holder_until(make_person("early@example.com"), date(2027, 12, 10))
    finish_review(before.holder, module, at(2027, 12, 1))
    assert renew(before.holder, before, started=at(2027, 12, 20)).total == Decimal("240.00")
    after = holder_until(alice, date(2028, 1, 15))
    finish_review(alice, module, at(2028, 1, 10))
    order = renew(alice, after, started=at(2028, 1, 20))
    assert order.total == Decimal("260.00") and order.lines.get().fee_code == "renewal_late"


# --- Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/staff/programs/", NEW_URL, FEE_URL])
def test_only_staff_with_two_factor_may_open_the_editor(
    programs: None, alice: User, sara: User, url: str
) -> None:
    assert client_for(alice).get(url).status_code == 403
    assert client_for(alice).post(url, {"action": "save"}).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(sara).get(url).status_code in (302, 403)  # no two-factor in this session


def test_the_editor_opens_for_every_program(staff: Client, programs: None) -> None:
    for program in Program.objects.all():
        for url in (
            f"/staff/programs/{program.code}/rules/new/",
            f"/staff/programs/{program.code}/fees/new/",
        ):
            response = staff.get(url)
            assert response.status_code == 200, url
            assert program.name in response.content.decode()


def test_a_trainer_version_through_the_form_without_its_term_start_is_refused(
    staff: Client, trainer_program: Program
) -> None:
    url = f"/staff/programs/{trainer_program.code}/rules/new/"
    data = form_data(staff, url, **{field_name("term.start"): ""})
    response = staff.post(url, data | {"action": "save"})
    assert response.status_code == 400 and "missing term.start" in response.content.decode()
    data[field_name("term.start")] = "07-01"
    assert staff.post(url, data | {"action": "save"}).status_code == 302
    assert rules_in_force(trainer_program, FUTURE).value("term.start") == "07-01"


def test_an_unknown_program_is_not_found(staff: Client, programs: None) -> None:
    assert staff.get("/staff/programs/NOPE/rules/new/").status_code == 404


# --- The admin is read-only for rules and fees ----------------------------------------------------


@pytest.fixture
def admin_client(programs: None) -> Client:
    root = make_person("root@example.com", staff=True)
    root.is_superuser = True
    root.save()
    enable_totp(root)
    return client_for(root, mfa=True)


def test_the_admin_refuses_to_add_or_change_versions_values_and_fees(admin_client: Client) -> None:
    fee = Fee.objects.get(code="renewal_late")
    version = PolicyVersion.objects.filter(program__code="QISP").first()
    assert version is not None
    value = PolicyValue.objects.filter(version=version).first()
    assert value is not None
    for model, pk in [("fee", fee.pk), ("policyversion", version.pk), ("policyvalue", value.pk)]:
        assert admin_client.post(f"/admin/programs/{model}/add/", {}).status_code == 403
        assert admin_client.post(f"/admin/programs/{model}/{pk}/change/", {}).status_code == 403
        assert admin_client.post(f"/admin/programs/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403
        listing = admin_client.get(f"/admin/programs/{model}/")
        assert listing.status_code == 200 and "/staff/programs/" in listing.content.decode()
    fee.refresh_from_db()
    assert fee.amount == Decimal("240.00")
    assert PolicyVersion.objects.filter(pk=version.pk).exists()


def test_the_program_admin_still_works(admin_client: Client) -> None:
    assert admin_client.get("/admin/programs/program/").status_code == 200
