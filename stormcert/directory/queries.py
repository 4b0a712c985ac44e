"""The public directory and verification, as queries over certificates.

Everything the public may see or search by is on the certificate row itself (the denormalised
`holder_name`, `sort_name` and `search_text`; company and city are in `search_text` only when
the holder opted in), so a search is one indexed scan of one table:
- a query that looks like a certificate number is first an exact lookup on the unique index;
- words of three letters or more use the pg_trgm GIN index on `search_text` (PostgreSQL);
- a query of only shorter words is a prefix of the last name (btree pattern index);
- results are capped (DIRECTORY_RESULT_LIMIT): a person narrows a search instead of paging
  through thousands.
Status is derived from dates in the program's zone at read time, in SQL for filters.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, overload

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from stormcert.certificates.models import Certificate, Status
from stormcert.lib.numbers import canonical_number, could_be_a_number, has_odd_dash
from stormcert.programs.models import Program

NUMBER_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9._-]{3,40}$")
MIN_WORD = 3
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "number"),
    "-name": ("-sort_name", "-number"),
    "number": ("number",),
    "-number": ("-number",),
    "program": ("program__position", "sort_name", "number"),
    "-program": ("-program__position", "-sort_name", "-number"),
    "expires": ("expires_on", "sort_name", "number"),
    "-expires": ("-expires_on", "-sort_name", "-number"),
}
STATUSES = {s.value: s for s in Status}


@dataclass(frozen=True)
class ProgramLabel:
    pk: int
    code: str
    short_name: str
    position: int
    is_public: bool
    time_zone: str


PROGRAMS_KEY = "directory:programs:v1"


def program_labels() -> dict[int, ProgramLabel]:
    """The programs as the directory shows them, from the cache: every public request would
    otherwise spend three queries on a table that changes a few times a year. Saving or
    deleting a program clears it (see programs.apps)."""
    labels: dict[int, ProgramLabel] | None = cache.get(PROGRAMS_KEY)
    if labels is None:
        labels = {
            p.pk: ProgramLabel(p.pk, p.code, p.short_name or p.code, p.position, p.is_public, p.time_zone)
            for p in Program.objects.all()
        }
        cache.set(PROGRAMS_KEY, labels, 300)
    return labels


def public_program_choices() -> list[tuple[str, str]]:
    return [
        (p.code, p.short_name)
        for p in sorted(program_labels().values(), key=lambda p: (p.position, p.code))
        if p.is_public
    ]


def directory_today(now: datetime | None = None) -> date:
    """Today in the programs' zone (all programs here share one; the first public one decides)."""
    public = sorted((p for p in program_labels().values() if p.is_public), key=lambda p: (p.position, p.code))
    zone = zoneinfo.ZoneInfo(public[0].time_zone) if public else timezone.get_current_timezone()
    return timezone.localtime(now or timezone.now(), zone).date()


def current_entries() -> QuerySet[Certificate]:
    """One row per holder and program: superseded (renewed) certificates are left out."""
    hidden = [p.pk for p in program_labels().values() if not p.is_public]
    # Usually every program is public: then no program condition at all, so the planner has
    # no reason to walk the program index instead of the trigram index.
    return Certificate.objects.filter(superseded_at__isnull=True).exclude(program_id__in=hidden)


def status_q(status: Status, today: date, *, expiry: str = "") -> Q:
    """The status as a condition on dates. `expiry` names an alias for COALESCE(expires_on, far
    future) when the caller wants the condition kept off the expiry index."""
    if status == Status.REVOKED:
        return Q(revoked_at__isnull=False)
    if status == Status.ENDED:
        return Q(revoked_at__isnull=True, ended_on__lte=today)
    # Ended (a ToR term ended early) comes before expired and active, as in derive_status.
    not_ended = Q(ended_on__isnull=True) | Q(ended_on__gt=today)
    if expiry:
        if status == Status.EXPIRED:
            return Q(revoked_at__isnull=True, **{f"{expiry}__lt": today}) & not_ended
        return Q(revoked_at__isnull=True, **{f"{expiry}__gte": today}) & not_ended
    if status == Status.EXPIRED:
        return Q(revoked_at__isnull=True, expires_on__lt=today) & not_ended
    return Q(revoked_at__isnull=True) & (Q(expires_on__isnull=True) | Q(expires_on__gte=today)) & not_ended


def words_of(q: str) -> list[str]:
    return [w for w in q.lower().split() if w][:6]


@dataclass(frozen=True)
class Search:
    q: str = ""
    program: str = ""
    status: str = ""
    sort: str = "name"

    @property
    def problem(self) -> str:
        """Why the search cannot run as typed, in plain words (empty when it can)."""
        if self.q and not words_of(self.q):
            return "Type a name, certificate number, company or city."
        return ""


@dataclass(frozen=True)
class Entry:
    """One directory row as the page and the API show it, read with the search itself."""

    pk: int
    number: str
    holder_name: str
    holder_id: int
    expires_on: date | None
    revoked_at: datetime | None
    program: ProgramLabel
    ended_on: date | None = None

    def status_on(self, day: date) -> Status:
        return Certificate.derive_status(
            revoked_at=self.revoked_at, expires_on=self.expires_on, day=day, ended_on=self.ended_on
        )


