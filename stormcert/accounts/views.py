from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.views import ActivateTOTPView as AllauthActivateTOTPView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from stormcert.accounts.claims import (
    ClaimError,
    claim_record,
    record_for_token,
    records_joined_by,
    request_claim,
    send_claim_link,
)
from stormcert.accounts.forms import ClaimLinkForm, ClaimRequestForm, ProfileForm
from stormcert.accounts.models import ClaimRequest, LegacyRecord, Profile
from stormcert.accounts.requests import AuthedRequest
from stormcert.accounts.services import update_profile
from stormcert.lib.http import client_ip
from stormcert.lib.ratelimit import Rate, limit_message, retry_after
from stormcert.lib.staff import record_two_factor_activation


@login_required
def profile(request: AuthedRequest) -> HttpResponse:
    user = request.user  # login_required guarantees a real user
    instance, _ = Profile.objects.get_or_create(user=user)
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=instance, user=user)
    if request.method == "POST" and form.is_valid():
        diff = update_profile(user=user, data=form.cleaned_data, actor=user, ip_address=client_ip(request))
        messages.success(request, "Your profile is saved." if diff else "Nothing changed.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


# --- Claiming records from the earlier system ---------------------------------------------------

CLAIM_RATE = Rate(10, 3600)


@login_required
def claim(request: AuthedRequest) -> HttpResponse:
    user = request.user
    link_form = ClaimLinkForm(prefix="link")
    request_form = ClaimRequestForm(prefix="ask")
    status = 200
    if request.method == "POST" and request.POST.get("action") == "link":
        link_form = ClaimLinkForm(request.POST, prefix="link")
        if link_form.is_valid():
            wait = retry_after(request, f"claim-link:{user.pk}", CLAIM_RATE)
            if wait is not None:
                link_form.add_error(None, limit_message(wait))
                status = 429
            else:
                send_claim_link(
                    claimant=user,
                    certificate_number=link_form.cleaned_data["certificate_number"],
                    email_on_file=link_form.cleaned_data["email_on_file"],
                )
                messages.success(
                    request,
                    "If the number and the address match a record, a link is on its way to "
                    f"{link_form.cleaned_data['email_on_file']}. Open it while signed in here. "
                    "Nothing arrived within a few minutes? Check the number, or ask staff below.",
                )
                return redirect("accounts:claim")
        else:
            status = 400
    elif request.method == "POST" and request.POST.get("action") == "ask":
        request_form = ClaimRequestForm(request.POST, prefix="ask")
        if request_form.is_valid():
            try:
                request_claim(requester=user, **request_form.cleaned_data)
                messages.success(request, "Your request is with program staff. You will hear back by email.")
                return redirect("accounts:claim")
            except ClaimError as exc:
                request_form.add_error(None, str(exc))
        status = 400
    return render(
        request,
        "accounts/claim.html",
        {
            "link_form": link_form,
            "request_form": request_form,
            "mine": LegacyRecord.objects.filter(holder=user).select_related("program", "certificate"),
            "requests": ClaimRequest.objects.filter(requester=user).order_by("-created_at"),
        },
        status=status,
    )


@login_required
def claim_confirm(request: AuthedRequest, token: str) -> HttpResponse:
    user = request.user
    try:
        found = record_for_token(token=token, claimant=user)
    except ClaimError as exc:
        return render(request, "accounts/claim_confirm.html", {"error": str(exc)}, status=400)
    if request.method == "POST":
        try:
            joined = claim_record(record=found, claimant=user, actor=user, how="email link")
        except ClaimError as exc:
            return render(request, "accounts/claim_confirm.html", {"error": str(exc)}, status=409)
        numbers = ", ".join(r.certificate_number for r in joined if r.certificate_number)
        messages.success(request, f"Done: {numbers or 'the record'} is now in your account.")
        return redirect("accounts:claim")
    return render(
        request, "accounts/claim_confirm.html", {"record": found, "joined": records_joined_by(found)}
    )


class ActivateTOTPView(AllauthActivateTOTPView):
    """allauth's page for turning on the authenticator app, which also records that this session
    passed two-factor (the new app's code was just given): a staff member who sets it up goes on
    to the staff pages without a second code. Mounted at allauth's own URL and name."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        authenticator = Authenticator.objects.get(user_id=self.request.user.pk, type=Authenticator.Type.TOTP)
        record_two_factor_activation(self.request, authenticator)
        return response


activate_totp = ActivateTOTPView.as_view()
