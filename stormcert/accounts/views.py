from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from stormcert.accounts.forms import ProfileForm
from stormcert.accounts.models import Profile, User
from stormcert.accounts.services import update_profile
from stormcert.lib.http import client_ip


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required guarantees a real user
    instance, _ = Profile.objects.get_or_create(user=user)
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=instance, user=user)
    if request.method == "POST" and form.is_valid():
        diff = update_profile(user=user, data=form.cleaned_data, actor=user, ip_address=client_ip(request))
        messages.success(request, "Your profile is saved." if diff else "Nothing changed.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
