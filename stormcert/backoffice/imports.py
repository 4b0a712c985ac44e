"""Importing the earlier system's records (a CSV file) as certificates and claimable records.

The file: one row per record, with the columns name, email, certificate number, program, issue
date, expiry date, status and progress (header names are matched loosely: "Certificate number",
"certificate_number" and "certificate" are the same column).

- **Checking** (the dry run) says, per line, what would be created, updated, left unchanged or
  rejected, and why. It runs in chunks (`check_next`) so the page can show its progress and a
  large file never holds one request for long.
- **Importing** (`apply_run`) checks every row again against the database as it is now and
  writes all of them in one transaction, or nothing if any row is rejected.
- **Re-running** the same file changes nothing: a record is keyed by its certificate number
  (or, for progress without a certificate, by program and email), so rows update in place.

Each distinct email on file gets one placeholder account (inactive, no password) that holds its
certificates until the person claims them (accounts.claims); the certificates keep their
original numbers (in the canonical form, lib.numbers: "abc-7 " is stored as "ABC-7") and appear
in the directory straight away.
"""

from __future__ import annotations

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
from stormcert.backoffice.models import ImportRun, RunStatus
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import entry_fields, refresh_directory_entries, sort_name_for
from stormcert.lib.csvread import CsvLineError, csv_rows
from stormcert.lib.numbers import canonical_number, number_problem
from stormcert.programs.models import Program

# A small file in the expected shape: the staff page offers it to start from; the demo imports it.
SAMPLE = Path(__file__).parent / "samples" / "owp_sample.csv"
MAX_BYTES = 25 * 1024 * 1024
CHUNK = 2000
PLACEHOLDER_DOMAIN = "legacy.invalid"  # RFC 2606: never deliverable, never anyone's address
REVOKED_REASON = "Revoked in the earlier system."
SHOWN = 200  # rows per outcome listed on the page; the CSV report has them all

