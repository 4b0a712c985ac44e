"""allauth hooks: our outbox for every account email, a profile and an audit event per sign-up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth.models import Group
from django.http import HttpRequest

from stormcert.accounts.models import Profile, Role
from stormcert.audit.services import record
from stormcert.emails.services import queue_rendered
from stormcert.lib.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
        message = self.render_mail(template_prefix, email, context)
        user = context.get("user")
        queue_rendered(message, template=template_prefix, user=user if getattr(user, "pk", None) else None)

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
