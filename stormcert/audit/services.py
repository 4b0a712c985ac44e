"""`record(...)`: the one way to write an audit event."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from stormcert.audit.models import AuditEvent


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through Django's encoder so dates, decimals and UUIDs are stored as text.
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def record(
    *,
    actor: Any | None,
    verb: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    reason: str = "",
    ip_address: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user or None for the system (tick, webhooks)."""
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        at=now or timezone.now(),
        actor=actor if is_person else None,
        actor_label=getattr(actor, "email", "") if is_person else "system",
        verb=verb,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        data=_jsonable(data),
        reason=reason,
        ip_address=ip_address,
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ, as {"field": [before, after]}."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
