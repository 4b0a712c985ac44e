"""Staff powers only after two-factor, everywhere (issue 16, part 1).

A staff account that has not passed two-factor in its session (no authenticator app at all, or an
app whose code this session never gave) read another candidate's order and receipt, their
certificate and credential, an accommodation medical letter, ToR application documents and a ToR's
roster with emails, and cancelled a ToR's session. Each of those is asked here, against the
access-matrix world, as both kinds of staff without two-factor (refused, as a candidate would be)
and as staff with it (allowed). The last test keeps bare `is_staff` checks out of the source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from conftest import client_for
from stormcert.courses.models import CourseSession
from stormcert.emails.models import OutboundEmail
from tests.security.world import World, build_world


@pytest.fixture
def world(db: Any, tmp_path: Path) -> Iterator[World]:
    with override_settings(MEDIA_ROOT=tmp_path / "media", RATE_LIMIT_PUBLIC="100000/m"):
        yield build_world()


@dataclass(frozen=True)
class Leak:
    what: str
    url: str
    # Something only the staff answer carries (alice's email on the roster, a PDF's first bytes).
    marker: bytes


def leaks(world: World) -> list[Leak]:
    o = world.objects
    alice = world.users["alice"]
    order, certificate = o["order"], o["certificate"]
    return [
        Leak(
            "another candidate's order", reverse("payments:order", args=[order.number]), order.number.encode()
        ),
        Leak("their receipt PDF", reverse("payments:receipt_pdf", args=[order.number]), b"%PDF"),
        Leak("their certificate PDF", reverse("certificates:pdf", args=[certificate.number]), b"%PDF"),
        Leak(
            "their signed credential", reverse("certificates:credential", args=[certificate.number]), b"eyJ"
        ),
        Leak(
            "an accommodation medical letter",
            reverse("exams:accommodation_document", args=[o["accommodation"].pk]),
            b"%PDF",
        ),
        Leak(
            "a ToR application document",
            reverse("trainers:document", args=["IGP-TOR", o["document"].pk]),
            b"%PDF",
        ),
        Leak(
            "a ToR's roster with emails",
            reverse("courses:roster", args=[o["session"].pk]),
            alice.email.encode(),
        ),
    ]


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def without_two_factor(world: World) -> dict[str, Client]:
    """Both kinds: sam never set up the app; stan has one, but his session never gave its code."""
    return {persona: client_for(world.users[persona]) for persona in ("sam", "stan")}


def test_staff_data_needs_two_factor_in_the_session(world: World) -> None:
    # Refused as bob (a plain candidate) is refused: 404 for someone else's object, 403 for a
    # trainer's page; never the data.
    bob = client_for(world.users["bob"])
    refused: list[str] = []
    for leak in leaks(world):
        candidate_status = bob.get(leak.url).status_code
        assert candidate_status in (403, 404), leak
        for persona, client in without_two_factor(world).items():
            response = client.get(leak.url)
            if response.status_code != candidate_status or leak.marker in body(response):
                refused.append(f"{leak.what}: {persona} got {response.status_code}, bob {candidate_status}")
    assert not refused, "Staff without two-factor were given staff data:\n" + "\n".join(refused)

    staff = client_for(world.users["sara"], mfa=True)
    for leak in leaks(world):
        response = staff.get(leak.url)
        assert response.status_code == 200, leak
        assert leak.marker in body(response), leak


def test_cancelling_a_tors_session_needs_two_factor(world: World) -> None:
    session: CourseSession = world.objects["session"]
    url = reverse("courses:cancel", args=[session.pk])
    emails_before = OutboundEmail.objects.count()
    for persona, client in without_two_factor(world).items():
        response = client.post(url, {"reason": "Trainer unwell"})
        assert response.status_code == 403, persona
        session.refresh_from_db()
        assert not session.is_cancelled, persona
    assert OutboundEmail.objects.count() == emails_before  # nobody was told anything

    staff = client_for(world.users["sara"], mfa=True)
    response = staff.post(url, {"reason": "Trainer unwell"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.is_cancelled
    assert OutboundEmail.objects.filter(to__icontains=world.users["alice"].email).count() > 0


def test_staff_without_two_factor_see_no_staff_branch_of_a_page(world: World) -> None:
    # The session page shows the trainer's and staff's links (roster, edit, cancel) only to them.
    url = reverse("courses:session", args=[world.objects["session"].pk])
    roster = reverse("courses:roster", args=[world.objects["session"].pk])
    for persona, client in without_two_factor(world).items():
        assert roster not in client.get(url).content.decode(), persona
    assert roster in client_for(world.users["sara"], mfa=True).get(url).content.decode()


# --- No bare is_staff check in the source ---------------------------------------------------------

ROOT = Path(settings.BASE_DIR) / "stormcert"

# Reading the account flag is allowed only where it is not a decision about this request's powers.
ALLOWED: dict[str, str] = {
    "lib/staff.py": "the one place that decides staff powers (has_staff_powers)",
    "accounts/middleware.py": "sends staff accounts without two-factor to set it up; grants nothing",
    "accounts/models.py": "the field itself, and the account's role",
    "accounts/merge.py": "a data rule about the accounts merged (staff accounts never are), not a power",
    "backoffice/templates/backoffice/person.html": "shows whether the person looked at is staff",
    "backoffice/templates/backoffice/people.html": "shows whether each person listed is staff",
}
# Python: reading the attribute, or asking for it by name. Templates: any mention.
PY_CHECK = re.compile(r"\.is_staff\b|[\"']is_staff[\"']\s*\)|has_role\(\s*Role\.STAFF")
HTML_CHECK = re.compile(r"\bis_staff\b")


def bare_staff_checks(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".html") or "migrations" in path.parts:
            continue
        pattern = PY_CHECK if path.suffix == ".py" else HTML_CHECK
        lines = [
            f"{n}: {line.strip()}"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line) and not line.lstrip().startswith("#")
        ]
        if lines:
            found[path.relative_to(root).as_posix()] = lines
    return found


def test_no_view_service_or_template_checks_is_staff_on_its_own() -> None:
    found = bare_staff_checks(ROOT)
    offending = {name: lines for name, lines in found.items() if name not in ALLOWED}
    assert not offending, (
        "Staff powers are decided by stormcert.lib.staff.has_staff_powers(request) "
        "(staff_required, a `staff=` argument to services, `staff_powers` in templates), never by "
        "the account's is_staff flag alone (a staff account without two-factor would get them):\n"
        + "\n".join(f"  {name}:{line}" for name, lines in offending.items() for line in lines)
    )
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"No is_staff left in these; remove them from ALLOWED: {stale}"


def test_the_source_check_finds_a_bare_check(tmp_path: Path) -> None:
    # The check itself must be able to fail: these are the shapes that leaked before.
    (tmp_path / "views.py").write_text(
        "def v(request):\n    if order.user_id != user.pk and not request.user.is_staff:\n        pass\n"
    )
    (tmp_path / "services.py").write_text("ok = getattr(user, 'is_staff')\nok = user.has_role(Role.STAFF)\n")
    (tmp_path / "page.html").write_text("{% if user.is_staff %}<a href='/staff/'>Staff</a>{% endif %}\n")
    (tmp_path / "fine.py").write_text(
        "staff = has_staff_powers(request)\nUser.objects.filter(is_staff=True)\n"
    )
    found = bare_staff_checks(tmp_path)
    assert set(found) == {"views.py", "services.py", "page.html"}
    assert len(found["services.py"]) == 2
