"""Load programs from a definition file (TOML), all or nothing.

The file is checked whole before anything is written: every problem is reported with where it
is (`program ABC, fee #3 (renewal): ...`), and a file with any problem changes nothing. Loading
the same file twice changes nothing the second time.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from stormcert.audit.services import record
from stormcert.programs.models import (
    Fee,
    PolicyValue,
    PolicyVersion,
    Program,
    ProgramKind,
    Step,
    StepKind,
    code_validator,
    name_key,
    validate_time_zone,
)
from stormcert.programs.policy import ProgramShape, check_version

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
DEFAULT_DEFINITION = DEFINITIONS_DIR / "casqa.toml"


class DefinitionError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def need(self, table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
        if key not in table:
            self.problems.append(f"{where}: missing “{key}”")
            return None
        value = table[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.problems.append(f"{where}: “{key}” should be {names}, got {value!r}")
            return None
        return value

    def unknown(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(table) - allowed):
            self.problems.append(f"{where}: unknown field “{key}” (allowed: {', '.join(sorted(allowed))})")

    def code(self, value: Any, where: str) -> None:
        if isinstance(value, str):
            try:
                code_validator(value)
            except ValidationError:
                self.problems.append(f"{where}: {value!r} is not a valid code (letters, digits, . - _)")


PROGRAM_FIELDS = {
    "aliases",
    "contact",
    "faq",
    "code",
    "name",
    "short_name",
    "kind",
    "summary",
    "time_zone",
    "requires",
    "teaches",
    "figures_source",
    "resources",
    "is_public",
    "step",
    "policy",
    "fee",
}
STEP_FIELDS = {"code", "title", "kind", "description", "resources"}
POLICY_FIELDS = {"name", "effective_from", "notes", "values"}
FAQ_FIELDS = {"question", "answer"}
CONTACT_FIELDS = {"office", "email", "phone", "hours", "note"}
FEE_FIELDS = {"code", "name", "amount", "currency", "effective_from", "refundable", "description"}


def parse_definition(text: str, *, source: str = "definition") -> list[dict[str, Any]]:
    """Parse and check a definition; raise DefinitionError listing every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(source, [f"not valid TOML: {exc}"]) from None
    check = _Checker()
    check.unknown(data, {"program"}, "top level")
    programs = data.get("program")
    if not isinstance(programs, list) or not programs:
        raise DefinitionError(source, [*check.problems, "no [[program]] tables found"])

    seen_codes: list[str] = []
    for index, program in enumerate(programs, start=1):
        where = f"program #{index}"
        code = check.need(program, "code", where)
        if code:
            check.code(code, where)
            where = f"program {code}"
            if code in seen_codes:
                check.problems.append(f"{where}: defined twice")
            seen_codes.append(code)
        check.unknown(program, PROGRAM_FIELDS, where)
        check.need(program, "name", where)
        check.need(program, "short_name", where)
        check.need(program, "summary", where)
        kind = check.need(program, "kind", where)
        if kind and kind not in ProgramKind.values:
            check.problems.append(f"{where}: kind {kind!r} is not one of {', '.join(ProgramKind.values)}")
        tz = program.get("time_zone", "America/Los_Angeles")
        try:
            validate_time_zone(tz)
        except ValidationError as exc:
            check.problems.append(f"{where}: {exc.messages[0]}")
        _check_links(check, program.get("resources", []), where)
        _check_help(check, program, where)

        step_codes: list[str] = []
        for s_index, step in enumerate(program.get("step", []), start=1):
            s_where = f"{where}, step {s_index}"
            check.unknown(step, STEP_FIELDS, s_where)
            s_code = check.need(step, "code", s_where)
            check.code(s_code, s_where)
            if s_code in step_codes:
                check.problems.append(f"{s_where}: step code {s_code!r} used twice")
            step_codes.append(s_code)
            check.need(step, "title", s_where)
            s_kind = check.need(step, "kind", s_where)
            if s_kind and s_kind not in StepKind.values:
                check.problems.append(
                    f"{s_where}: kind {s_kind!r} is not one of {', '.join(StepKind.values)}"
                )
            _check_links(check, step.get("resources", []), s_where)

        fee_codes: set[str] = set()
        fee_days: set[tuple[str, date]] = set()
        for f_index, fee in enumerate(program.get("fee", []), start=1):
            f_where = f"{where}, fee #{f_index}"
            check.unknown(fee, FEE_FIELDS, f_where)
            f_code = check.need(fee, "code", f_where)
            check.code(f_code, f_where)
            if f_code:
                f_where = f"{where}, fee #{f_index} ({f_code})"
                fee_codes.add(f_code)
            check.need(fee, "name", f_where)
            day = check.need(fee, "effective_from", f_where, date)
            if f_code and day:
                if (f_code, day) in fee_days:
                    check.problems.append(f"{f_where}: a second {f_code} fee from {day}")
                fee_days.add((f_code, day))
            amount = fee.get("amount")
            try:
                if isinstance(amount, float | bool) or Decimal(str(amount)) < 0:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                check.problems.append(
                    f'{f_where}: amount {amount!r} must be a non-negative amount in quotes, e.g. "505.00"'
                )
            if "refundable" in fee:
                check.need(fee, "refundable", f_where, bool)

        # A payment step buys the fee of the same code (a "registration" step, the "registration" fee).
        for step in program.get("step", []):
            if step.get("kind") == "payment" and step.get("code") not in fee_codes:
                check.problems.append(
                    f"{where}: payment step {step.get('code')!r} needs a fee with the same code"
                )

        policies = program.get("policy", [])
        if not policies:
            check.problems.append(f"{where}: no [[program.policy]] rule version")
        for p_index, policy in enumerate(policies, start=1):
            p_where = f"{where}, policy #{p_index}"
            check.unknown(policy, POLICY_FIELDS, p_where)
            name = check.need(policy, "name", p_where)
            if name:
                p_where = f"{where}, policy “{name}”"
            check.need(policy, "effective_from", p_where, date)
            values = check.need(policy, "values", p_where, dict) or {}
            if kind in ProgramKind.values:
                steps = program.get("step", [])
                shape = ProgramShape(
                    kind,
                    tuple((st.get("code", ""), st.get("kind", "")) for st in steps),
                    tuple((st.get("code", ""), st.get("title", "")) for st in steps),
                )
                for problem in check_version(values, shape, fee_codes):
                    check.problems.append(f"{p_where}: {problem}")

    # Cross-program references are checked last: a program may require one defined later in
    # the file, or one already in the database.
    known = set(seen_codes) | set(Program.objects.values_list("code", flat=True))
    kinds = dict(Program.objects.values_list("code", "kind"))
    kinds.update({p.get("code"): p.get("kind") for p in programs})
    for program in programs:
        for field_name in ("requires", "teaches"):
            codes = program.get(field_name, [])
            if not isinstance(codes, list):
                check.problems.append(
                    f"program {program.get('code')}: “{field_name}” should be a list of program codes"
                )
                continue
            for other in codes:
                if other not in known:
                    check.problems.append(
                        f"program {program.get('code')}: {field_name} unknown program code {other!r}"
                    )
                elif field_name == "teaches" and kinds.get(other) != ProgramKind.QUALIFICATION:
                    check.problems.append(
                        f"program {program.get('code')}: teaches {other!r}, which is not a qualification program"
                    )
        if program.get("teaches") and program.get("kind") != ProgramKind.TRAINER:
            check.problems.append(f"program {program.get('code')}: only a trainer program teaches")
        if "figures_source" in program and not isinstance(program["figures_source"], str):
            check.problems.append(f"program {program.get('code')}: “figures_source” should be text")
    _check_aliases(check, programs)

    if check.problems:
        raise DefinitionError(source, check.problems)
    return programs


