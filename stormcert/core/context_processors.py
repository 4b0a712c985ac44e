from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    from stormcert.trainers.services import active_term

    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEBUG": settings.DEBUG,
        # Called by the template only where the menu renders it: one query for signed-in people.
        "is_trainer": lambda: user is not None and active_term(user) is not None,
        "is_reviewer": lambda: (
            user is not None
            and user.is_authenticated
            and not user.is_staff
            and user.groups.filter(name="reviewer").exists()
        ),
    }
