"""Merging a duplicate account into another: everything the first held moves to the second.

Used by staff ("these two accounts are the same person") and by claims (a placeholder holding
imported records joins the claimant's account). The move is generic: every foreign key to the
user model is repointed, except the few listed in KEEP, so a model added later is merged
without anyone remembering to add it here. Where a database constraint allows only one row per
person (one enrollment per program, one live course place…), an app registers a resolver that
settles the obvious cases first (an empty enrollment is dropped); anything still in conflict
makes the whole merge fail with a message naming what collided, and nothing is moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from stormcert.accounts.hooks import profile_changed
from stormcert.accounts.models import LegacyRecord, Profile, User
from stormcert.audit.services import record

# (model label, field name) pairs that stay with the merged-away account: its login identities
# and two-factor devices (it can no longer sign in), and history that records who acted.
KEEP: frozenset[tuple[str, str]] = frozenset(
    {
        ("account.EmailAddress", "user"),
        ("mfa.Authenticator", "user"),
        ("admin.LogEntry", "user"),
        ("audit.AuditEvent", "actor"),
        ("accounts.User", "merged_into"),
        ("accounts.Profile", "user"),  # merged field by field below
    }
)

# A resolver settles one app's one-per-person rows before the move and says what it did.
Resolver = Callable[[User, User, datetime], dict[str, int]]
RESOLVERS: list[Resolver] = []


def on_merge(resolver: Resolver) -> Resolver:
    if resolver not in RESOLVERS:
        RESOLVERS.append(resolver)
    return resolver


class MergeError(Exception):
    """The merge cannot be done; the message says why in plain words."""


@dataclass
class MergeSummary:
    moved: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.moved.values())


Link = tuple[type[models.Model], Any]


def user_links() -> list[Link]:
    """Every concrete foreign key or one-to-one field, in every installed model, that points
    at the user model, as (model, field)."""
    links = []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if (
                getattr(f, "concrete", False)
                and (f.many_to_one or f.one_to_one)
                and f.related_model is User
                and not model._meta.proxy
            ):
                links.append((model, f))
    return links


def links_to_move() -> list[Link]:
    return [(m, f) for m, f in user_links() if (m._meta.label, f.name) not in KEEP]


def check_merge(*, source: User, target: User) -> None:
    if source.pk == target.pk:
        raise MergeError("Choose two different accounts.")
    if source.merged_into_id is not None:
        raise MergeError(f"{source.email} was already merged into another account.")
    if target.merged_into_id is not None or (not target.is_active and not target.placeholder):
        raise MergeError(f"{target.email} is not an active account; merge into the account the person uses.")
    if source.is_staff or source.is_superuser:
        raise MergeError("A staff account cannot be merged away; remove its staff access first.")
    if target.placeholder:
        raise MergeError("Records can be merged into a person's account, not into a placeholder.")


def preview(*, source: User) -> dict[str, int]:
    """What would move, per kind of record, for the confirmation page."""
    counts: dict[str, int] = {}
    for model, f in links_to_move():
        n = model._default_manager.filter(**{f.name: source}).count()
        if n:
            label = str(model._meta.verbose_name_plural)
            counts[label] = counts.get(label, 0) + n
    return counts


@transaction.atomic
def merge_accounts(
    *, source: User, target: User, actor: User | None, reason: str, now: datetime | None = None
) -> MergeSummary:
    """Move everything `source` holds to `target`, then close `source` (inactive, merged_into)."""
    now = now or timezone.now()
    if not reason.strip():
        raise MergeError("Give a reason: merging accounts is audited.")
    # Lock both rows in id order so two merges of the same pair cannot interleave.
    locked = {
        u.pk: u
        for u in User.objects.select_for_update(of=("self",))
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    check_merge(source=source, target=target)

    summary = MergeSummary()
    for resolver in RESOLVERS:
        for key, n in resolver(source, target, now).items():
            summary.resolved[key] = summary.resolved.get(key, 0) + n

    for model, f in links_to_move():
        try:
            with transaction.atomic():
                n = model._default_manager.filter(**{f.name: source}).update(**{f.name: target})
        except IntegrityError:
            raise MergeError(
                f"Both accounts have {model._meta.verbose_name_plural} that can exist only once per "
                "person; settle that on one of them first, then merge."
            ) from None
        if n:
            label = f"{model._meta.label}.{f.name}"
            summary.moved[label] = n

    if source.placeholder:
        # Staff merging a placeholder by hand is a claim approved on the spot: mark it so.
        LegacyRecord.objects.filter(holder=target, claimed_at__isnull=True).update(claimed_at=now)
    _merge_profile(source, target)
    target.groups.add(*source.groups.all())
    if not target.first_name and not target.last_name:
        target.first_name, target.last_name = source.first_name, source.last_name
        target.save(update_fields=["first_name", "last_name"])
    source.is_active = False
    source.merged_into = target
    source.set_unusable_password()
    source.save(update_fields=["is_active", "merged_into", "password"])

    # The moved certificates' directory entries follow the target's contact choice; each keeps
    # the name it was issued under.
    profile_changed(target)
    record(
        actor=actor,
        verb="account.merged",
        obj=target,
        data={
            "source": source.email,
            "source_id": source.pk,
            "moved": summary.moved,
            "resolved": summary.resolved,
        },
        reason=reason,
        now=now,
    )
    return summary


def _merge_profile(source: User, target: User) -> None:
    """The target's details win; blanks are filled from the source."""
    theirs = Profile.objects.filter(user=source).first()
    if theirs is None:
        return
    mine, _ = Profile.objects.get_or_create(user=target)
    changed = []
    for name in ("company", "address_line1", "address_line2", "city", "state", "postal_code", "phone"):
        if not getattr(mine, name) and getattr(theirs, name):
            setattr(mine, name, getattr(theirs, name))
            changed.append(name)
    if changed:
        mine.save(update_fields=[*changed, "updated_at"])