def _aliases(program: dict[str, Any]) -> list[str]:
    """A program's aliases as loaded: trimmed, each once (compared as name_key compares them)."""
    aliases = program.get("aliases", [])
    if not isinstance(aliases, list):
        return []
    kept: dict[str, str] = {}
    for alias in aliases:
        if isinstance(alias, str) and alias.strip():
            kept.setdefault(name_key(alias), " ".join(alias.split()))
    return list(kept.values())


def _check_aliases(check: _Checker, programs: list[dict[str, Any]]) -> None:
    """Aliases are names an imported file uses for a program: one that names two programs (an
    alias of another program, or its code or short name) would make the row's program a guess.
    Programs already in the database that this file does not define count too."""
    names: dict[str, list[tuple[str, str]]] = {}  # name key -> [(program code, what it is)]

    def note(code: str, text: str, what: str) -> None:
        names.setdefault(name_key(text), []).append((code, what))

    in_file = {str(p.get("code")) for p in programs}
    others = Program.objects.exclude(code__in=in_file).values_list("code", "short_name", "aliases")
    for code, short_name, aliases in others:
        note(code, code, "code")
        note(code, short_name, "short name")
        for alias in aliases or []:
            note(code, alias, "alias")
    for program in programs:
        code = str(program.get("code"))
        where = f"program {code}"
        aliases = program.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            check.problems.append(f'{where}: “aliases” should be a list of names, e.g. ["Old name"]')
            continue
        if isinstance(program.get("code"), str):
            note(code, code, "code")
        if isinstance(program.get("short_name"), str):
            note(code, program["short_name"], "short name")
        for alias in _aliases(program):
            note(code, alias, "alias")
    for program in programs:
        code = str(program.get("code"))
        for alias in _aliases(program):
            clashes = sorted(
                {f"the {what} of {other}" for other, what in names.get(name_key(alias), []) if other != code}
            )
            if clashes:
                check.problems.append(
                    f"program {code}: alias {alias!r} is also {' and '.join(clashes)}; an alias may "
                    "name one program only"
                )


