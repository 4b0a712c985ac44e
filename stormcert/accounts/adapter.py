"""allauth hooks: our outbox for every account email, a profile and an audit event per sign-up,
and how failed password sign-ins are throttled."""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from stormcert.accounts.models import Profile, Role, User
from stormcert.audit.services import record
from stormcert.emails.services import queue_rendered
from stormcert.lib.http import client_ip

# The per-account-and-client-address count of failed password sign-ins (its rates are
# ACCOUNT_RATE_LIMITS["login_failed_from_address"]); allauth's own "login_failed" keeps the count per
# client address and the ceiling per account.
LOGIN_FAILED_FROM_ADDRESS = "login_failed_from_address"

# The longest address a mailbox can have (RFC 5321's path limit), and our columns' length.
EMAIL_MAX = 254


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Shown on the sign-in page, which then offers the code (templates/account/login.html).
        # The same words for every address, known or not, so the pause reveals nothing.
        "password_sign_in_paused": (
            "Too many wrong passwords for this email address. Signing in with a password is paused "
            "for a while. You can sign in now with a one-time code we email to this address."
        ),
        "too_many_login_attempts": "Too many attempts. Please wait a few minutes and try again.",
    }

    def clean_email(self, email: str) -> str:
        # Sign-up, adding an address and password reset all pass here. A longer "address" has no
        # mailbox; refusing it here also keeps it out of the outbox's 254-character column (on
        # PostgreSQL it was a 500, found by tests/security/test_bad_input.py).
        if len(email) > EMAIL_MAX:
            raise ValidationError(f"An email address has at most {EMAIL_MAX} characters.")
        return super().clean_email(email)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        if len(email) > EMAIL_MAX:
            return  # no mailbox has such an address (forms refuse it; this is the last guard)
        user = context.get("user")
        if not getattr(user, "pk", None):
            # "You already have an account" and sign-in codes name no user; link the owner's.
            user = User.objects.filter(email__iexact=email).first()
        context = {
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            "email": email,
            "code_minutes": app_settings.LOGIN_BY_CODE_TIMEOUT // 60,
            **context,
            "user": user,
        }
        message = self.render_mail(template_prefix, email, context)
        queue_rendered(message, template=template_prefix, user=user if getattr(user, "pk", None) else None)

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's throttles count per client address: the same one as our rate limits and audit
        # log, the forwarded client behind a trusted proxy (lib.http.client_ip).
        return client_ip(request) or "unknown"

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            Profile.objects.get_or_create(user=user)
            # Everyone who signs up starts as a candidate; staff grant other roles.
            candidate, _ = Group.objects.get_or_create(name=Role.CANDIDATE)
            user.groups.add(candidate)
            record(actor=user, verb="account.signed_up", obj=user, ip_address=client_ip(request))
        return user

    def confirm_email(self, request: HttpRequest, email_address: Any) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            record(
                actor=email_address.user,
                verb="account.email_verified",
                obj=email_address.user,
                data={"email": email_address.email},
                ip_address=client_ip(request),
            )
        return bool(confirmed)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Count this password attempt before checking it; refuse when a limit is reached.

        allauth's own count ("login_failed") is per client address and per account. Counted per
        account alone with a small limit, five wrong guesses by anyone, anywhere, would lock the
        owner out too. So the small limit is per account *and* client address: a stranger pauses
        password sign-in for that account from their own address only. The per-account limit is a
        much higher ceiling against guessing spread over many addresses; reaching it pauses the
        password for everyone, and the owner signs in with an emailed code instead.
        Success rolls every count back (allauth's authenticate calls the rollback).
        """
        from_address = ratelimit.consume(
            request,
            app="allauth.account",
            action=LOGIN_FAILED_FROM_ADDRESS,
            key=self._login_failed_from_address_key(request, **credentials),
        )
        if not from_address:
            raise self.validation_error("password_sign_in_paused")
        overall = ratelimit.consume(
            request,
            app="allauth.account",
            action="login_failed",
            key=self._get_login_attempts_cache_key(request, **credentials),
        )
        if not overall:
            from_address.rollback()  # refused before checking: not a guess
            raise self.validation_error("password_sign_in_paused")
        self._login_failed_rl_usage = ratelimit.RateLimitUsage(usage=[*from_address.usage, *overall.usage])

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: Any) -> None:
        # After a password reset (which proved the mailbox), clear the account's counts as allauth
        # does, and this client address's count for it; other addresses stay throttled.
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request,
            app="allauth.account",
            action=LOGIN_FAILED_FROM_ADDRESS,
            key=self._login_failed_from_address_key(request, **credentials),
        )

    def _login_failed_from_address_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth's key for the account (site and the address typed, lower case) plus the client
        # address as allauth's own per-address limits see it (IPv6 by its /64 network).
        return f"{self._get_login_attempts_cache_key(request, **credentials)}:{ratelimit.get_ip(request)}"
