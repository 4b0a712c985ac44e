from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stormcert.audit.models import AuditEvent
from stormcert.lib.staff import staff_required


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@staff_required
def event_list(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("actor")
    filters = {
        k: request.GET.get(k, "").strip()
        for k in ("actor", "verb", "object_type", "object_id", "since", "until")
    }
    errors = []
    if filters["actor"]:
        events = events.filter(actor_label__icontains=filters["actor"])
    if filters["verb"]:
        events = events.filter(verb__startswith=filters["verb"])
    if filters["object_type"]:
        events = events.filter(object_type=filters["object_type"])
    if filters["object_id"]:
        events = events.filter(object_id=filters["object_id"])
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        if filters[key]:
            day = _parse_day(filters[key])
            if day is None:
                errors.append(f"“{filters[key]}” is not a date; use YYYY-MM-DD.")
            else:
                events = events.filter(**{lookup: day})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "verbs": AuditEvent.objects.order_by("verb").values_list("verb", flat=True).distinct(),
        "object_types": AuditEvent.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct(),
        "query": urlencode({k: v for k, v in filters.items() if v}),
    }
    return render(request, "audit/event_list.html", context)