def _check_help(check: _Checker, program: dict[str, Any], where: str) -> None:
    """The help page's data: each [[program.faq]] a question and its answer, [program.contact]
    the office's name and ways to reach it, all text."""
    faq = program.get("faq", [])
    if not isinstance(faq, list):
        check.problems.append(f"{where}: “faq” should be a list of [[program.faq]] tables")
        faq = []
    for index, entry in enumerate(faq, start=1):
        f_where = f"{where}, faq #{index}"
        if not isinstance(entry, dict):
            check.problems.append(f"{f_where}: should be a table with a question and an answer")
            continue
        check.unknown(entry, FAQ_FIELDS, f_where)
        for key in ("question", "answer"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                check.problems.append(f"{f_where}: needs {key} text")
    contact = program.get("contact", {})
    if not isinstance(contact, dict):
        check.problems.append(f"{where}: “contact” should be a [program.contact] table")
        return
    check.unknown(contact, CONTACT_FIELDS, f"{where}, contact")
    for key, value in contact.items():
        if not isinstance(value, str):
            check.problems.append(f"{where}, contact: {key} should be text")
    if contact and not (contact.get("email") or contact.get("phone")):
        check.problems.append(f"{where}, contact: give an email or a phone number")


def _help_data(data: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, str]]:
    faq = [{"question": e["question"].strip(), "answer": e["answer"].strip()} for e in data.get("faq", [])]
    contact = {k: v.strip() for k, v in data.get("contact", {}).items() if v.strip()}
    return faq, contact


def _check_links(check: _Checker, links: Any, where: str) -> None:
    if not isinstance(links, list):
        check.problems.append(f"{where}: resources should be a list of {{title, url}} tables")
        return
    for link in links:
        if not isinstance(link, dict) or set(link) != {"title", "url"}:
            check.problems.append(f"{where}: each resource needs exactly a title and a url, got {link!r}")
        elif not str(link["url"]).startswith(("https://", "http://", "/")):
            check.problems.append(f"{where}: resource url {link['url']!r} should start with https:// or /")


def _upsert(
    model: Any, lookup: dict[str, Any], values: dict[str, Any], label: str, result: LoadResult
) -> Any:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        result.created.append(label)
        return obj
    changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(obj, key, value)
        obj.save(update_fields=list(changed))
        result.updated.append(label)
    return obj


