"""`{% renewal_panel %}`: the renewal summary other pages (the Qualification page) show."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from stormcert.renewals.services import renewable_certificates, renewal_status

register = template.Library()


@register.inclusion_tag("renewals/_panel.html", takes_context=True)
def renewal_panel(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    now = timezone.now()
    return {"statuses": [renewal_status(c, now) for c in renewable_certificates(user)], "compact": True}
