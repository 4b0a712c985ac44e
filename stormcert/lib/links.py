"""Links that leave the site: in emails, calendar files, PDFs and credentials."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(name: str, *args: object) -> str:
    """The full address of URL pattern `name` (with `args`), on `SITE_URL`.

    Mail, calendar entries and documents are read away from any request, so the address comes
    from the configured site, never from a request's Host header (which a client chooses)."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args or None)