@transaction.atomic
def load_definition(
    text: str,
    *,
    source: str = "definition",
    only: list[str] | None = None,
    actor: Any | None = None,
    first_position: int = 0,
) -> LoadResult:
    """Load one definition. `first_position` places its programs after those of the files
    loaded before it (a program's position is its place in its file plus that offset)."""
    programs = parse_definition(text, source=source)
    codes = [p["code"] for p in programs]
    places = {code: first_position + index for index, code in enumerate(codes)}
    if only:
        missing = [code for code in only if code not in codes]
        if missing:
            raise DefinitionError(
                source,
                [f"unknown program code {code!r}; this file defines {', '.join(codes)}" for code in missing],
            )
        programs = [p for p in programs if p["code"] in only]

    result = LoadResult()
    saved: dict[str, Program] = {}
    for data in programs:
        code = data["code"]
        program = _upsert(
            Program,
            {"code": code},
            {
                "name": data["name"],
                "short_name": data["short_name"],
                "kind": data["kind"],
                "summary": data["summary"].strip(),
                "time_zone": data.get("time_zone", "America/Los_Angeles"),
                "resources": data.get("resources", []),
                "figures_source": data.get("figures_source", "").strip(),
                "is_public": data.get("is_public", True),
                "position": places[code],
                "aliases": _aliases(data),
                "faq": _help_data(data)[0],
                "contact": _help_data(data)[1],
            },
            f"program {code}",
            result,
        )
        saved[code] = program
        wanted_steps = [s["code"] for s in data.get("step", [])]
        stale = program.steps.exclude(code__in=wanted_steps)
        if stale.exists():
            result.updated.append(
                f"program {code}: removed steps {', '.join(stale.values_list('code', flat=True))}"
            )
            stale.delete()
        current = list(program.steps.order_by("position").values_list("code", flat=True))
        if current != wanted_steps:
            # Park existing steps at high positions so new positions can be assigned without
            # tripping the (program, position) unique constraint half-way through.
            for step in program.steps.all():
                Step.objects.filter(pk=step.pk).update(position=step.position + 1000)
        for position_in_program, step in enumerate(data.get("step", []), start=1):
            values = {
                "position": position_in_program,
                "title": step["title"],
                "kind": step["kind"],
                "description": step.get("description", "").strip(),
                "resources": step.get("resources", []),
            }
            _upsert(
                Step,
                {"program": program, "code": step["code"]},
                values,
                f"{code} step {step['code']}",
                result,
            )

        for fee in data.get("fee", []):
            _upsert(
                Fee,
                {"program": program, "code": fee["code"], "effective_from": fee["effective_from"]},
                {
                    "name": fee["name"],
                    "amount": Decimal(str(fee["amount"])).quantize(Decimal("0.01")),
                    "currency": fee.get("currency", "USD"),
                    "refundable": fee.get("refundable", True),
                    "description": fee.get("description", ""),
                },
                f"{code} fee {fee['code']} from {fee['effective_from']}",
                result,
            )
        for policy in data.get("policy", []):
            version = _upsert(
                PolicyVersion,
                {"program": program, "name": policy["name"]},
                {"effective_from": policy["effective_from"], "notes": policy.get("notes", "").strip()},
                f"{code} rules “{policy['name']}”",
                result,
            )
            for key, value in policy["values"].items():
                _upsert(
                    PolicyValue,
                    {"version": version, "key": key},
                    {"value": value},
                    f"{code} “{policy['name']}” {key}",
                    result,
                )
            stale_values = version.values.exclude(key__in=list(policy["values"]))
            if stale_values.exists():
                result.updated.append(
                    f"{code} “{policy['name']}”: removed {', '.join(stale_values.values_list('key', flat=True))}"
                )
                stale_values.delete()

    for data in programs:
        required = [saved.get(c) or Program.objects.get(code=c) for c in data.get("requires", [])]
        program = saved[data["code"]]
        if set(program.requires.all()) != set(required):
            program.requires.set(required)
            result.updated.append(f"program {data['code']} requirements")
        taught = [saved.get(c) or Program.objects.get(code=c) for c in data.get("teaches", [])]
        if set(program.teaches.all()) != set(taught):
            program.teaches.set(taught)
            result.updated.append(f"program {data['code']} taught programs")

    if result.changed:
        record(
            actor=actor,
            verb="programs.definition_loaded",
            data={"source": source, "created": result.created, "updated": result.updated},
        )
    return result


def load_definition_file(
    path: Path, *, only: list[str] | None = None, actor: Any | None = None, first_position: int = 0
) -> LoadResult:
    return load_definition(
        path.read_text(encoding="utf-8"),
        source=str(path.name),
        only=only,
        actor=actor,
        first_position=first_position,
    )
