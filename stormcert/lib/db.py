"""Row locks and once-only claims, the two ways a workflow makes concurrent requests and
concurrent `tick` runs take turns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

M = TypeVar("M", bound=models.Model)


def lock(obj: M, *related: str) -> M:
    """Refresh `obj` from its row under SELECT … FOR UPDATE and return it.

    Call it inside a transaction, first thing, so every decision the workflow makes reads the
    row as it is now and a second request for the same row (two tabs, two clicks, a webhook and
    a redirect) waits until this one commits. `related` are forward relations to load in the
    same query (like `select_related`), so the workflow reads them from the locked snapshot too.
    The object is refreshed in place: a caller holding it sees the locked values."""
    queryset = type(obj)._base_manager.select_for_update()
    if related:
        queryset = queryset.select_related(*related)
    obj.refresh_from_db(from_queryset=queryset)
    return obj


def claim_stamp(obj: models.Model, field: str, now: datetime) -> bool:
    """Set the empty timestamp `field` on obj's row to `now`, unless it is already set; True
    when this call set it. A conditional UPDATE, so of two concurrent runs exactly one wins
    (the other's UPDATE waits for the first to commit, then matches no row)."""
    model = type(obj)
    won = model._base_manager.filter(pk=obj.pk, **{f"{field}__isnull": True}).update(**{field: now})
    if won:
        setattr(obj, field, now)
    return bool(won)


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
