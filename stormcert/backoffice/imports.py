"""Importing the earlier system's records (a CSV file) as certificates and claimable records.

The file: one row per record, with a header line naming its columns. Other systems name and
split them their own way, so after the upload staff **match the columns** (`map_columns`): for
each field (name, or first and last name, which are joined "First Last"; email, certificate
number, program, issue date, expiry date, status, progress) which column it comes from. The
choices are pre-filled: as staff matched them for the last file with the same header, else by
the column names (loosely: "Certificate number", "certificate_no" and "Cert #" are the same
column), else as in the last file matched. What staff confirm is remembered (ColumnMapping).

- **Programs** are named by code, short name or one of the aliases the program definition
  declares (`aliases = [...]`), in any case and with any surrounding spaces.
- **Dates** are written month first, as US programs write them: MM/DD/YYYY or M/D/YYYY (also
  with dashes), YYYY-MM-DD, or "Nov 29, 2028". Day-first dates are not read (03/04/2025 is March
  4), and two-digit years are refused rather than guessed (is 28 1928 or 2028?).
- **Line numbers** are the row numbers a spreadsheet shows for the file: the header is line 1,
  the first record line 2. A quoted cell holding line breaks is one row, as in a spreadsheet
  (so a line number can be smaller than the line of the text file the row starts on; a row that
  cannot be read as CSV names both).
- **Checking** (the dry run) says, per line, what would be created, updated, left unchanged or
  rejected, and why. It runs in chunks (`check_next`) so the page can show its progress and a
  large file never holds one request for long.
- **Importing** (`apply_run`) checks every row again against the database as it is now and
  writes all of them in one transaction, or nothing if any row is rejected.
- **Re-running** the same file changes nothing: a record is keyed by its certificate number
  (or, for progress without a certificate, by program and email), so rows update in place.
  A number already on a certificate that no earlier import of this record made (one issued
  here, or imported without a record) is rejected by line, naming whose it is.

Each distinct email on file gets one placeholder account (inactive, no password) that holds its
certificates until the person claims them (accounts.claims); the certificates keep their
original numbers (in the canonical form, lib.numbers: "abc-7 " is stored as "ABC-7") and appear
in the directory straight away.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time as clock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone

from stormcert.accounts.models import LegacyRecord, LegacyStatus, Profile, User
from stormcert.audit.services import record as audit
from stormcert.backoffice.models import ColumnMapping, ImportRun, RunStatus
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import entry_fields, refresh_directory_entries, sort_name_for
from stormcert.lib.csvread import CsvLineError, csv_rows
from stormcert.lib.numbers import canonical_number, number_problem
from stormcert.programs.models import Program, name_key

# A small file in the expected shape: the staff page offers it to start from; the demo imports it.
SAMPLE = Path(__file__).parent / "samples" / "owp_sample.csv"
MAX_BYTES = 25 * 1024 * 1024
CHUNK = 2000
PLACEHOLDER_DOMAIN = "legacy.invalid"  # RFC 2606: never deliverable, never anyone's address
REVOKED_REASON = "Revoked in the earlier system."
SHOWN = 200  # rows per outcome listed on the page; the CSV report has them all
SAMPLE_ROWS = 5  # rows shown beside the column choices

# The columns of a file in this system's own shape (the sample file, the page's example).
COLUMNS = ("name", "email", "certificate_number", "program", "issued_on", "expires_on", "status", "progress")
# Every field a column can give; a name comes whole or as first and last name.
FIELDS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "certificate_number",
    "program",
    "issued_on",
    "expires_on",
    "status",
    "progress",
)
LABELS = {
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "certificate_number": "Certificate number",
    "program": "Program",
    "issued_on": "Issue date",
    "expires_on": "Expiry date",
    "status": "Status",
    "progress": "Progress",
}
NAME_FIELDS = ("name", "first_name", "last_name")
REQUIRED = ("email", "certificate_number", "program", "issued_on", "expires_on", "status")
# Column names matched without asking (after lower-casing, and turning everything but letters
# and digits into "_": "Cert #" is "cert", "E-mail" is "e_mail").
ALIASES = {
    "name": "name",
    "full_name": "name",
    "holder": "name",
    "holder_name": "name",
    "first_name": "first_name",
    "first": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "certificate_number": "certificate_number",
    "certificate": "certificate_number",
    "certificate_no": "certificate_number",
    "certificate_id": "certificate_number",
    "cert": "certificate_number",
    "cert_no": "certificate_number",
    "cert_number": "certificate_number",
    "number": "certificate_number",
    "program": "program",
    "program_code": "program",
    "issued_on": "issued_on",
    "issue_date": "issued_on",
    "issued": "issued_on",
    "date_issued": "issued_on",
    "issued_date": "issued_on",
    "expires_on": "expires_on",
    "expiry_date": "expires_on",
    "expiration_date": "expires_on",
    "expiration": "expires_on",
    "expiry": "expires_on",
    "expires": "expires_on",
    "status": "status",
    "progress": "progress",
}
STATUS_WORDS = {
    "active": LegacyStatus.ACTIVE,
    "current": LegacyStatus.ACTIVE,
    "expired": LegacyStatus.EXPIRED,
    "revoked": LegacyStatus.REVOKED,
    "in_progress": LegacyStatus.IN_PROGRESS,
    "in progress": LegacyStatus.IN_PROGRESS,
    "in-progress": LegacyStatus.IN_PROGRESS,
}
DATE_FORMS = "MM/DD/YYYY (or M/D/YYYY), YYYY-MM-DD or Nov 29, 2028"


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why."""


