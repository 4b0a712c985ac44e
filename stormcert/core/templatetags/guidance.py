"""`{% next_step program %}`: the person's one next step in a program (core.next_steps), for pages
of the lower apps that end with one (the exam result). A template asks core, the composition
root, as the Qualification page asks renewals for its panel: no lower app imports core."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from stormcert.core.next_steps import certificate_step, next_step_in
from stormcert.programs.models import Program
from stormcert.renewals.services import current_certificate

register = template.Library()


@register.inclusion_tag("core/_next_step.html", takes_context=True)
def next_step(context: dict[str, Any], program: Program) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"step": None}
    now = timezone.now()
    step = next_step_in(user, program, now)
    certificate = current_certificate(user, program)
    # The certificate as the next step: show everything it gives (PDF, credential, directory).
    held = certificate is not None and step == certificate_step(certificate)
    return {"step": step, "certificate": certificate if held else None}
