"""Links that leave the site: in emails, calendar files, PDFs and credentials."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse


def absolute_url(name: str, *args: object) -> str:
    """The full address of URL pattern `name` (with `args`), on `SITE_URL`.

    Mail, calendar entries and documents are read away from any request, so the address comes
    from the configured site, never from a request's Host header (which a client chooses)."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args or None)


def absolute(path: str) -> str:
    """`path` (as `reverse` gives it) on `SITE_URL`, for mail and documents."""
    return settings.SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class NextStep:
    """The one thing a person should do next, as a page or an email says it: `lead` says what is
    now open or done (a sentence, may be ""), `text` is the link's words, `path` where it goes."""

    text: str
    path: str
    lead: str = ""

    @property
    def url(self) -> str:
        return absolute(self.path)