class MappingError(Exception):
    """The columns chosen do not give what an import needs; `problems` says why, by field
    ("" for the choice as a whole)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# --- Reading the file ----------------------------------------------------------------------


def _normal(header: str) -> str:
    return "_".join(re.sub(r"[\W_]+", " ", header.casefold()).split())


def _column(header: str) -> str | None:
    return ALIASES.get(_normal(header))


def letter(index: int) -> str:
    """A column's letter as a spreadsheet shows it: A, B, …, Z, AA, AB, …"""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _broken(row: int, exc: CsvLineError) -> str:
    if row == exc.line:
        return f"Line {row:,}: {exc.reason}"
    # A quoted cell with line breaks earlier in the file: the spreadsheet's row and the text's
    # line differ, and either may be what the person opens.
    return f"Line {row:,} (line {exc.line:,} of the file as text): {exc.reason}"


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) for every row of the file, the header (row 1) included.
    Blank lines are rows, as in a spreadsheet; a cell holding line breaks does not add any."""
    reader = csv_rows(text)
    row = 0
    while True:
        try:
            _, cells = next(reader)
        except StopIteration:
            return
        except CsvLineError as exc:
            raise ImportFileError(_broken(row + 1, exc)) from None
        row += 1
        yield row, cells


def read_header(text: str) -> list[str]:
    """The file's first line: its column names."""
    for _, header in _records(text):
        if not any(h.strip() for h in header):
            raise ImportFileError(
                "The first line must name the columns (it is empty): add a header line, e.g. "
                f"{','.join(COLUMNS)}."
            )
        return [h.strip() for h in header]
    raise ImportFileError("The file is empty.")


def header_signature(header: list[str]) -> str:
    """The same for two headers whose column names differ only in case, spaces or punctuation."""
    return hashlib.sha256("\x1f".join(_normal(h) for h in header).encode()).hexdigest()