ENTRY_FIELDS = (
    "pk",
    "sort_name",
    "number",
    "expires_on",
    "program_id",
    "holder_name",
    "holder_id",
    "revoked_at",
    "ended_on",
)


class SortedMatches(Sequence[Entry]):
    """At most DIRECTORY_RESULT_LIMIT matches, read in one query and sorted here; the Paginator
    slices them. (Sorting in SQL would make PostgreSQL find every match, or walk the name index
    from "a" and filter, which is slow for a surname far down the alphabet.)"""

    def __init__(self, rows: list[tuple[Any, ...]], sort: str) -> None:
        fields = [f.lstrip("-") for f in SORTS[sort]]
        labels = program_labels()

        def value(row: tuple[Any, ...], field: str) -> Any:
            if field == "program__position":
                label = labels.get(row[4])
                return label.position if label else 0
            return row[ENTRY_FIELDS.index(field)]

        def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
            values = [value(row, f) for f in fields]
            return tuple(
                (v is None, v or "") if isinstance(v, str) or v is None else (False, v) for v in values
            )

        self.rows = sorted(rows, key=key, reverse=sort.startswith("-"))
        self.labels = labels

    def __len__(self) -> int:
        return len(self.rows)

    def _entry(self, row: tuple[Any, ...]) -> Entry:
        pk, _, number, expires_on, program_id, holder_name, holder_id, revoked_at, ended_on = row
        label = self.labels.get(program_id) or ProgramLabel(program_id, "", "", 0, True, "")
        return Entry(pk, number, holder_name, holder_id, expires_on, revoked_at, label, ended_on)

    @overload
    def __getitem__(self, part: int) -> Entry: ...

    @overload
    def __getitem__(self, part: slice) -> list[Entry]: ...

    def __getitem__(self, part: int | slice) -> Entry | list[Entry]:
        if isinstance(part, int):
            return self._entry(self.rows[part])
        return [self._entry(row) for row in self.rows[part]]


def search(params: Search, today: date) -> QuerySet[Certificate] | SortedMatches | list[Certificate]:
    """Current entries matching the search, sorted, capped at the result limit."""
    qs = current_entries()
    limit = settings.DIRECTORY_RESULT_LIMIT
    sort = params.sort if params.sort in SORTS else "name"
    q = params.q.strip()
    program_ids = [p.pk for p in program_labels().values() if p.code == params.program]
    if q:
        # With a text query the trigram index must drive the plan. Comparing expressions
        # instead of the bare columns keeps the planner off the program and expiry indexes,
        # which would have it read half the table to filter a rare name (12-30 ms instead of 2).
        if params.program:
            qs = qs.alias(program_key=F("program_id") + 0).filter(program_key__in=program_ids)
        if params.status in STATUSES:
            qs = qs.alias(expiry_key=Coalesce("expires_on", Value(date.max)))
            qs = qs.filter(status_q(STATUSES[params.status], today, expiry="expiry_key"))
    else:
        if params.program:
            qs = qs.filter(program_id__in=program_ids)
        if params.status in STATUSES:
            qs = qs.filter(status_q(STATUSES[params.status], today))
    if not q:
        # Browsing: the name (or expiry, number) index gives the first rows in order at once.
        return qs.select_related("program").order_by(*SORTS[sort])[:limit]
    number = canonical_number(q)
    if NUMBER_LIKE.match(number):
        exact = list(qs.filter(number=number).select_related("program")[:2])
        if exact:
            return exact
    words = words_of(q)
    matched = qs
    if any(len(w) >= MIN_WORD for w in words):
        for word in words:
            # LIKE '%word%' on the lowercased column: the trigram index answers each word, and
            # PostgreSQL ANDs the bitmaps (cheaper than filtering the rows of one common word).
            matched = matched.filter(search_text__contains=word)
    else:
        matched = matched.filter(sort_name__startswith=" ".join(words))
    # No ORDER BY (the model's default ordering would make the database find and sort every
    # match before the limit): the first `limit` matches the index yields, sorted in process.
    keys = matched.order_by().values_list(*ENTRY_FIELDS)[:limit]
    if connection.vendor == "postgresql":
        with transaction.atomic():
            # Without an ORDER BY the planner may pick a sequential scan that stops after
            # `limit` rows: quick for "son", 15 ms for a rarer surname. The trigram index
            # costs a few milliseconds for any query, so insist on it for this statement.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
            rows = list(keys)
    else:
        rows = list(keys)
    return SortedMatches(rows, sort)


@dataclass(frozen=True)
class Contact:
    company: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""


def contacts_for(certificates: Iterable[Certificate]) -> dict[int, Contact]:
    """Opted-in contact details for a page of entries (one query); others get nothing."""
    from stormcert.accounts.models import Profile

    holder_ids = {c.holder_id for c in certificates}
    rows = Profile.objects.filter(user_id__in=holder_ids, show_contact_in_directory=True).values_list(
        "user_id", "company", "city", "phone", "user__email"
    )
    return {uid: Contact(company, city, phone, email) for uid, company, city, phone, email in rows}


