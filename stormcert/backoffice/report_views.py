"""Staff reports: charts with the figures beside them, and CSV downloads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stormcert.accounts.permissions import staff_required


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/reports/index.html", {})
