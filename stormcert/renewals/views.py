from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from stormcert.accounts.requests import AuthedRequest
from stormcert.certificates.models import Certificate
from stormcert.renewals.services import RenewalError, renewable_certificates, renewal_status, start_renewal


@login_required
def renewal(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    statuses = [renewal_status(c, now) for c in renewable_certificates(request.user)]
    return render(request, "renewals/renewal.html", {"statuses": statuses})


@login_required
@require_POST
def start(request: AuthedRequest, number: str) -> HttpResponse:
    user = request.user
    # Only the holder renews (staff do not pay for others): same 404 for "not yours" and "no such".
    certificate = Certificate.objects.select_related("program").filter(holder=user, number=number).first()
    if certificate is None:
        raise Http404("No certificate of yours has this number.")
    try:
        order = start_renewal(user=user, certificate=certificate)
    except RenewalError as exc:
        messages.error(request, str(exc))
        return redirect("renewals:renewal")
    return redirect("payments:order", number=order.number)
