from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

STAFF_PREFIXES = ("/staff/", "/admin/")


class StaffMFAMiddleware:
    """Staff pages (our back office and the Django admin) require two-factor authentication.

    A staff member without an authenticator app is sent to set one up before anything else;
    one who has it already proved it at login, because allauth asks for the code then.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            request.path.startswith(STAFF_PREFIXES)
            and user.is_authenticated
            and user.is_staff
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        ):
            messages.warning(
                request,
                "Staff accounts must use two-factor authentication. Set up an authenticator app to continue.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
