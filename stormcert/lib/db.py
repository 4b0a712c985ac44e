"""Row locks and once-only claims, the two ways a workflow makes concurrent requests and
concurrent `tick` runs take turns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

M = TypeVar("M", bound=models.Model)


def lock(obj: M, *related: str, also: tuple[str, ...] = ()) -> M:
    """`obj`'s row as it is now, read under SELECT … FOR UPDATE OF its own table.

    Call it inside a transaction, first thing, and go on with what it returns: every decision
    the workflow makes then reads the row as it is now, and a second request for the same row
    (two tabs, two clicks, a webhook and a redirect) waits until this one commits. `related`
    are forward relations to read in the same query (as `select_related`), read but not locked
    unless `also` names them. A fresh instance, always the whole row: the caller's object is left
    as it was (it may be partly loaded, or be changed by a form that failed).

    Only `obj`'s row is locked: a bare FOR UPDATE would lock every joined row too, and a joined
    row is often one many people share (the program, the exam, a session's trainer), so every
    workflow touching it would queue behind this one. `also` names the related rows (among
    `related`) that this workflow really means to lock as well."""
    queryset = type(obj)._default_manager.select_for_update(of=("self", *also))
    if related:
        queryset = queryset.select_related(*related)
    return queryset.get(pk=obj.pk)


def claim(obj: models.Model, where: Mapping[str, Any], **changes: Any) -> bool:
    """Apply `changes` to obj's row only while the row still matches `where` (a status still
    pending, a timestamp still empty); True when this call changed it. A conditional UPDATE, so
    of two concurrent requests exactly one wins (the other's UPDATE waits for the first to
    commit, then matches no row). `changes` are plain values: the winner's `obj` gets them too;
    the loser's is read again, so it can say what happened instead."""
    if not type(obj)._base_manager.filter(pk=obj.pk, **where).update(**changes):
        obj.refresh_from_db()
        return False
    for name, value in changes.items():
        setattr(obj, name, value)
    return True


def claim_stamp(obj: models.Model, field: str, now: datetime) -> bool:
    """Set the empty timestamp `field` on obj's row to `now`, unless it is already set (by an
    earlier or a concurrent run); True when this call set it."""
    return claim(obj, {f"{field}__isnull": True}, **{field: now})


def claim_row(model: type[models.Model], **fields: Any) -> bool:
    """Create the row `fields` describe, unless a unique constraint says it exists; True when this
    call created it. The insert runs in a savepoint, so losing the race leaves the caller's
    transaction usable."""
    try:
        with transaction.atomic():
            model._base_manager.create(**fields)
    except IntegrityError:
        return False
    return True
