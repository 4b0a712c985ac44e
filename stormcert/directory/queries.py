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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from stormcert.certificates.models import Certificate, Status
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


def directory_today(now: datetime | None = None) -> date:
    """Today in the programs' zone (all programs here share one; the first public one decides)."""
    program = Program.objects.filter(is_public=True).only("time_zone").first()
    zone = program.zone if program else timezone.get_current_timezone()
    return timezone.localtime(now or timezone.now(), zone).date()


def current_entries() -> QuerySet[Certificate]:
    """One row per holder and program: superseded (renewed) certificates are left out."""
    return Certificate.objects.filter(superseded_at__isnull=True, program__is_public=True)


def status_q(status: Status, today: date) -> Q:
    if status == Status.REVOKED:
        return Q(revoked_at__isnull=False)
    if status == Status.EXPIRED:
        return Q(revoked_at__isnull=True, expires_on__lt=today)
    return Q(revoked_at__isnull=True) & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))


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


def search(params: Search, today: date) -> QuerySet[Certificate]:
    """Current entries matching the search, sorted, capped at the result limit."""
    qs = current_entries()
    if params.program:
        qs = qs.filter(program__code=params.program)
    if params.status in STATUSES:
        qs = qs.filter(status_q(STATUSES[params.status], today))
    q = params.q.strip()
    if q:
        if NUMBER_LIKE.match(q):
            exact = qs.filter(number__in={q, q.upper()})
            if exact.exists():
                return exact.select_related("program")
        words = words_of(q)
        if any(len(w) >= MIN_WORD for w in words):
            for word in words:
                # LIKE '%word%' on the lowercased column: the trigram index answers it.
                qs = qs.filter(search_text__contains=word)
        else:
            qs = qs.filter(sort_name__startswith=" ".join(words))
    order = SORTS.get(params.sort, SORTS["name"])
    return qs.select_related("program").order_by(*order)[: settings.DIRECTORY_RESULT_LIMIT]


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

    @property
    def found(self) -> bool:
        return self.status != "unknown"


ANSWER = {Status.ACTIVE: "valid", Status.EXPIRED: "expired", Status.REVOKED: "revoked"}


def _verification(certificate: Certificate, today: date, renewed_by: str = "") -> Verification:
    zone = certificate.program.zone
    return Verification(
        number=certificate.number,
        status=ANSWER[certificate.status_on(today)],
        holder=certificate.holder_name,
        program=certificate.program.short_name,
        program_code=certificate.program.code,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        revoked_on=timezone.localtime(certificate.revoked_at, zone).date()
        if certificate.revoked_at
        else None,
        renewed_by=renewed_by,
    )


def verify(number: str, today: date) -> Verification:
    number = number.strip()
    certificate = (
        Certificate.objects.select_related("program")
        .only(
            "number",
            "holder_name",
            "issued_on",
            "expires_on",
            "revoked_at",
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
    return _verification(certificate, today, renewed_by)


def verify_many(numbers: Iterable[str], today: date) -> list[Verification]:
    """In the order given, duplicates answered once each time they appear; one query."""
    wanted = [n.strip() for n in numbers if n.strip()]
    found = {
        c.number: c for c in Certificate.objects.select_related("program").filter(number__in=set(wanted))
    }
    return [
        _verification(found[n], today) if n in found else Verification(number=n, status="unknown")
        for n in wanted
    ]


EXPORT_FIELDS = [
    "name",
    "certificate_number",
    "program",
    "issued_on",
    "expires_on",
    "status",
    "company",
    "city",
    "phone",
    "email",
]


def export_rows(today: date, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    """Every current entry, contact details only where the holder opted in; streamed."""
    qs = (
        current_entries()
        .order_by("sort_name", "number")
        .values_list(
            "holder_name",
            "number",
            "program__short_name",
            "issued_on",
            "expires_on",
            "revoked_at",
            "holder__profile__show_contact_in_directory",
            "holder__profile__company",
            "holder__profile__city",
            "holder__profile__phone",
            "holder__email",
        )
    )
    for name, number, program, issued, expires, revoked, opted, company, city, phone, email in qs.iterator(
        chunk_size=chunk
    ):
        status = Certificate.derive_status(revoked_at=revoked, expires_on=expires, day=today)
        contact = Contact(company, city, phone, email) if opted else Contact()
        yield {
            "name": name,
            "certificate_number": number,
            "program": program,
            "issued_on": issued.isoformat(),
            "expires_on": expires.isoformat() if expires else "",
            "status": status.value,
            "company": contact.company,
            "city": contact.city,
            "phone": contact.phone,
            "email": contact.email,
        }
