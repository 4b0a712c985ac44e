"""Staff edit a program's rules and fees without breaking the site.

A new rule version starts from the one in force, is checked whole against the registry
(`programs.policy`: every required key present, every value of the right type and range, every
fee and step it names defined), takes effect on a day not yet past, and is audited with what it
changes. A new fee amount is a new row from a date, with the name and terms of the fee it follows.
Nothing here edits a version or a fee already saved: enrollments and orders keep what they had.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from stormcert.audit.services import record
from stormcert.lib.money import format_money
from stormcert.programs.models import Fee, PolicyValue, PolicyVersion, Program
from stormcert.programs.policy import PolicyKey, check_version, keys_for, shape_of, spec_for
from stormcert.programs.rules import RuleMissing, fees_in_force, program_today, version_in_force


class EditError(ValueError):
    """A rule version or fee that cannot be saved; `problems` lists every reason, in words."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("Not saved: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Change:
    """One rule (or fee) that differs between two versions, in words."""

    key: str
    label: str
    old: Any
    new: Any
    old_text: str
    new_text: str

    @property
    def sentence(self) -> str:
        return f"{self.label}: {self.old_text} → {self.new_text}"

    def __str__(self) -> str:
        return self.sentence


# --- Reading -----------------------------------------------------------------------------------


def values_of(version: PolicyVersion) -> dict[str, Any]:
    return {v.key: v.value for v in version.values.all()}


def draft_from_version_in_force(program: Program, day: date) -> dict[str, Any]:
    """The values of the version in force on `day`, to start a new version from (empty if none)."""
    try:
        version = version_in_force(program, day)
    except RuleMissing:
        return {}
    return copy.deepcopy(values_of(version))


def fee_codes(program: Program) -> set[str]:
    return set(Fee.objects.filter(program=program).values_list("code", flat=True))


def check_draft(program: Program, values: dict[str, Any]) -> list[str]:
    """Every problem with `values` as a whole version of `program`, in words (empty: usable).
    Each problem names its key."""
    return check_version(copy.deepcopy(values), shape_of(program), fee_codes(program))


# --- Words for a change ------------------------------------------------------------------------


def _label(key: str, spec: PolicyKey | None) -> str:
    if spec is None:
        return key
    return spec.help.rstrip(".")


def value_text(value: Any, spec: PolicyKey | None) -> str:
    """A rule value as staff read it: "90 days", "yes", "fee re_registration; redo every step"."""
    if value is None:
        return "(not set)"
    kind = spec.type if spec else ""
    unit = f" {spec.unit}" if spec and spec.unit else ""
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "percent":
        return f"{value}%"
    if kind == "int_list":
        return (", ".join(str(v) for v in value) or "none") + unit
    if kind == "step_list":
        return ", ".join(value) or "none"
    if kind == "license_list":
        return "; ".join(f"{v.get('code')}: {v.get('label')}" for v in value if isinstance(v, dict)) or "none"
    if kind == "consequence" and isinstance(value, dict):
        redo = value.get("redo") or []
        parts = [f"fee {value['fee']}" if value.get("fee") else "no fee"]
        if redo == ["*"]:
            parts.append("redo every step after registration")
        elif redo:
            parts.append("redo " + ", ".join(redo))
        else:
            parts.append("nothing to redo")
        if value.get("extends_window"):
            parts.append("the window is extended")
        return "; ".join(parts)
    return f"{value}{unit}"


def diff_versions(
    old_values: dict[str, Any], new_values: dict[str, Any], program: Program | None = None
) -> list[Change]:
    """What differs between two versions' values, each in words from the registry's help and unit
    (e.g. "Days before expiry that renewal opens: 90 days → 60 days"). Keys in registry order."""
    shape = shape_of(program) if program is not None else None
    order = list(keys_for(shape)) if shape is not None else []
    keys = [k for k in order if k in old_values or k in new_values]
    keys += sorted((set(old_values) | set(new_values)) - set(keys))
    changes: list[Change] = []
    for key in keys:
        old, new = old_values.get(key), new_values.get(key)
        if old == new:
            continue
        spec = spec_for(key, shape)
        changes.append(
            Change(
                key=key,
                label=_label(key, spec),
                old=old,
                new=new,
                old_text=value_text(old, spec),
                new_text=value_text(new, spec),
            )
        )
    return changes


# --- Creating a rule version -------------------------------------------------------------------


def version_problems(
    *, program: Program, name: str, effective_from: date, values: dict[str, Any], now: datetime
) -> list[str]:
    """Every reason a version could not be saved: its values, its date and its name."""
    problems = check_draft(program, values)
    today = program_today(program, now)
    if effective_from < today:
        problems.append(
            f"The effective date {effective_from:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} in "
            f"the program's time zone); a new version can start today at the earliest."
        )
    clash = PolicyVersion.objects.filter(program=program, effective_from=effective_from).first()
    if clash is not None:
        problems.append(
            f"Rules “{clash.name}” already take effect on {effective_from:%Y-%m-%d}; choose another day."
        )
    if not name.strip():
        problems.append("A version needs a name staff know it by.")
    elif PolicyVersion.objects.filter(program=program, name=name.strip()).exists():
        problems.append(f"A version named “{name.strip()}” already exists; choose another name.")
    return problems