def by_name(header: list[str]) -> dict[str, int]:
    """The fields the column names give (loosely matched), each from its first such column."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _column(name)
        if column is not None:
            found.setdefault(column, index)
    if "first_name" in found and "last_name" in found:
        found.pop("name", None)  # first and last name are the finer choice
    else:
        found.pop("first_name", None)
        found.pop("last_name", None)
    return found


@dataclass
class Suggestion:
    mapping: dict[str, int]
    how: str  # what the pre-filled choices are based on, to show above them


def suggest(header: list[str]) -> Suggestion:
    """The pre-filled column choices for a file with this header."""
    remembered = ColumnMapping.objects.filter(signature=header_signature(header)).first()
    if remembered is not None and _fits(remembered.mapping, header):
        return Suggestion(
            dict(remembered.mapping),
            f"as matched for the last file with this header ({_day(remembered.used_at)})",
        )
    mapping = by_name(header)
    how = "by the column names"
    last = ColumnMapping.objects.first()
    if last is not None:
        # The last file's choices, by column name, for the fields the names did not give.
        positions = {_normal(h): i for i, h in reversed(list(enumerate(header)))}
        used = set(mapping.values())
        # A name the column names gave is not mixed with the last file's way of giving it.
        named = any(n in mapping for n in NAME_FIELDS)
        added = False
        for name, index in last.mapping.items():
            if name in mapping or not 0 <= index < len(last.header) or (named and name in NAME_FIELDS):
                continue
            here = positions.get(_normal(last.header[index]))
            if here is not None and here not in used:
                mapping[name] = here
                used.add(here)
                added = True
        if added and not mapping_problems(mapping, header):
            how = "by the column names and as in the last file matched"
        elif added:
            how = "by the column names and as in the last file matched (check them)"
    return Suggestion(mapping, how)


def _day(moment: datetime) -> str:
    day = timezone.localdate(moment)
    return f"{day:%b} {day.day}, {day.year}"


def _fits(mapping: dict[str, int], header: list[str]) -> bool:
    return all(name in FIELDS and isinstance(i, int) and 0 <= i < len(header) for name, i in mapping.items())


def mapping_problems(mapping: dict[str, int], header: list[str]) -> dict[str, str]:
    """Why these choices cannot be imported, by field ("" for the choice as a whole); empty when
    they can."""
    problems: dict[str, str] = {}
    for name, index in mapping.items():
        if name not in FIELDS:
            problems[""] = f"unknown field {name!r}"
        elif not 0 <= index < len(header):
            problems[name] = f"the file has no column {letter(index) if index >= 0 else index}"
    whole, first, last = ("name" in mapping), ("first_name" in mapping), ("last_name" in mapping)
    if whole and (first or last):
        problems["name"] = (
            "choose either one column with the whole name, or first and last name columns, not both"
        )
    elif not whole and first != last:
        missing = "last_name" if first else "first_name"
        problems[missing] = (
            f"choose the {LABELS[missing].lower()} column too (or one column with the whole name)"
        )
    elif not whole and not first:
        problems["name"] = "required: choose the name column, or first and last name columns"
    for name in REQUIRED:
        if name not in mapping:
            problems[name] = f"required: choose the column with the {LABELS[name].lower()}"
    by_column: dict[int, list[str]] = {}
    for name in FIELDS:
        if name in mapping:
            by_column.setdefault(mapping[name], []).append(name)
    for index, names in by_column.items():
        if len(names) > 1 and 0 <= index < len(header):
            for name in names[1:]:
                problems.setdefault(
                    name,
                    f"column {letter(index)} (“{header[index]}”) is already chosen for "
                    f"{LABELS[names[0]].lower()}; each column gives one field",
                )
    return problems


def rows(text: str, mapping: dict[str, int]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {field: value}) for each data row; blank lines are skipped (and counted)."""
    records = _records(text)
    next(records, None)
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "") for name, i in mapping.items()}
        if "name" not in mapping:
            values["name"] = " ".join(f"{values.get('first_name', '')} {values.get('last_name', '')}".split())
        if "certificate_number" in values:
            # Stored as every number is (lib.numbers), so the keys, the checks against existing
            # records and the certificates made all see one form.
            values["certificate_number"] = canonical_number(values["certificate_number"])
        yield line, values


def sample_rows(text: str, count: int = SAMPLE_ROWS) -> list[tuple[int, list[str]]]:
    """The first few data rows (line number, cells), to show beside the column choices."""
    out = []
    records = _records(text)
    next(records, None)
    for line, cells in records:
        if any(c.strip() for c in cells):
            out.append((line, cells))
            if len(out) == count:
                break
    return out


def run_mapping(run: ImportRun) -> dict[str, int]:
    """The columns a run reads (runs uploaded before columns were chosen read them by name)."""
    return run.mapping or by_name(run.header or read_header(run.content))


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into parts."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {exc.start + 1}). Save it from the spreadsheet as "
            "“CSV UTF-8” and upload it again."
        ) from None


# --- Checking one row -----------------------------------------------------------------------


@dataclass
class Row:
    line: int
    name: str
    email: str
    number: str
    program: Program
    issued_on: date | None
    expires_on: date | None
    status: str
    progress: list[str]
    parts: tuple[str, str] | None = None  # (first, last) when the file gives them apart

    @property
    def key(self) -> tuple[str, ...]:
        return ("n", self.number.upper()) if self.number else ("p", str(self.program.pk), self.email)


@dataclass
class Verdict:
    line: int
    outcome: str  # create, update, unchanged, reject
    row: Row | None = None
    existing: LegacyRecord | None = None
    column: str = ""
    value: str = ""
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    note: str = ""


class Reject(Exception):
    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
} | {"sept": 9}
ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
US = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})")
WORDS = re.compile(r"([A-Za-z]+)\.? +(\d{1,2}),? +(\d{4})")


