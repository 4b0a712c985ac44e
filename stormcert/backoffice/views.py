"""Staff-only pages: people and their records, legacy imports, claims."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stormcert.accounts.permissions import staff_required


@staff_required
def people(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/people.html", {})


@staff_required
def person(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "backoffice/person.html", {})
