"""Roles are auth groups; this keeps their permissions in step with the code after each migrate."""

from __future__ import annotations

from typing import Any

from stormcert.accounts.models import Role

# app_label -> actions staff may take in the admin. Later apps add themselves here.
STAFF_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "programs": ("view", "add", "change", "delete"),
    "accounts": ("view", "change"),
    "emails": ("view",),
    "audit": ("view",),
    "payments": ("view",),
    "training": ("view", "add", "change", "delete"),
    "enrollments": ("view", "add", "change"),
    "exams": ("view", "add", "change"),
    "trainers": ("view", "add", "change"),
    "courses": ("view", "add", "change"),
}


def sync_roles(**kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        Group.objects.get_or_create(name=role.value)
    staff = Group.objects.get(name=Role.STAFF)
    wanted = [
        perm
        for app_label, actions in STAFF_PERMISSIONS.items()
        for perm in Permission.objects.filter(content_type__app_label=app_label)
        if perm.codename.split("_", 1)[0] in actions
    ]
    staff.permissions.set(wanted)
