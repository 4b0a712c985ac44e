"""The one place that answers “what is the rule for this program on this day?”."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from stormcert.programs.models import Fee, PolicyVersion, Program


class RuleMissing(LookupError):
    """A program has no value in force for a key or fee on the day asked."""


def program_today(program: Program, now: datetime | None = None) -> date:
    """The calendar day in the program's own time zone (fees and windows turn at its midnight)."""
    return timezone.localtime(now or timezone.now(), program.zone).date()


@dataclass(frozen=True)
class Rules:
    program: Program
    day: date
    version: PolicyVersion
    values: dict[str, Any]
    fees: dict[str, Fee] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise RuleMissing(
                f"Program {self.program.code} rules “{self.version.name}” have no value for {key!r}."
            ) from None

    def fee(self, code: str) -> Fee:
        try:
            return self.fees[code]
        except KeyError:
            raise RuleMissing(
                f"Program {self.program.code} has no fee {code!r} in force on {self.day}."
            ) from None


def version_in_force(program: Program, day: date) -> PolicyVersion:
    version = (
        PolicyVersion.objects.filter(program=program, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )
    if version is None:
        raise RuleMissing(f"Program {program.code} has no rules in force on {day}.")
    return version


def fees_in_force(program: Program, day: date) -> dict[str, Fee]:
    fees: dict[str, Fee] = {}
    # Latest effective date first, so the first row seen for each code is the one in force.
    for fee in Fee.objects.filter(program=program, effective_from__lte=day).order_by(
        "code", "-effective_from"
    ):
        fees.setdefault(fee.code, fee)
    return fees


def rules_for_version(version: PolicyVersion, day: date) -> Rules:
    """The rules of a kept version (an enrollment's), with the fees in force on `day`."""
    values = {v.key: v.value for v in version.values.all()}
    return Rules(
        program=version.program,
        day=day,
        version=version,
        values=values,
        fees=fees_in_force(version.program, day),
    )


def rules_in_force(program: Program, day: date | None = None) -> Rules:
    day = day or program_today(program)
    return rules_for_version(version_in_force(program, day), day)
