"""The public Qualification Directory, verification pages and the open-data export (no login)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from stormcert.directory.forms import BatchVerifyForm, SearchForm, VerifyForm
from stormcert.directory.queries import (
    EXPORT_FIELDS,
    SORTS,
    Search,
    contacts_for,
    directory_today,
    export_rows,
    public_program_choices,
    public_program_id,
    search,
    verify,
    verify_many,
)
from stormcert.lib import csvsafe
from stormcert.lib.numbers import canonical_number
from stormcert.lib.ratelimit import limit_message, retry_after


def rate_limited(scope: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Refuse with 429 and a plain message when one address asks too often."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            wait = retry_after(request, scope)
            if wait is not None:
                response = render(
                    request, "directory/rate_limited.html", {"message": limit_message(wait)}, status=429
                )
                response["Retry-After"] = str(wait)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _sort_links(params: Search, query: dict[str, str]) -> dict[str, dict[str, str]]:
    """For each sortable column: the link that sorts by it (toggling direction) and aria-sort."""
    links = {}
    for column in ("name", "number", "program", "expires"):
        current = params.sort.lstrip("-") == column
        descending = params.sort.startswith("-")
        target = f"-{column}" if current and not descending else column
        href = "?" + urlencode({k: v for k, v in {**query, "sort": target}.items() if v})
        links[column] = {
            "href": href,
            "aria": ("descending" if descending else "ascending") if current else "",
        }
    return links


@rate_limited("directory")
def directory(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    params = Search()
    if form.is_valid():
        sort = request.GET.get("sort", "name")
        params = Search(
            q=form.cleaned_data["q"].strip(),
            program=form.cleaned_data["program"],
            status=form.cleaned_data["status"],
            sort=sort if sort in SORTS else "name",
        )
    today = directory_today()
    page = None
    rows: list[tuple[Any, Any, Any]] = []
    if not form.errors and not params.problem:
        page = Paginator(search(params, today), settings.DIRECTORY_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        entries = list(page.object_list)
        contacts = contacts_for(entries)
        rows = [(c, c.status_on(today), contacts.get(c.holder_id)) for c in entries]
    query = {"q": params.q, "program": params.program, "status": params.status}
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "params": params,
            "page": page,
            "rows": rows,
            "limit": settings.DIRECTORY_RESULT_LIMIT,
            # One reverse() instead of one per row: the verification link is this plus the number.
            "verify_base": reverse("directory:verify", args=["0"])[:-2],
            "sort_links": _sort_links(params, query),
            "query": urlencode({k: v for k, v in {**query, "sort": params.sort}.items() if v}),
        },
        status=400 if form.errors else 200,
    )


def _verify_url(number: str) -> str | None:
    """The verification page of a canonical number; None when no URL can carry it (a "/",
    which a full-width solidus becomes), and then the answer is shown where it was asked."""
    try:
        return reverse("directory:verify", args=[number])
    except NoReverseMatch:
        return None


def _verify_answer(request: HttpRequest, number: str) -> HttpResponse:
    result = verify(number, timezone.now())
    return render(
        request,
        "directory/verify.html",
        {"result": result, "form": VerifyForm(initial={"number": result.number})},
        status=200 if result.found else 404,
    )


@rate_limited("verify")
def verify_lookup(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.GET or None)
    if form.is_valid():
        number = form.cleaned_data["number"]  # canonical (the form's clean_number)
        url = _verify_url(number)
        return redirect(url) if url else _verify_answer(request, number)
    return render(request, "directory/verify_lookup.html", {"form": form}, status=400 if form.errors else 200)


@rate_limited("verify")
def verify_page(request: HttpRequest, number: str) -> HttpResponseBase:
    """One page per certificate, at its canonical number: a link or a typed URL in another form
    (lower case, spaces around it) is sent there for good, so it can be bookmarked and shared."""
    canonical = canonical_number(number)
    if canonical != number:
        if not canonical:
            return redirect("directory:verify_lookup")
        url = _verify_url(canonical)
        if url:
            return HttpResponsePermanentRedirect(url)
    return _verify_answer(request, canonical)


@rate_limited("verify")
def verify_batch(request: HttpRequest) -> HttpResponse:
    """An employer uploads a CSV of numbers and downloads the answers as CSV."""
    form = BatchVerifyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        results = verify_many(form.cleaned_data["file"], timezone.now())
        out = io.StringIO()
        writer = csvsafe.writer(out)
        writer.writerow(["certificate_number", "status", "holder", "program", "issued_on", "expires_on"])
        for r in results:
            writer.writerow(
                [
                    r.number,
                    r.status,
                    r.holder,
                    r.program,
                    r.issued_on.isoformat() if r.issued_on else "",
                    r.expires_on.isoformat() if r.expires_on else "",
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="verification-{stamp}.csv"'
        return response
    return render(
        request,
        "directory/verify_batch.html",
        {"form": form, "api_url": reverse("api:openapi-json")},
        status=400 if form.errors else 200,
    )


class UnknownProgram(ValueError):
    pass


def _export_program(request: HttpRequest) -> tuple[int | None, str]:
    """The export's `?program=CODE` filter: the program's id (None: every program) and the file
    name stem. An unknown code is refused in words, not answered with every program."""
    code = (request.GET.get("program") or "").strip()
    if not code:
        return None, "qualification-directory"
    program_id = public_program_id(code)
    if program_id is None:
        codes = ", ".join(c for c, _ in public_program_choices())
        raise UnknownProgram(f"No public program has the code {code!r}; the codes are: {codes}.")
    return program_id, f"qualification-directory-{code}"


def _refused(exc: UnknownProgram) -> HttpResponse:
    return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")


@rate_limited("export")
def export_csv(request: HttpRequest) -> HttpResponseBase:
    try:
        program_id, stem = _export_program(request)
    except UnknownProgram as exc:
        return _refused(exc)
    writer = csvsafe.dict_writer(csvsafe.Echo(), EXPORT_FIELDS)

    def lines() -> Iterator[str]:
        yield writer.writeheader()
        for row in export_rows(directory_today(), program_id=program_id):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response


@rate_limited("export")
def export_json(request: HttpRequest) -> HttpResponseBase:
    try:
        program_id, stem = _export_program(request)
    except UnknownProgram as exc:
        return _refused(exc)
    today = directory_today()

    def chunks() -> Iterator[str]:
        head = json.dumps({"generated_on": today.isoformat(), "fields": EXPORT_FIELDS})
        yield head[:-1] + ', "entries": ['  # the object stays open for the streamed entries
        for index, row in enumerate(export_rows(today, program_id=program_id)):
            yield ("," if index else "") + "\n" + json.dumps(row)
        yield "\n]}\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{stem}.json"'
    return response
