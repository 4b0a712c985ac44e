"""How exam records settle when two accounts are merged (see accounts.merge)."""

from __future__ import annotations

from datetime import datetime

from stormcert.accounts.merge import on_merge
from stormcert.accounts.models import User
from stormcert.exams.models import Accommodation


@on_merge
def settle_accommodations(source: User, target: User, now: datetime) -> dict[str, int]:
    """One accommodation in force per person: the account that stays keeps its own; the other
    one's ends (it stays on record, revoked at the merge)."""
    if not Accommodation.objects.filter(user=target, revoked_at__isnull=True).exists():
        return {}
    n = Accommodation.objects.filter(user=source, revoked_at__isnull=True).update(revoked_at=now)
    return {"accommodations ended": n} if n else {}
