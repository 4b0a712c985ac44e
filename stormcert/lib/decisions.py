"""Requests that staff decide once (a name change, an exam accommodation, a claim of an earlier
record): each has `status`, `decided_by`, `decided_at` and `decision_reason`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.db import models

from stormcert.lib.db import claim, lock

R = TypeVar("R", bound=models.Model)


def lock_pending(
    request: R, *related: str, pending: str, closed: type[Exception], also: tuple[str, ...] = ()
) -> R:
    """The request's row, locked, while it still waits for a decision. A double click, or two
    staff members deciding at once, decide it once: the second is told (`closed`) who decided
    it first. `related` and `also` as for `lib.db.lock`."""
    locked = lock(request, *related, also=also)
    current: Any = locked
    if current.status != pending:
        who = f" by {current.decided_by.email}" if current.decided_by else ""
        raise closed(
            f"This request was already {current.get_status_display().lower()}{who}; nothing was changed."
        )
    return locked


def mark_decided(
    request: models.Model, *, status: str, actor: Any, reason: str, now: datetime, also: Iterable[str] = ()
) -> None:
    """Write the decision on the (locked) request: `also` names other fields the decision set."""
    current: Any = request
    current.status = status
    current.decided_by = actor
    current.decided_at = now
    current.decision_reason = reason
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", *also])


def withdraw_pending(
    request: models.Model,
    *,
    owner_id: int,
    by: Any,
    pending: str,
    withdrawn: str,
    missing: type[Exception],
    closed: type[Exception],
    now: datetime,
) -> None:
    """Its owner takes back a request still waiting (a typo in it, a change of mind). Anyone else
    is told there is no such request; one decided meanwhile stays decided (`closed` says how).
    The caller audits the withdrawal (the audit log sits above this layer)."""
    if owner_id != by.pk:
        raise missing("No such request.")
    if not claim(request, {"status": pending}, status=withdrawn, withdrawn_at=now):
        current: Any = request
        raise closed(
            f"This request was already {current.get_status_display().lower()}; there is nothing to withdraw."
        )
