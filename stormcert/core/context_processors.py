from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from stormcert.lib.staff import has_staff_powers


def site(request: HttpRequest) -> dict[str, Any]:
    from stormcert.trainers.services import active_term

    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEBUG": settings.DEBUG,
        # Template branches that show staff links or staff data ask this, never `user.is_staff`:
        # a staff account without two-factor in this session is a plain signed-in person.
        "staff_powers": lambda: has_staff_powers(request),
        # Called by the template only where the menu renders it: one query for signed-in people.
        "is_trainer": lambda: user is not None and active_term(user) is not None,
        "is_reviewer": lambda: (
            user is not None
            and user.is_authenticated
            and not has_staff_powers(request)
            and user.groups.filter(name="reviewer").exists()
        ),
    }
