from __future__ import annotations

from typing import Any

from django.db import transaction

from stormcert.accounts.forms import ProfileForm
from stormcert.accounts.hooks import profile_changed
from stormcert.accounts.models import User
from stormcert.audit.services import changes, record

PROFILE_FIELDS = ["first_name", "last_name", *ProfileForm.Meta.fields]


def _snapshot(user: User) -> dict[str, Any]:
    profile = user.profile
    return {f: getattr(user if f in ("first_name", "last_name") else profile, f) for f in PROFILE_FIELDS}


@transaction.atomic
def update_profile(
    *, user: User, data: dict[str, Any], actor: User, ip_address: str | None = None
) -> dict[str, Any]:
    """Save name and contact details; returns what changed (empty when nothing did)."""
    before = _snapshot(user)
    user.first_name = data["first_name"]
    user.last_name = data["last_name"]
    user.save(update_fields=["first_name", "last_name"])
    profile = user.profile
    for field in ProfileForm.Meta.fields:
        setattr(profile, field, data[field])
    profile.save()
    diff = changes(before, _snapshot(user))
    if diff:
        record(actor=actor, verb="profile.updated", obj=user, data=diff, ip_address=ip_address)
        profile_changed(user)
    return diff


class AccountError(Exception):
    """The account change cannot be made; the message says why."""


@transaction.atomic
def set_sign_in_allowed(*, user: User, allowed: bool, actor: User, reason: str) -> User:
    """Staff stop (or restore) someone's sign-in. An inactive account's sessions stop working
    on their next request: the auth backend refuses inactive users when it loads the session."""
    if not reason.strip():
        raise AccountError("Give a reason: it is kept in the audit log.")
    user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    if user.pk == actor.pk:
        raise AccountError("You cannot disable your own account.")
    if user.placeholder or user.merged_into_id is not None:
        raise AccountError("This account is closed (a placeholder or merged); it cannot sign in either way.")
    if user.is_active == allowed:
        raise AccountError("Sign-in is already allowed." if allowed else "Sign-in is already stopped.")
    user.is_active = allowed
    user.save(update_fields=["is_active"])
    record(actor=actor, verb="account.enabled" if allowed else "account.disabled", obj=user, reason=reason)
    return user