@transaction.atomic
def create_version(
    *,
    program: Program,
    name: str,
    effective_from: date,
    values: dict[str, Any],
    reason: str,
    actor: Any,
    now: datetime | None = None,
) -> PolicyVersion:
    """Save a complete, valid rule version of `program` from `effective_from` (today or later).

    Refused with EditError listing every problem (each missing key by name) otherwise. Audited
    with the changes against the version in force on that date."""
    now = now or timezone.now()
    # The program's own row, on purpose: one editor of its rules at a time.
    Program.objects.select_for_update(of=("self",)).filter(pk=program.pk).first()
    problems = version_problems(
        program=program, name=name, effective_from=effective_from, values=values, now=now
    )
    if not reason.strip():
        problems.append("Give a reason: it is kept in the audit log.")
    if problems:
        raise EditError(problems)
    clean = copy.deepcopy(values)
    check_version(clean, shape_of(program), fee_codes(program))  # normalises each value
    try:
        previous: PolicyVersion | None = version_in_force(program, effective_from)
    except RuleMissing:
        previous = None
    before = values_of(previous) if previous is not None else {}
    version = PolicyVersion.objects.create(
        program=program, name=name.strip(), effective_from=effective_from, notes=reason.strip()
    )
    PolicyValue.objects.bulk_create(
        [PolicyValue(version=version, key=key, value=value) for key, value in sorted(clean.items())]
    )
    changes = diff_versions(before, clean, program)
    record(
        actor=actor,
        verb="programs.rules_version_created",
        obj=version,
        data={
            "program": program.code,
            "effective_from": effective_from,
            "follows": previous.name if previous is not None else None,
            "before": {c.key: c.old for c in changes},
            "after": {c.key: c.new for c in changes},
            "changes": [c.sentence for c in changes],
        },
        reason=reason.strip(),
        now=now,
    )
    return version


# --- Creating a fee amount ---------------------------------------------------------------------


def fee_template(program: Program, code: str, day: date) -> Fee | None:
    """The fee of `code` a new amount from `day` follows: the one in force that day, else the
    latest one defined."""
    in_force = fees_in_force(program, day).get(code)
    if in_force is not None:
        return in_force
    return Fee.objects.filter(program=program, code=code).order_by("-effective_from").first()


def fee_problems(
    *, program: Program, code: str, amount: Any, effective_from: date, now: datetime
) -> list[str]:
    problems: list[str] = []
    if not Fee.objects.filter(program=program, code=code).exists():
        known = ", ".join(sorted(fee_codes(program))) or "none"
        problems.append(f"{program.code} has no fee {code!r}; its fees are: {known}.")
    try:
        number = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        problems.append(f"The amount {amount!r} is not a number.")
    else:
        if not number.is_finite():
            problems.append(f"The amount {amount!r} is not a number.")
        elif number < 0:
            problems.append(f"The amount {number} is below zero.")
        elif -number.as_tuple().exponent > 2:  # type: ignore[operator]
            problems.append(f"The amount {number} has more than 2 decimal places.")
    today = program_today(program, now)
    if effective_from < today:
        problems.append(
            f"The effective date {effective_from:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} in "
            f"the program's time zone)."
        )
    if Fee.objects.filter(program=program, code=code, effective_from=effective_from).exists():
        problems.append(
            f"Fee {code} already has an amount from {effective_from:%Y-%m-%d}; choose another day."
        )
    return problems


@transaction.atomic
def create_fee(
    *,
    program: Program,
    code: str,
    amount: Decimal,
    effective_from: date,
    reason: str,
    actor: Any,
    now: datetime | None = None,
) -> Fee:
    """A new amount for an existing fee code of `program` from `effective_from` (today or later);
    name, description, currency and refundability are copied from the fee it follows. Orders made
    before keep their amount. Audited with the amount before and after."""
    now = now or timezone.now()
    Program.objects.select_for_update(of=("self",)).filter(pk=program.pk).first()  # one editor at a time
    problems = fee_problems(program=program, code=code, amount=amount, effective_from=effective_from, now=now)
    if not reason.strip():
        problems.append("Give a reason: it is kept in the audit log.")
    if problems:
        raise EditError(problems)
    template = fee_template(program, code, effective_from)
    if template is None:  # pragma: no cover: fee_problems checked the code exists
        raise EditError([f"{program.code} has no fee {code!r}."])
    previous = fees_in_force(program, effective_from).get(code)
    fee = Fee.objects.create(
        program=program,
        code=code,
        name=template.name,
        amount=Decimal(str(amount)),
        currency=template.currency,
        effective_from=effective_from,
        refundable=template.refundable,
        description=template.description,
    )
    record(
        actor=actor,
        verb="programs.fee_created",
        obj=fee,
        data={
            "program": program.code,
            "code": code,
            "effective_from": effective_from,
            "before": {"amount": previous.amount if previous is not None else None},
            "after": {"amount": fee.amount},
            "changes": [fee_change(fee.name, previous, fee.amount, fee.currency).sentence],
        },
        reason=reason.strip(),
        now=now,
    )
    return fee


def fee_change(name: str, previous: Fee | None, amount: Decimal, currency: str = "USD") -> Change:
    old_text = format_money(previous.amount, previous.currency) if previous is not None else "(none)"
    return Change(
        key=name,
        label=name,
        old=previous.amount if previous is not None else None,
        new=amount,
        old_text=old_text,
        new_text=format_money(amount, currency),
    )
