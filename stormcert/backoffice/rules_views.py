"""Staff pages of the rules editor: every program's rule versions and fees, a new rule version
built from the registry, a new fee amount; each previewed (what changes, for whom) before saving.

The services are in programs/editing.py; the counts of who a change touches read several apps,
which backoffice (above every app) may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from stormcert.accounts.requests import AuthedRequest
from stormcert.backoffice.rules_forms import FeeForm, RuleVersionForm
from stormcert.certificates.models import Certificate
from stormcert.enrollments.models import Enrollment
from stormcert.lib.money import format_money
from stormcert.lib.staff import staff_required
from stormcert.payments.models import OrderLine, OrderStatus
from stormcert.programs import editing
from stormcert.programs.lookup import program_or_404
from stormcert.programs.models import Fee, PolicyVersion, Program
from stormcert.programs.rules import RuleMissing, fees_in_force, program_today, version_in_force
from stormcert.renewals.services import LATE_FEE, ON_TIME_FEE


@dataclass(frozen=True)
class FeeHistory:
    code: str
    name: str
    amounts: list[Fee]  # oldest first
    in_force: Fee | None


def _versions(program: Program, today: date) -> tuple[list[Any], Any]:
    versions = list(
        PolicyVersion.objects.filter(program=program)
        .annotate(enrollment_count=Count("enrollments"))
        .order_by("effective_from")
    )
    in_force = None
    for version in versions:
        if version.effective_from <= today:
            in_force = version
    return versions, in_force


def _fee_histories(program: Program, today: date) -> list[FeeHistory]:
    current = fees_in_force(program, today)
    by_code: dict[str, list[Fee]] = {}
    for fee in Fee.objects.filter(program=program).order_by("code", "effective_from"):
        by_code.setdefault(fee.code, []).append(fee)
    return [
        FeeHistory(
            code=code, name=(current.get(code) or fees[-1]).name, amounts=fees, in_force=current.get(code)
        )
        for code, fees in by_code.items()
    ]


@staff_required
def programs(request: HttpRequest) -> HttpResponse:
    rows = []
    for program in Program.objects.all():
        today = program_today(program)
        versions, in_force = _versions(program, today)
        rows.append(
            {
                "program": program,
                "today": today,
                "versions": versions,
                "in_force": in_force,
                "fees": _fee_histories(program, today),
            }
        )
    return render(request, "backoffice/rules/programs.html", {"rows": rows})


# --- Who a change touches ----------------------------------------------------------------------


def _current_certificates(program: Program) -> Any:
    return Certificate.objects.filter(
        program=program, superseded_at__isnull=True, revoked_at__isnull=True, expires_on__isnull=False
    )


def version_impact(
    program: Program, effective_from: date, name: str, changes: list[editing.Change]
) -> list[str]:
    """Who a new rule version touches, in sentences."""
    lines = [
        f"New enrollments from {effective_from:%Y-%m-%d} start under “{name}”; none has started under it yet."
    ]
    try:
        previous: PolicyVersion | None = version_in_force(program, effective_from)
    except RuleMissing:
        previous = None
    if previous is not None:
        kept = Enrollment.objects.filter(policy_version=previous).count()
        lines.append(
            f"Enrollments keep the version they started under: {kept} under “{previous.name}” are not changed."
        )
    if any(c.key.startswith(("renewal.", "certificate.")) for c in changes):
        due = _current_certificates(program).filter(expires_on__gte=effective_from).count()
        lines.append(
            f"Renewal and certificate rules apply on the day of the renewal: {due} current certificates "
            f"expire on or after {effective_from:%Y-%m-%d}."
        )
    return lines


def fee_impact(program: Program, code: str, effective_from: date, amount: Any) -> list[str]:
    """Who a new fee amount touches, in sentences."""
    lines: list[str] = []
    if code == LATE_FEE:
        since = effective_from - timedelta(days=1)
        due = _current_certificates(program).filter(expires_on__gte=since).count()
        lines.append(
            f"{due} renewals due in that window: certificates expiring on or after {since:%Y-%m-%d} "
            f"pay {format_money(amount)} when renewed late from {effective_from:%Y-%m-%d}."
        )
    elif code == ON_TIME_FEE:
        due = _current_certificates(program).filter(expires_on__gte=effective_from).count()
        lines.append(
            f"{due} renewals due in that window: certificates expiring on or after {effective_from:%Y-%m-%d} "
            f"pay {format_money(amount)} when renewed on time from that day."
        )
    else:
        lines.append(f"Orders made from {effective_from:%Y-%m-%d} pay {format_money(amount)}.")
    pending = (
        OrderLine.objects.filter(program=program, fee_code=code, order__status=OrderStatus.PENDING)
        .values("order")
        .distinct()
        .count()
    )
    lines.append(f"{pending} open orders for this fee keep the amount they were made at.")
    return lines


# --- New rule version --------------------------------------------------------------------------


@staff_required
def rules_new(request: AuthedRequest, code: str) -> HttpResponse:
    program = program_or_404(code)
    today = program_today(program)
    draft = editing.draft_from_version_in_force(program, today)
    action = request.POST.get("action", "preview") if request.method == "POST" else None
    form = RuleVersionForm(request.POST if action else None, program=program)
    form.set_initial(draft)
    preview: dict[str, Any] | None = None
    status = 200
    if action:
        if form.is_valid():
            values, unreadable = form.values()
            data = form.cleaned_data
            try:
                if unreadable:
                    raise editing.EditError(list(unreadable.values()))
                if action == "save":
                    version = editing.create_version(
                        program=program,
                        name=data["name"],
                        effective_from=data["effective_from"],
                        values=values,
                        reason=data["reason"],
                        actor=request.user,
                    )
                    messages.success(
                        request,
                        f"Rules “{version.name}” of {program.short_name} saved: in force from "
                        f"{version.effective_from:%Y-%m-%d}.",
                    )
                    return redirect("backoffice:programs")
                problems = editing.version_problems(
                    program=program,
                    name=data["name"],
                    effective_from=data["effective_from"],
                    values=values,
                    now=timezone.now(),
                )
                if problems:
                    raise editing.EditError(problems)
                try:
                    before = editing.values_of(version_in_force(program, data["effective_from"]))
                except RuleMissing:
                    before = {}
                changes = editing.diff_versions(before, values, program)
                preview = {
                    "changes": changes,
                    "impact": version_impact(program, data["effective_from"], data["name"], changes),
                    "effective_from": data["effective_from"],
                }
            except editing.EditError as exc:
                form.add_problems(exc.problems)
        if not form.is_valid():
            status = 400
    return render(
        request,
        "backoffice/rules/rules_new.html",
        {"program": program, "form": form, "preview": preview, "today": today},
        status=status,
    )


# --- New fee amount ----------------------------------------------------------------------------


@staff_required
def fee_new(request: AuthedRequest, code: str) -> HttpResponse:
    program = program_or_404(code)
    today = program_today(program)
    current = fees_in_force(program, today)
    action = request.POST.get("action", "preview") if request.method == "POST" else None
    initial = {"code": request.GET.get("fee", "")}
    form = FeeForm(request.POST if action else None, program=program, current=current, initial=initial)
    preview: dict[str, Any] | None = None
    status = 200
    if action:
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "save":
                    fee = editing.create_fee(
                        program=program,
                        code=data["code"],
                        amount=data["amount"],
                        effective_from=data["effective_from"],
                        reason=data["reason"],
                        actor=request.user,
                    )
                    messages.success(
                        request,
                        f"{fee.name} is {format_money(fee.amount, fee.currency)} from {fee.effective_from:%Y-%m-%d}.",
                    )
                    return redirect("backoffice:programs")
                problems = editing.fee_problems(
                    program=program,
                    code=data["code"],
                    amount=data["amount"],
                    effective_from=data["effective_from"],
                    now=timezone.now(),
                )
                if problems:
                    raise editing.EditError(problems)
                previous = fees_in_force(program, data["effective_from"]).get(data["code"])
                template = editing.fee_template(program, data["code"], data["effective_from"])
                name = template.name if template is not None else data["code"]
                change = editing.fee_change(name, previous, data["amount"])
                preview = {
                    "changes": [change],
                    "headline": f"from {data['effective_from']:%Y-%m-%d}: {change.sentence}",
                    "impact": fee_impact(program, data["code"], data["effective_from"], data["amount"]),
                }
            except editing.EditError as exc:
                for problem in exc.problems:
                    if "effective date" in problem or "already has an amount" in problem:
                        form.add_error("effective_from", problem)
                    elif "amount" in problem:
                        form.add_error("amount", problem)
                    else:
                        form.add_error(None, problem)
        if not form.is_valid():
            status = 400
    return render(
        request,
        "backoffice/rules/fee_new.html",
        {"program": program, "form": form, "preview": preview, "today": today, "current": current},
        status=status,
    )
