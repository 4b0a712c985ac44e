from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from stormcert.emails.forms import SendAgainForm
from stormcert.emails.models import EmailStatus, OutboundEmail
from stormcert.lib.staff import staff_required


@staff_required
def outbox(request: HttpRequest) -> HttpResponse:
    messages_qs = OutboundEmail.objects.all()
    to = request.GET.get("to", "").strip()
    status = request.GET.get("status", "")
    if to:
        messages_qs = messages_qs.filter(to__icontains=to)
    if status in EmailStatus.values:
        messages_qs = messages_qs.filter(status=status)
    page = Paginator(messages_qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "emails/outbox.html",
        {
            "page": page,
            "to": to,
            "status": status,
            "statuses": EmailStatus.choices,
            "query": urlencode({k: v for k, v in (("to", to), ("status", status)) if v}),
        },
    )


@staff_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboundEmail, pk=pk)
    return render(request, "emails/message.html", {"message": message, "form": SendAgainForm()})
