"""The one place that decides whether a request carries program staff powers.

Being marked `is_staff` on the account is not enough: staff powers (reading other people's
orders, documents and rosters, acting on their records) need two-factor authentication passed in
*this* session. A staff account whose password alone was given (`createsuperuser`, a session
opened before two-factor was set up, a stolen password) is a plain signed-in person everywhere,
and is sent to set up or give its code on the staff pages (StaffMFAMiddleware).

Views ask `has_staff_powers(request)`; services that grant staff rights take the answer as a
`staff: bool` argument from their view, and templates read `staff_powers` (core's context
processor). tests/security/test_staff_powers.py keeps bare `is_staff` checks out of views,
services and templates. It lives in lib, below every app (it needs only allauth), so the audit
log and the outbox use the same decorator as the apps above them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

# Where the answer is kept for the rest of the request: a page asks it several times (view,
# menu, template branches) and the authenticator lookup is a query.
_CACHE_ATTRIBUTE = "_stormcert_staff_powers"


def passed_two_factor(request: HttpRequest, user: Any) -> bool:
    """This session proved a second factor for `user`, and the user still has an authenticator app.

    allauth records each way a session authenticated (`account_authentication_methods`, tied to
    the user id): a TOTP or recovery code given at sign-in or on re-authentication is an "mfa"
    record. Turning the app on in this session is recorded the same way
    (`record_two_factor_activation`), since it also took a valid code. Removing the app afterwards
    takes the powers away: the record alone is not enough."""
    records = get_authentication_records(request, user)
    if not any(record.get("method") == "mfa" for record in records):
        return False
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


def has_staff_powers(request: HttpRequest) -> bool:
    """Signed in, active, marked as staff, and two-factor passed in this session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    # Kept per user: a request that signs someone in asks again for the new user.
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is not None and cached[0] == user.pk:
        return bool(cached[1])
    answer = passed_two_factor(request, user)
    setattr(request, _CACHE_ATTRIBUTE, (user.pk, answer))
    return answer


def forget_staff_powers(request: HttpRequest) -> None:
    """Drop the answer kept for this request (after the session's authentication changed)."""
    if hasattr(request, _CACHE_ATTRIBUTE):
        delattr(request, _CACHE_ATTRIBUTE)


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in with staff powers (see has_staff_powers); 403 for everyone else signed in.

    StaffMFAMiddleware has already sent staff accounts without two-factor in this session to set
    it up or give their code on /staff/ and /admin/; this check also holds wherever else a staff
    view is mounted."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_staff_powers(request):
            raise PermissionDenied("This page is for program staff.")
        return view(request, *args, **kwargs)

    return wrapper


def record_two_factor_activation(request: HttpRequest, authenticator: Authenticator) -> None:
    """Turning on an authenticator app counts as passing two-factor in this session.

    Activation takes a valid code from the new app, so the session has proved the second factor;
    but allauth records only codes given at sign-in and re-authentication, and without this a new
    staff member would be asked for a code again seconds after scanning the QR code. The record
    is written with allauth's own function so that it has exactly the shape allauth reads back
    (the function is internal to allauth: requirements.lock pins the version)."""
    from allauth.account.internal.flows.login import record_authentication

    record_authentication(
        request, authenticator.user, "mfa", id=authenticator.pk, type=authenticator.type, activated=True
    )
    forget_staff_powers(request)
