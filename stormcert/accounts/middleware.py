from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from stormcert.lib.staff import has_staff_powers

STAFF_PREFIXES = ("/staff/", "/admin/")


class StaffMFAMiddleware:
    """Staff pages (our back office and the Django admin) require two-factor in this session.

    Everywhere else a staff account without it is simply a signed-in person (has_staff_powers
    says no); on the staff pages it is told what to do instead of a bare 403:
    - no authenticator app yet (what `createsuperuser` makes): set one up; turning it on passes
      two-factor for the session;
    - an app, but this session never gave a code (a session opened some other way than the
      sign-in form, which asks for the code): give the code again (allauth's re-authentication),
      then come back to the page asked for.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            request.path.startswith(STAFF_PREFIXES)
            and user.is_authenticated
            and user.is_staff
            and user.is_active
            and not has_staff_powers(request)
        ):
            if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
                messages.warning(
                    request,
                    "Staff accounts must use two-factor authentication. "
                    "Set up an authenticator app to continue.",
                )
                return redirect("mfa_activate_totp")
            messages.info(request, "Enter the code from your authenticator app to open the staff pages.")
            back = request.get_full_path() if request.method == "GET" else "/staff/"
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': back})}")
        return self.get_response(request)
