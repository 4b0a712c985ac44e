"""Staff: send a failed message again now. Here rather than in the emails app because the action
is audited, and the emails and audit apps are siblings in the layer contract (neither imports the
other)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from stormcert.accounts.requests import AuthedRequest
from stormcert.audit.services import record
from stormcert.emails.forms import SendAgainForm
from stormcert.emails.models import OutboundEmail
from stormcert.emails.services import NotFailed, send_again
from stormcert.lib.staff import staff_required


@staff_required
@require_POST
def email_send_again(request: AuthedRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboundEmail, pk=pk)
    form = SendAgainForm(request.POST)
    if form.is_valid():
        try:
            send_again(message=message)
        except NotFailed as exc:
            messages.error(request, str(exc))
        else:
            record(
                actor=request.user,
                verb="email.sent_again",
                obj=message,
                data={"attempts": message.attempts, "to": message.to},
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, f"The message to {message.to} is being sent again.")
        return redirect("emails:message", pk=message.pk)
    return render(request, "emails/message.html", {"message": message, "form": form}, status=400)