def read_date(text: str) -> date:
    """A date as US programs' files write it; ValueError says what is wrong and what is read."""
    if m := ISO.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := US.fullmatch(text):
        month, day, year = int(m[1]), int(m[3]), int(m[4])
        if len(m[4]) == 2:
            raise ValueError(
                f"a two-digit year is not read (is {m[4]} 19{m[4]} or 20{m[4]}?): write the year in full, "
                f"e.g. {m[1]}{m[2]}{m[3]}{m[2]}20{m[4]}"
            )
        if month > 12 and day <= 12:
            raise ValueError(
                "this reads as day first; dates are read month first (MM/DD/YYYY), as US programs write them"
            )
    elif (m := WORDS.fullmatch(text)) and m[1].casefold() in MONTHS:
        month, day, year = MONTHS[m[1].casefold()], int(m[2]), int(m[3])
    else:
        raise ValueError(f"not a date: write it as {DATE_FORMS}")
    if year < 1900:
        raise ValueError(f"the year {year} is not plausible: write it as {DATE_FORMS}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"not a date (no such day): write it as {DATE_FORMS}") from None


def _date(column: str, text: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise Reject(column, text, f"{LABELS[column].lower()} is required for a certificate")
        return None
    try:
        return read_date(text)
    except ValueError as exc:
        raise Reject(column, text, str(exc)) from None


@dataclass
class Context:
    """What the rows are checked against: programs, and the records and numbers that exist."""

    programs: dict[str, Program]  # by name_key of code, short name and each alias
    steps: dict[int, set[str]]
    today: date
    seen: dict[tuple[str, ...], int] = field(default_factory=dict)  # key -> first line in the file
    records: dict[tuple[str, ...], LegacyRecord] = field(default_factory=dict)
    # Every certificate whose number a chunk's rows use, by upper-cased number: one a row may only
    # update if it is the certificate of the imported record that row matches.
    # pk, number, source, holder's name
    certificates: dict[str, tuple[int, str, str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, now: datetime) -> Context:
        programs: dict[str, Program] = {}
        steps: dict[int, set[str]] = {}
        for p in Program.objects.prefetch_related("steps"):
            # Codes first, then short names and aliases: the loader keeps aliases from naming
            # two programs, and a code always names its own program.
            programs[name_key(p.code)] = p
            steps[p.pk] = {s.code for s in p.steps.all()}
        for p in {p.pk: p for p in programs.values()}.values():
            for name in p.names():
                programs.setdefault(name_key(name), p)
        return cls(programs=programs, steps=steps, today=timezone.localdate(now))

    def program(self, text: str) -> Program | None:
        return self.programs.get(name_key(text))

    def known_programs(self) -> str:
        """Every program's code with its other names, for the message about an unknown one."""
        known = {p.pk: p for p in self.programs.values()}.values()
        return "; ".join(
            p.code + (f" (also {', '.join(others)})" if (others := p.names()[1:]) else "")
            for p in sorted(known, key=lambda p: (p.position, p.code))
        )

    def load(self, chunk: list[tuple[int, dict[str, str]]]) -> None:
        """Fetch the existing records and certificates the chunk's rows could touch."""
        # Numbers are compared upper-cased: ABC-1 and abc-1 are one certificate to a reader.
        numbers = {cells.get("certificate_number", "").upper() for _, cells in chunk} - {""}
        emails = {cells.get("email", "").lower() for _, cells in chunk if not cells.get("certificate_number")}
        found = (
            LegacyRecord.objects.annotate(upper_number=Upper("certificate_number"))
            .filter(upper_number__in=numbers)
            .select_related("holder")
        )
        for numbered in found:
            self.records[("n", numbered.certificate_number.upper())] = numbered
        for r in LegacyRecord.objects.filter(certificate_number="", email__in=emails).select_related(
            "holder"
        ):
            self.records[("p", str(r.program_id), r.email)] = r
        for pk, number, source, holder in (
            Certificate.objects.annotate(upper_number=Upper("number"))
            .filter(upper_number__in=numbers)
            .values_list("pk", "number", "source", "holder_name")
        ):
            self.certificates[number.upper()] = (pk, number, source, holder)


def check_row(line: int, cells: dict[str, str], ctx: Context) -> Verdict:
    try:
        row = _parse(line, cells, ctx)
    except Reject as r:
        return Verdict(line, "reject", column=r.field, value=r.value[:80], reason=r.reason)
    first = ctx.seen.setdefault(row.key, line)
    if first != line:
        what = f"certificate number {row.number}" if row.number else f"progress for {row.email}"
        return Verdict(
            line,
            "reject",
            column="certificate_number" if row.number else "email",
            value=row.number or row.email,
            reason=f"{what} is already on line {first}",
        )
    existing = ctx.records.get(row.key)
    held = ctx.certificates.get(row.number.upper()) if row.number else None
    if held is not None and (existing is None or existing.certificate_id != held[0]):
        # The number is on a certificate that is not this record's: creating it again would fail
        # on the unique number when applied (demo data and older imports hold legacy certificates
        # without a record), so the dry run refuses the line.
        _, number, source, holder = held
        return Verdict(
            line,
            "reject",
            column="certificate_number",
            value=row.number,
            reason=f"certificate number {number} is already on file for {holder or 'someone else'} — "
            + (
                "issued by this system"
                if source != Source.LEGACY
                else "from an earlier import, and not as this record"
            ),
        )
    notes = []
    if row.status == LegacyStatus.ACTIVE and row.expires_on and row.expires_on < ctx.today:
        notes.append("status says active but the expiry date has passed: it will show as expired")
    if existing is not None and row.number and existing.email != row.email:
        # The number was imported before with another address: a corrected file, or two people
        # given one number. Either way staff should see it before the record moves.
        notes.append(f"the email on file for {row.number} changes from {existing.email} to {row.email}")
    note = "; ".join(notes)
    if existing is None:
        return Verdict(line, "create", row=row, note=note)
    if existing.program_id != row.program.pk:
        return Verdict(
            line,
            "reject",
            column="program",
            value=cells.get("program", ""),
            reason=f"this number was imported before for {existing.program}; a number keeps its program",
        )
    changes = [
        name
        for name, new in (
            ("name", row.name),
            ("email", row.email),
            ("issued_on", row.issued_on),
            ("expires_on", row.expires_on),
            ("status", row.status),
            ("progress", row.progress),
        )
        if getattr(existing, name) != new
    ]
    return Verdict(
        line, "update" if changes else "unchanged", row=row, existing=existing, changes=changes, note=note
    )


def _parse(line: int, cells: dict[str, str], ctx: Context) -> Row:
    name = " ".join(cells.get("name", "").split())
    parts = None
    if "first_name" in cells or "last_name" in cells:
        parts = (" ".join(cells.get("first_name", "").split()), " ".join(cells.get("last_name", "").split()))
    if not name:
        raise Reject("name", "", "a name is required")
    if len(name) > 300:
        raise Reject("name", name, "the name is longer than 300 characters")
    email = cells.get("email", "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Reject(
            "email", email, "not an email address" if email else "an email address is required"
        ) from None
    program_text = cells.get("program", "")
    program = ctx.program(program_text)
    if program is None:
        raise Reject("program", program_text, f"unknown program; known: {ctx.known_programs()}")
    status_text = cells.get("status", "")
    status = STATUS_WORDS.get(status_text.strip().lower())
    if status is None:
        raise Reject("status", status_text, "status must be active, expired, revoked or in progress")
    number = cells.get("certificate_number", "").strip()
    if len(number) > 40:
        raise Reject("certificate_number", number, "the certificate number is longer than 40 characters")
    if number and (bad := number_problem(number)):
        raise Reject("certificate_number", number.encode("unicode_escape").decode(), bad)
    if status == LegacyStatus.IN_PROGRESS:
        if number:
            raise Reject("status", status_text, "a record with a certificate number cannot be in progress")
        issued = _date("issued_on", cells.get("issued_on", ""), required=False)
        expires = _date("expires_on", cells.get("expires_on", ""), required=False)
        if issued or expires:
            raise Reject(
                "issued_on" if issued else "expires_on",
                cells.get("issued_on") or cells.get("expires_on", ""),
                "a record in progress has no certificate dates",
            )
    else:
        if not number:
            raise Reject(
                "certificate_number", "", "a certificate number is required unless the status is in progress"
            )
        issued = _date("issued_on", cells.get("issued_on", ""), required=True)
        expires = _date("expires_on", cells.get("expires_on", ""), required=False)
        if issued and expires and expires < issued:
            raise Reject(
                "expires_on", cells.get("expires_on", ""), "the expiry date is before the issue date"
            )
        if issued and issued > ctx.today:
            raise Reject("issued_on", cells.get("issued_on", ""), "the issue date is in the future")
        if status == LegacyStatus.EXPIRED and (expires is None or expires >= ctx.today):
            raise Reject("status", status_text, "status says expired but the expiry date has not passed")
    progress_text = cells.get("progress", "")
    progress = [p.strip() for p in progress_text.replace("|", ";").replace(",", ";").split(";") if p.strip()]
    unknown = [p for p in progress if p not in ctx.steps.get(program.pk, set())]
    if unknown:
        allowed = ", ".join(sorted(ctx.steps.get(program.pk, set())))
        raise Reject(
            "progress", progress_text, f"unknown step {unknown[0]!r} (steps of {program}: {allowed})"
        )
    return Row(line, name, email, number, program, issued, expires, status, progress, parts)


# --- The run: start, check in chunks, apply ------------------------------------------------------


def start_run(
    *,
    actor: User,
    filename: str,
    data: bytes,
    mapping: dict[str, int] | None = None,
    now: datetime | None = None,
) -> ImportRun:
    """Keep the uploaded file; its columns are matched next (`map_columns`), pre-filled with
    `suggest`. With `mapping`, the columns are matched at once and the dry run can start."""
    now = now or timezone.now()
    text = decode(data)
    header = read_header(text)
    total = sum(1 for _, cells in _records(text) if any(c.strip() for c in cells)) - 1
    if total <= 0:
        raise ImportFileError("The file has a header line but no records.")
    run = ImportRun.objects.create(
        created_by=actor,
        created_at=now,
        filename=filename[:200],
        content=text,
        header=header,
        mapping=suggest(header).mapping,
        status=RunStatus.MAPPING,
        total_rows=total,
        report=_empty_report(),
    )
    audit(
        actor=actor,
        verb="legacy.import_uploaded",
        obj=run,
        data={"rows": total, "file": filename[:200]},
        now=now,
    )
    if mapping is not None:
        run = map_columns(run=run, mapping=mapping, actor=actor, now=now)
    return run


def map_columns(
    *, run: ImportRun, mapping: dict[str, int], actor: User, now: datetime | None = None
) -> ImportRun:
    """Read the file with these columns: the dry run starts (again, if it had begun with other
    columns), and the choice is remembered for the next file with this header."""
    now = now or timezone.now()
    with transaction.atomic():
        run = ImportRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
        if run.status == RunStatus.APPLIED:
            raise ImportFileError(
                "This file is already imported; upload it again to read it with other columns."
            )
        header = run.header or read_header(run.content)
        mapping = {name: int(index) for name, index in mapping.items()}
        problems = mapping_problems(mapping, header)
        if problems:
            raise MappingError(problems)
        run.header, run.mapping = header, mapping
        run.status, run.checked_rows, run.report = RunStatus.CHECKING, 0, _empty_report()
        run.save(update_fields=["header", "mapping", "status", "checked_rows", "report"])
        ColumnMapping.objects.update_or_create(
            signature=header_signature(header),
            defaults={"header": header, "mapping": mapping, "used_at": now, "used_by": actor},
        )
        audit(
            actor=actor,
            verb="legacy.import_columns",
            obj=run,
            data={name: f"{letter(i)} {header[i]}" for name, i in mapping.items()},
            now=now,
        )
    return run


def column_names(run: ImportRun) -> dict[str, str]:
    """Each field's column as the page names it: “C (Cert #)”."""
    header = run.header
    return {
        name: f"{letter(i)} (“{header[i]}”)" if i < len(header) else letter(i)
        for name, i in run_mapping(run).items()
    }


def _empty_report() -> dict[str, Any]:
    return {"create": [], "update": [], "unchanged": [], "reject": [], "notes": []}


def _add(report: dict[str, Any], verdicts: list[Verdict], columns: dict[str, str]) -> None:
    for v in verdicts:
        if v.outcome == "reject":
            report["reject"].append(
                {
                    "line": v.line,
                    "field": v.column,
                    "value": v.value,
                    "reason": v.reason,
                    # The file's own column, so the cell can be found in the spreadsheet.
                    "column": columns.get(v.column, ""),
                }
            )
            continue
        if v.row is None:  # every verdict but a rejection carries its row
            continue
        entry: dict[str, Any] = {"line": v.line, "key": v.row.number or v.row.email, "name": v.row.name}
        if v.changes:
            entry["changes"] = v.changes
        report[v.outcome].append(entry)
        if v.note:
            report["notes"].append({"line": v.line, "note": v.note})


def check_next(*, run: ImportRun, chunk: int = CHUNK, now: datetime | None = None) -> ImportRun:
    """Check the next `chunk` rows of the dry run and save the progress."""
    now = now or timezone.now()
    with transaction.atomic():
        run = ImportRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
        if run.status != RunStatus.CHECKING:
            return run
        ctx = Context.build(now)
        start = run.checked_rows
        todo: list[tuple[int, dict[str, str]]] = []
        for index, (line, cells) in enumerate(rows(run.content, run_mapping(run))):
            if index < start:
                # Earlier rows count for "already on line n" checks.
                ctx.seen.setdefault(_key_of(cells, ctx), line)
            elif index < start + chunk:
                todo.append((line, cells))
            else:
                break
        ctx.load(todo)
        _add(run.report, [check_row(line, cells, ctx) for line, cells in todo], _columns(run))
        run.checked_rows = start + len(todo)
        if run.checked_rows >= run.total_rows:
            run.status = RunStatus.CHECKED
        run.save(update_fields=["report", "checked_rows", "status"])
    return run


def _key_of(cells: dict[str, str], ctx: Context) -> tuple[str, ...]:
    number = cells.get("certificate_number", "").strip()
    if number:
        return ("n", number.upper())
    program = ctx.program(cells.get("program", ""))
    return ("p", str(program.pk if program else ""), cells.get("email", "").strip().lower())


def _columns(run: ImportRun) -> dict[str, str]:
    names = column_names(run)
    if "name" not in names and "first_name" in names:
        # A name missing from first and last name columns is reported on the name.
        names["name"] = f"{names['first_name']} and {names.get('last_name', '')}"
    return names


def check_all(*, run: ImportRun, now: datetime | None = None) -> ImportRun:
    """The whole dry run in one go (the page without JavaScript, and the tests)."""
    while run.status == RunStatus.CHECKING:
        run = check_next(run=run, now=now)
    return run


class ImportRejected(Exception):
    def __init__(self, run: ImportRun) -> None:
        super().__init__(f"{run.count('reject')} rows were rejected; nothing was imported.")
        self.run = run


def apply_run(*, run: ImportRun, actor: User, now: datetime | None = None) -> ImportRun:
    """Write every row, or none: rows are checked again against the data as it is now."""
    now = now or timezone.now()
    started = clock.monotonic()
    with transaction.atomic():
        run = ImportRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
        if run.status == RunStatus.APPLIED:
            return run
        if run.status != RunStatus.CHECKED:
            raise ImportFileError("Finish the dry run first.")
        ctx = Context.build(now)
        all_rows = list(rows(run.content, run_mapping(run)))
        for i in range(0, len(all_rows), CHUNK):
            ctx.load(all_rows[i : i + CHUNK])
        verdicts = [check_row(line, cells, ctx) for line, cells in all_rows]
        report = _empty_report()
        _add(report, verdicts, _columns(run))
        if report["reject"]:
            # Something changed since the dry run (or it had rejections): nothing is written.
            run.report = report
            run.save(update_fields=["report"])
            failed = run
        else:
            failed = None
            _write(run, verdicts, actor, now)
            run.report = report
            run.status = RunStatus.APPLIED
            run.applied_at = now
            run.applied_by = actor
            run.seconds = round(clock.monotonic() - started, 2)
            run.save(update_fields=["report", "status", "applied_at", "applied_by", "seconds"])
            audit(
                actor=actor,
                verb="legacy.imported",
                obj=run,
                data={k: len(report[k]) for k in ("create", "update", "unchanged")},
                now=now,
            )
    if failed is not None:
        raise ImportRejected(failed)
    return run


def _first_last(row: Row) -> tuple[str, str]:
    if row.parts is not None and all(row.parts):
        return row.parts[0][:150], row.parts[1][:150]
    return _split_name(row.name)


def _split_name(name: str) -> tuple[str, str]:
    """“Garcia, Maria” and “Maria Garcia” both give ("Maria", "Garcia")."""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip()[:150], last.strip()[:150]
    first, _, last = name.rpartition(" ")
    return first[:150], last[:150]


def _directory(row: Row) -> dict[str, str]:
    """The directory entry of an imported certificate: its placeholder holder has a name and no
    contact details to show."""
    first, last = _first_last(row)
    name, number = row.name, row.number
    return entry_fields(
        name=f"{first} {last}".strip()[:301],
        sort_name=sort_name_for(first, last, name)[:301],
        number=number,
        profile=None,
    )


def _write(run: ImportRun, verdicts: list[Verdict], actor: User, now: datetime) -> None:
    creates = [v.row for v in verdicts if v.outcome == "create" and v.row is not None]
    updates = [v for v in verdicts if v.outcome == "update"]

    # One holder per email on file: whoever already holds records for it (its placeholder, or the
    # person who claimed them), else a new placeholder.
    holders: dict[str, User] = {}
    emails = {r.email for r in creates}
    for known in LegacyRecord.objects.filter(email__in=emails).select_related("holder"):
        if known.claimed_at is not None or known.email not in holders:
            holders[known.email] = known.holder
    new_people: dict[str, User] = {}
    for r in creates:
        if r.email not in holders and r.email not in new_people:
            first, last = _first_last(r)
            new_people[r.email] = User(
                email=f"legacy-{uuid.uuid4().hex}@{PLACEHOLDER_DOMAIN}",
                first_name=first,
                last_name=last,
                placeholder=True,
                is_active=False,
                password=make_password(None),
                date_joined=now,
            )
    User.objects.bulk_create(new_people.values(), batch_size=1000)
    Profile.objects.bulk_create([Profile(user=u) for u in new_people.values()], batch_size=1000)
    holders.update(new_people)

    certificates: dict[str, Certificate] = {}
    for r in creates:
        if r.number and r.issued_on is not None:  # checking made sure a certificate has both
            certificates[r.number] = Certificate(
                number=r.number,
                holder=holders[r.email],
                program=r.program,
                issued_on=r.issued_on,
                expires_on=r.expires_on,
                source=Source.LEGACY,
                issued_at=now,
                revoked_at=now if r.status == LegacyStatus.REVOKED else None,
                revoked_reason=REVOKED_REASON if r.status == LegacyStatus.REVOKED else "",
                **_directory(r),
            )
    Certificate.objects.bulk_create(certificates.values(), batch_size=1000)
    LegacyRecord.objects.bulk_create(
        [
            LegacyRecord(
                program=r.program,
                name=r.name,
                email=r.email,
                certificate_number=r.number,
                issued_on=r.issued_on,
                expires_on=r.expires_on,
                status=r.status,
                progress=r.progress,
                holder=holders[r.email],
                certificate=certificates.get(r.number),
                run=run,
                line=r.line,
                imported_at=now,
                claimed_at=None if holders[r.email].placeholder else now,
            )
            for r in creates
        ],
        batch_size=1000,
    )

    cert_ids = [v.existing.certificate_id for v in updates if v.existing and v.existing.certificate_id]
    revoked_before: dict[int, datetime | None] = {}
    for i in range(0, len(cert_ids), 500):
        revoked_before.update(
            Certificate.objects.filter(pk__in=cert_ids[i : i + 500]).values_list("pk", "revoked_at")
        )
    changed_records, changed_certs = [], []
    for v in updates:
        if v.row is None or v.existing is None:
            continue
        rec, row = v.existing, v.row
        for name in ("name", "email", "issued_on", "expires_on", "status", "progress"):
            setattr(rec, name, getattr(row, name))
        rec.run, rec.line, rec.imported_at = run, row.line, now
        changed_records.append(rec)
        if rec.certificate_id is not None and row.issued_on is not None:
            cert = Certificate(pk=rec.certificate_id, issued_on=row.issued_on, expires_on=row.expires_on)
            revoked = row.status == LegacyStatus.REVOKED
            # A certificate already revoked keeps the moment it was revoked.
            cert.revoked_at = (revoked_before.get(rec.certificate_id) or now) if revoked else None
            cert.revoked_reason = REVOKED_REASON if revoked else ""
            changed_certs.append(cert)
    LegacyRecord.objects.bulk_update(
        changed_records,
        ["name", "email", "issued_on", "expires_on", "status", "progress", "run", "line", "imported_at"],
        batch_size=500,
    )
    Certificate.objects.bulk_update(
        changed_certs, ["issued_on", "expires_on", "revoked_at", "revoked_reason"], batch_size=500
    )
    # Placeholders carry the name on file; people who claimed keep the name they gave us.
    renamed = [v for v in updates if "name" in v.changes and v.existing and v.existing.holder.placeholder]
    for v in renamed:
        if v.row is None or v.existing is None:
            continue
        holder = v.existing.holder
        holder.first_name, holder.last_name = _first_last(v.row)
        holder.save(update_fields=["first_name", "last_name"])
        Certificate.objects.filter(pk=v.existing.certificate_id or 0).update(**_directory(v.row))
    for holder in {h.pk: h for h in holders.values() if not h.placeholder}.values():
        refresh_directory_entries(holder)
    _supersede_older(
        {h.pk for h in holders.values()} | {v.existing.holder_id for v in updates if v.existing}, now
    )


def _supersede_older(holder_ids: set[int], now: datetime) -> None:
    """The directory lists one certificate per person and program: the latest issued. Older
    ones imported for the same address are marked superseded, as a renewal would mark them."""
    latest: dict[tuple[int, int], int] = {}
    older: list[int] = []
    ids = sorted(holder_ids)
    for i in range(0, len(ids), 500):
        current = (
            Certificate.objects.filter(holder_id__in=ids[i : i + 500], superseded_at__isnull=True)
            .order_by("holder_id", "program_id", "-issued_on", "-id")
            .values_list("pk", "holder_id", "program_id")
        )
        for pk, holder_id, program_id in current:
            if (holder_id, program_id) in latest:
                older.append(pk)
            else:
                latest[(holder_id, program_id)] = pk
    for i in range(0, len(older), 500):
        Certificate.objects.filter(pk__in=older[i : i + 500]).update(superseded_at=now)