@dataclass(frozen=True)
class Verification:
    number: str
    status: str  # valid, expired, revoked, unknown
    holder: str = ""
    program: str = ""
    program_code: str = ""
    issued_on: date | None = None
    expires_on: date | None = None
    revoked_on: date | None = None
    renewed_by: str = ""
    # A ToR certificate whose term staff ended early: the day and why.
    ended_on: date | None = None
    end_reason: str = ""

    @property
    def found(self) -> bool:
        return self.status != "unknown"

    @property
    def odd_dash(self) -> bool:
        """An unknown number typed with an en dash or the like (lib.numbers says why those are
        not folded): the page tells the person to retype it with hyphens."""
        return not self.found and has_odd_dash(self.number)


ANSWER = {
    Status.ACTIVE: "valid",
    Status.EXPIRED: "expired",
    Status.REVOKED: "revoked",
    Status.ENDED: "ended",
}


def _verification(certificate: Certificate, now: datetime, renewed_by: str = "") -> Verification:
    """Status on today's date in the certificate's own program zone."""
    zone = certificate.program.zone
    return Verification(
        number=certificate.number,
        status=ANSWER[certificate.status_on(timezone.localtime(now, zone).date())],
        holder=certificate.holder_name,
        program=certificate.program.short_name,
        program_code=certificate.program.code,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        revoked_on=timezone.localtime(certificate.revoked_at, zone).date()
        if certificate.revoked_at
        else None,
        renewed_by=renewed_by,
        ended_on=certificate.ended_on,
        end_reason=certificate.end_reason if certificate.ended_on else "",
    )


def verify(number: str, now: datetime) -> Verification:
    """The answer for a number as typed (see lib.numbers: case and surrounding spaces do not
    matter); the answer carries the canonical number."""
    number = canonical_number(number)
    if not could_be_a_number(number):
        return Verification(number=number, status="unknown")
    certificate = (
        Certificate.objects.select_related("program")
        .only(
            "number",
            "holder_name",
            "issued_on",
            "expires_on",
            "revoked_at",
            "ended_on",
            "end_reason",
            "superseded_at",
            "program__code",
            "program__short_name",
            "program__time_zone",
        )
        .filter(number=number)
        .first()
    )
    if certificate is None:
        return Verification(number=number, status="unknown")
    renewed_by = ""
    if certificate.superseded_at is not None:
        renewed_by = (
            Certificate.objects.filter(renews=certificate).values_list("number", flat=True).first() or ""
        )
    return _verification(certificate, now, renewed_by)


def verify_many(numbers: Iterable[str], now: datetime) -> list[Verification]:
    """In the order given, duplicates answered once each time they appear; one query."""
    wanted = [n for n in map(canonical_number, numbers) if n]
    lookup = {n for n in wanted if could_be_a_number(n)}
    found = {c.number: c for c in Certificate.objects.select_related("program").filter(number__in=lookup)}
    return [
        _verification(found[n], now) if n in found else Verification(number=n, status="unknown")
        for n in wanted
    ]


EXPORT_FIELDS = [
    "name",
    "certificate_number",
    "program",
    "program_code",
    "issued_on",
    "expires_on",
    "status",
    "company",
    "city",
    "phone",
    "email",
]


def public_program_id(code: str) -> int | None:
    """The public program with this code (a `?program=CODE` filter), from the cached labels."""
    for label in program_labels().values():
        if label.code == code and label.is_public:
            return label.pk
    return None


def export_rows(today: date, chunk: int = 2000, program_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every current entry (of one program, when `program_id` is given), contact details only
    where the holder opted in; streamed."""
    entries = current_entries()
    if program_id is not None:
        entries = entries.filter(program_id=program_id)
    qs = entries.order_by("sort_name", "number").values_list(
        "holder_name",
        "number",
        "program__short_name",
        "program__code",
        "issued_on",
        "expires_on",
        "revoked_at",
        "ended_on",
        "holder__profile__show_contact_in_directory",
        "holder__profile__company",
        "holder__profile__city",
        "holder__profile__phone",
        "holder__email",
    )
    for (
        name,
        number,
        program,
        program_code,
        issued,
        expires,
        revoked,
        ended,
        opted,
        company,
        city,
        phone,
        email,
    ) in qs.iterator(chunk_size=chunk):
        status = Certificate.derive_status(revoked_at=revoked, expires_on=expires, day=today, ended_on=ended)
        contact = Contact(company, city, phone, email) if opted else Contact()
        yield {
            "name": name,
            "certificate_number": number,
            "program": program,
            "program_code": program_code,
            "issued_on": issued.isoformat(),
            "expires_on": expires.isoformat() if expires else "",
            "status": status.value,
            "company": contact.company,
            "city": contact.city,
            "phone": contact.phone,
            "email": contact.email,
        }