COLUMNS = ("name", "email", "certificate_number", "program", "issued_on", "expires_on", "status", "progress")
ALIASES = {
    "name": "name",
    "full_name": "name",
    "email": "email",
    "email_address": "email",
    "certificate_number": "certificate_number",
    "certificate": "certificate_number",
    "certificate_no": "certificate_number",
    "number": "certificate_number",
    "program": "program",
    "issued_on": "issued_on",
    "issue_date": "issued_on",
    "issued": "issued_on",
    "expires_on": "expires_on",
    "expiry_date": "expires_on",
    "expiration_date": "expires_on",
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
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why."""


# --- Reading the file ----------------------------------------------------------------------


def _column(header: str) -> str | None:
    key = "_".join(header.strip().lower().replace("-", " ").replace(".", " ").split())
    return ALIASES.get(key)


def read_header(text: str) -> dict[int, str]:
    try:
        _, header = next(csv_rows(text))
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except CsvLineError as exc:
        raise ImportFileError(str(exc)) from None
    mapping = {i: col for i, h in enumerate(header) if (col := _column(h))}
    missing = [c for c in COLUMNS if c not in mapping.values() and c != "progress"]
    if missing:
        names = ", ".join(c.replace("_", " ") for c in missing)
        raise ImportFileError(
            f"The first line must name the columns; missing: {names}. "
            f"Expected: {', '.join(c.replace('_', ' ') for c in COLUMNS)}."
        )
    return mapping


def rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) for each data row; blank lines are skipped."""
    mapping = read_header(text)
    reader = csv_rows(text)
    next(reader)
    try:
        for line, cells in reader:
            if not any(c.strip() for c in cells):
                continue
            values = {col: (cells[i].strip() if i < len(cells) else "") for i, col in mapping.items()}
            if "certificate_number" in values:
                # Stored as every number is (lib.numbers), so the keys, the checks against existing
                # records and the certificates made all see one form.
                values["certificate_number"] = canonical_number(values["certificate_number"])
            yield line, values
    except CsvLineError as exc:
        # Counting the rows at upload reads the whole file, so a broken row is refused there.
        raise ImportFileError(str(exc)) from None


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


def _date(column: str, text: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise Reject(column, text, f"{column.replace('_', ' ')} is required for a certificate")
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, not a moment)
        except ValueError:
            continue
    raise Reject(column, text, "not a date: write it as YYYY-MM-DD (or MM/DD/YYYY)")


@dataclass
class Context:
    """What the rows are checked against: programs, and the records and numbers that exist."""

    programs: dict[str, Program]
    steps: dict[int, set[str]]
    today: date
    seen: dict[tuple[str, ...], int] = field(default_factory=dict)  # key -> first line in the file
    records: dict[tuple[str, ...], LegacyRecord] = field(default_factory=dict)
    # Every certificate whose number a chunk's rows use, by upper-cased number: one a row may only
    # update if it is the certificate of the imported record that row matches.
    certificates: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # pk, number, source

    @classmethod
    def build(cls, now: datetime) -> Context:
        programs: dict[str, Program] = {}
        steps: dict[int, set[str]] = {}
        for p in Program.objects.prefetch_related("steps"):
            programs[p.code.lower()] = p
            programs.setdefault(p.short_name.lower(), p)
            steps[p.pk] = {s.code for s in p.steps.all()}
        return cls(programs=programs, steps=steps, today=timezone.localdate(now))

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
        for pk, number, source in (
            Certificate.objects.annotate(upper_number=Upper("number"))
            .filter(upper_number__in=numbers)
            .values_list("pk", "number", "source")
        ):
            self.certificates[number.upper()] = (pk, number, source)


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
        _, number, source = held
        return Verdict(
            line,
            "reject",
            column="certificate_number",
            value=row.number,
            reason=(
                "this number belongs to a certificate issued by stormcert, not an imported one"
                if source != Source.LEGACY
                else f"certificate {number} already exists and was not imported from this record"
            ),
        )
    note = ""
    if row.status == LegacyStatus.ACTIVE and row.expires_on and row.expires_on < ctx.today:
        note = "status says active but the expiry date has passed: it will show as expired"
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
    program = ctx.programs.get(program_text.strip().lower())
    if program is None:
        known = ", ".join(sorted({p.code for p in ctx.programs.values()}))
        raise Reject("program", program_text, f"unknown program (known: {known})")
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
    return Row(line, name, email, number, program, issued, expires, status, progress)


# --- The run: start, check in chunks, apply ------------------------------------------------------


def start_run(*, actor: User, filename: str, data: bytes, now: datetime | None = None) -> ImportRun:
    now = now or timezone.now()
    text = decode(data)
    total = sum(1 for _ in rows(text))
    if total == 0:
        raise ImportFileError("The file has a header line but no records.")
    run = ImportRun.objects.create(
        created_by=actor,
        created_at=now,
        filename=filename[:200],
        content=text,
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
    return run


def _empty_report() -> dict[str, Any]:
    return {"create": [], "update": [], "unchanged": [], "reject": [], "notes": []}


def _add(report: dict[str, Any], verdicts: list[Verdict]) -> None:
    for v in verdicts:
        if v.outcome == "reject":
            report["reject"].append({"line": v.line, "field": v.column, "value": v.value, "reason": v.reason})
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
        for index, (line, cells) in enumerate(rows(run.content)):
            if index < start:
                # Earlier rows count for "already on line n" checks.
                ctx.seen.setdefault(_key_of(cells, ctx), line)
            elif index < start + chunk:
                todo.append((line, cells))
            else:
                break
        ctx.load(todo)
        _add(run.report, [check_row(line, cells, ctx) for line, cells in todo])
        run.checked_rows = start + len(todo)
        if run.checked_rows >= run.total_rows:
            run.status = RunStatus.CHECKED
        run.save(update_fields=["report", "checked_rows", "status"])
    return run


def _key_of(cells: dict[str, str], ctx: Context) -> tuple[str, ...]:
    number = cells.get("certificate_number", "").strip()
    if number:
        return ("n", number.upper())
    program = ctx.programs.get(cells.get("program", "").strip().lower())
    return ("p", str(program.pk if program else ""), cells.get("email", "").strip().lower())


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
        all_rows = list(rows(run.content))
        for i in range(0, len(all_rows), CHUNK):
            ctx.load(all_rows[i : i + CHUNK])
        verdicts = [check_row(line, cells, ctx) for line, cells in all_rows]
        report = _empty_report()
        _add(report, verdicts)
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


def _split_name(name: str) -> tuple[str, str]:
    """“Garcia, Maria” and “Maria Garcia” both give ("Maria", "Garcia")."""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip()[:150], last.strip()[:150]
    first, _, last = name.rpartition(" ")
    return first[:150], last[:150]


def _directory(name: str, number: str) -> dict[str, str]:
    """The directory entry of an imported certificate: its placeholder holder has a name and no
    contact details to show."""
    first, last = _split_name(name)
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
            first, last = _split_name(r.name)
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
                **_directory(r.name, r.number),
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
        holder.first_name, holder.last_name = _split_name(v.row.name)
        holder.save(update_fields=["first_name", "last_name"])
        Certificate.objects.filter(pk=v.existing.certificate_id or 0).update(
            **_directory(v.row.name, v.row.number)
        )
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
