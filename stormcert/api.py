"""The public JSON API (django-ninja): certificate verification and directory search.

OpenAPI at /api/openapi.json. No interactive docs page: it would load scripts from a CDN.
Every endpoint is rate limited per client address (RATE_LIMIT_PUBLIC) and answers 429 with a
plain message and Retry-After when the limit is reached.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError
from pydantic import field_validator

from stormcert.certificates.models import Status
from stormcert.directory.queries import (
    SORTS,
    Search,
    Verification,
    contacts_for,
    directory_today,
    public_program_choices,
    public_program_id,
    search,
    verify,
    verify_many,
)
from stormcert.lib.ratelimit import limit_message, retry_after

api = NinjaAPI(
    title="stormcert public API",
    version="1.0",
    description=(
        "Verify the certificates of every program on this site and search the public Qualification "
        "Directory (by program, with `program=CODE`). Rate limited per client address; a refused request gets 429 with Retry-After."
    ),
    urls_namespace="api",
    docs_url=None,
)


class RateLimited(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(limit_message(seconds))
        self.seconds = seconds


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.seconds)
    return response


def _limit(request: HttpRequest, scope: str) -> None:
    wait = retry_after(request, f"api:{scope}")
    if wait is not None:
        raise RateLimited(wait)


class Message(Schema):
    detail: str


class Problem(Schema):
    type: str
    loc: list[str | int]
    msg: str


class Invalid(Schema):
    """What django-ninja answers (422) when a request does not match the parameters or body."""

    detail: list[Problem]


class VerificationOut(Schema):
    number: str
    status: str = Field(description="valid, expired, revoked, ended or unknown")
    holder: str | None = Field(
        None,
        description="The holder's name as certified: as issued, or as changed by a request staff approved",
    )
    program: str | None = Field(None, description="The certificate's program, by its short name")
    program_code: str | None = Field(
        None, description="The program's code (the directory's `program` filter)"
    )
    issued_on: date | None = None
    expires_on: date | None = None
    revoked_on: date | None = None
    renewed_by: str | None = Field(None, description="The number of the certificate that renewed this one")
    ended_on: date | None = Field(None, description="A Trainer of Record term ended early: from this day")
    end_reason: str | None = Field(None, description="Why the term ended early")


def _out(v: Verification) -> dict[str, Any]:
    if not v.found:
        return {"number": v.number, "status": v.status}
    return {
        "number": v.number,
        "status": v.status,
        "holder": v.holder,
        "program": v.program,
        "program_code": v.program_code,
        "issued_on": v.issued_on,
        "expires_on": v.expires_on,
        "revoked_on": v.revoked_on,
        "renewed_by": v.renewed_by or None,
        "ended_on": v.ended_on,
        "end_reason": v.end_reason or None,
    }


@api.get(
    "/verify/{number}",
    response={200: VerificationOut, 429: Message, 422: Invalid},
    summary="Verify one certificate",
    tags=["verification"],
)
def verify_one(request: HttpRequest, number: str) -> dict[str, Any]:
    """The certificate's status today: valid, expired, revoked, or unknown (no such number).

    Case and surrounding spaces do not matter; `number` in the answer is the number as issued."""
    _limit(request, "verify")
    return _out(verify(number, timezone.now()))


class BatchIn(Schema):
    numbers: list[str] = Field(..., description="Certificate numbers, at most VERIFY_BATCH_MAX (1,000)")

    @field_validator("numbers")
    @classmethod
    def _no_nul(cls, numbers: list[str]) -> list[str]:
        # PostgreSQL cannot compare text holding NUL (a DataError, a 500): refuse it as invalid.
        if any("\x00" in number for number in numbers):
            raise ValueError("a certificate number cannot contain a NUL character")
        return numbers


class BatchOut(Schema):
    checked_on: date
    results: list[VerificationOut]


@api.post(
    "/verify",
    response={200: BatchOut, 400: Message, 429: Message, 422: Invalid},
    summary="Verify many certificates",
    tags=["verification"],
)
def verify_batch(request: HttpRequest, payload: BatchIn) -> dict[str, Any]:
    """Answers in the order asked, one per number given (blank entries are skipped), each with
    the number as issued (case and surrounding spaces do not matter)."""
    _limit(request, "verify")
    if len(payload.numbers) > settings.VERIFY_BATCH_MAX:
        raise HttpError(
            400,
            f"{len(payload.numbers):,} numbers given; at most {settings.VERIFY_BATCH_MAX:,} per request.",
        )
    now = timezone.now()
    return {
        "checked_on": directory_today(now),
        "results": [_out(v) for v in verify_many(payload.numbers, now)],
    }


class DirectoryEntry(Schema):
    name: str = Field(description="The holder's name as certified (never an unreviewed profile edit)")
    certificate_number: str
    program: str = Field(description="The program, by its short name")
    program_code: str = Field(description="The program's code (the `program` filter)")
    expires_on: date | None
    status: str = Field(description="active, expired, revoked or ended")
    company: str | None = Field(None, description="Only when the holder opted in")
    city: str | None = None
    phone: str | None = None
    email: str | None = None


class DirectoryPage(Schema):
    count: int = Field(description=f"Matches, capped at the result limit ({settings.DIRECTORY_RESULT_LIMIT})")
    page: int
    pages: int
    program: str = Field("", description="The program filter applied (its code); empty: every program")
    results: list[DirectoryEntry]


class DirectoryQuery(Schema):
    q: str = Field("", max_length=100, description="Name, certificate number, company or city")
    program: str = Field(
        "",
        max_length=30,
        description="A public program's code (see the `program_code` of any entry); empty: every program",
    )
    # The allowed values are published as enums so clients (and schemathesis) know them; the
    # view still checks them itself, answering 400 with the list rather than a bare 422.
    status: str = Field(
        "", description="active, expired, revoked or ended", json_schema_extra={"enum": ["", *Status.values]}
    )
    sort: str = Field(
        "name",
        description="name, number, program or expires; prefix - to reverse",
        json_schema_extra={"enum": list(SORTS)},
    )
    page: int = Field(1, ge=1)


@api.get(
    "/directory",
    response={200: DirectoryPage, 400: Message, 429: Message, 422: Invalid},
    summary="Search the Qualification Directory",
    tags=["directory"],
)
def directory_search(request: HttpRequest, filters: Query[DirectoryQuery]) -> dict[str, Any]:
    _limit(request, "directory")
    if filters.status and filters.status not in Status.values:
        raise HttpError(400, f"status must be one of {', '.join(Status.values)}.")
    if filters.sort not in SORTS:
        raise HttpError(400, f"sort must be one of {', '.join(SORTS)}.")
    if filters.program and public_program_id(filters.program) is None:
        codes = ", ".join(code for code, _ in public_program_choices())
        raise HttpError(400, f"program must be the code of a public program: {codes}.")
    params = Search(q=filters.q.strip(), program=filters.program, status=filters.status, sort=filters.sort)
    if params.problem:
        raise HttpError(400, params.problem)
    today = directory_today()
    from django.core.paginator import Paginator

    paginator = Paginator(search(params, today), settings.DIRECTORY_PAGE_SIZE)
    # A page past the last one is empty, not an error: a client paging through stops at an
    # empty page or at `pages`, and a list that shrank between two requests is not a failure.
    page = paginator.page(filters.page) if filters.page <= paginator.num_pages and paginator.count else None
    entries = list(page.object_list) if page else []
    contacts = contacts_for(entries)
    results = []
    for c in entries:
        contact = contacts.get(c.holder_id)
        results.append(
            {
                "name": c.holder_name,
                "certificate_number": c.number,
                "program": c.program.short_name,
                "program_code": c.program.code,
                "expires_on": c.expires_on,
                "status": c.status_on(today).value,
                "company": contact.company if contact else None,
                "city": contact.city if contact else None,
                "phone": contact.phone if contact else None,
                "email": contact.email if contact else None,
            }
        )
    return {
        "count": paginator.count,
        "page": filters.page,
        "pages": paginator.num_pages,
        "program": filters.program,
        "results": results,
    }
