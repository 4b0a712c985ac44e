"""Security headers on every response, no inline script anywhere, and sessions that start fresh
at sign-in and end at sign-out, at disablement and (elsewhere) at a password change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, client_for
from stormcert.accounts.models import User

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR) / "stormcert"


def directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path", ["/", "/directory/", "/accounts/login/", "/courses/", "/api/openapi.json"])
def test_every_page_carries_the_security_headers(programs: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    csp = directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no inline scripts, no eval, no other origin
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_a_document_keeps_its_own_sandbox_policy() -> None:
    """Uploaded PDFs are served with `sandbox`; the site-wide policy must not replace it."""
    from django.core.files.base import ContentFile
    from django.http import HttpRequest

    from stormcert.lib.uploads import pdf_response

    view_response = pdf_response(ContentFile(b"%PDF-1.4\n", name="x.pdf"), "x.pdf")
    from csp.middleware import CSPMiddleware

    response = CSPMiddleware(lambda request: view_response).process_response(HttpRequest(), view_response)
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    """The policy forbids them; this finds one before a browser refuses to run it."""
    offenders = []
    for template in ROOT.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and "application/json" not in attrs and "application/ld+json" not in attrs:
                offenders.append(f"{template.relative_to(ROOT)}: inline <script>")
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{template.relative_to(ROOT)}: inline event handler")
        if "javascript:" in text:
            offenders.append(f"{template.relative_to(ROOT)}: javascript: URL")
    assert not offenders, "\n".join(offenders)


# --- Sessions ----------------------------------------------------------------------------------


def sign_in(client: Client, email: str) -> None:
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]


def test_signing_in_starts_a_new_session(alice: User) -> None:
    client = Client()
    client.get(reverse("account_login"))
    session = client.session  # an anonymous session exists before signing in
    session["probe"] = 1
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    sign_in(client, alice.email)
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before  # a planted session id (fixation) is worthless after sign-in


def test_signing_out_ends_the_session(alice: User) -> None:
    client = Client()
    sign_in(client, alice.email)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("account_logout"))
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert thief.get(reverse("dashboard")).status_code == 302  # to the sign-in page


def test_disabling_an_account_ends_its_sessions(alice: User) -> None:
    client = Client()
    sign_in(client, alice.email)
    assert client.get(reverse("dashboard")).status_code == 200
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_a_password_change_ends_the_other_sessions(alice: User) -> None:
    laptop, phone = Client(), Client()
    sign_in(laptop, alice.email)
    sign_in(phone, alice.email)
    response = laptop.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "a-new-long-passphrase-42",
            "password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert laptop.get(reverse("dashboard")).status_code == 200  # the one that changed it stays in
    assert phone.get(reverse("dashboard")).status_code == 302


def test_session_cookies_are_not_readable_by_scripts(alice: User) -> None:
    client = client_for(alice)
    client.get(reverse("dashboard"))
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_a_database_outage_answers_503_with_retry_after() -> None:
    from django.db import OperationalError
    from django.test import RequestFactory

    from stormcert.core.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    outage = OperationalError("the database system is shutting down")
    page = middleware.process_exception(RequestFactory().get("/directory/"), outage)
    assert page is not None and page.status_code == 503 and page["Retry-After"] == "5"
    api = middleware.process_exception(RequestFactory().get("/api/verify/X"), outage)
    assert api is not None and api.status_code == 503 and b"briefly unavailable" in api.content
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("a bug")) is None  # stays a 500
