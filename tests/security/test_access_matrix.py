"""The access-control matrix: every URL of the URL conf × every persona, against access_rules.RULES.

A new view without a rule fails `test_every_url_has_a_rule`; a rule for a URL that is gone fails
`test_no_rule_without_a_url`. `test_access_matrix` builds one world (tests/security/world.py),
then asks every URL as every persona and reports every mismatch at once, as a table.

To see what the views answer today (for writing a rule, not for copying blindly):
    ACCESS_MATRIX_DUMP=1 .venv/bin/pytest tests/security/test_access_matrix.py -k matrix -s
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import client_for
from stormcert.core.demo.training import COURSE_CODE
from tests.security.access_rules import (
    NOT_ALLOWED,
    PERSONAS,
    REFUSALS,
    RULES,
    WITHOUT_TWO_FACTOR,
    Outcome,
    Rule,
)
from tests.security.world import World, build_world

# Django's admin has its own permission system (is_staff + model permissions) and is not ours to
# re-test view by view; test_access_matrix only checks its door. The API is also fuzzed by
# test_api_schema.py, but its URLs are in the matrix like any other.
SKIPPED_PREFIXES = ("admin/",)


@dataclass(frozen=True)
class Route:
    name: str  # the rule's key: the URL name, or "name(arg,…)" for a second pattern of one name
    route: str
    kwargs: tuple[str, ...]
    url_name: str = ""  # the name to reverse, when `name` carries the arguments

    @property
    def reverse_name(self) -> str:
        return self.url_name or self.name


def _walk(patterns: list[Any], prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            # Unnamed patterns are keyed by their route, so they cannot hide from the rules either.
            name = f"{namespace}:{pattern.name}" if (pattern.name and namespace) else (pattern.name or route)
            yield Route(name, route, tuple(pattern.pattern.regex.groupindex))


def routes() -> list[Route]:
    """Every URL pattern once. Two patterns may share a name with other arguments (`/tor/` and
    `/tor/<code>/` are both `trainers:home`): the second is its own route, keyed
    "trainers:home(code)", so each has a rule and neither hides behind the other."""
    found: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        first = found.get(route.name)
        if first is not None and first.kwargs != route.kwargs:
            key = f"{route.name}({','.join(route.kwargs)})"
            route = Route(key, route.route, route.kwargs, url_name=route.name)
        found.setdefault(route.name, route)
    return sorted(found.values(), key=lambda r: r.name)


def test_every_url_has_a_rule() -> None:
    missing = [f"  {r.name:<45} /{r.route}" for r in routes() if r.name not in RULES]
    assert not missing, (
        "These URLs have no access rule. Add one to tests/security/access_rules.py (RULES) saying "
        "what each persona must get:\n" + "\n".join(missing)
    )


def test_no_rule_without_a_url() -> None:
    names = {r.name for r in routes()}
    stale = sorted(set(RULES) - names)
    assert not stale, f"Rules for URLs that no longer exist; remove them from access_rules.RULES: {stale}"


# How each URL's arguments are filled from the world: first by (URL name, argument), then by
# argument name alone. A new URL argument with neither fails the matrix with a clear message.
def _by_name(world: World) -> dict[tuple[str, str], Any]:
    o = world.objects
    order, open_order = o["order"], o["payment"].order
    number = o["certificate"].number
    return {
        ("payments:order", "number"): order.number,
        ("payments:receipt", "number"): order.number,
        ("payments:receipt_pdf", "number"): order.number,
        ("payments:pay", "number"): open_order.number,
        ("payments:stripe_return", "number"): open_order.number,
        ("payments:staff_order", "number"): order.number,
        ("payments:staff_order_record_payment", "number"): order.number,
        ("payments:staff_order_refund", "number"): order.number,
        ("payments:staff_order_cancel", "number"): order.number,
        ("certificates:pdf", "number"): number,
        ("certificates:credential", "number"): number,
        ("directory:verify", "number"): number,
        ("renewals:start", "number"): number,
        ("api:verify_one", "number"): number,
        ("program", "code"): "QISP",
        ("help", "code"): "QISP",
        ("enrollments:qualification", "code"): "QISP",
        ("enrollments:acknowledge", "code"): "QISP",
        ("enrollments:self_assessment", "code"): "QISP",
        ("enrollments:register", "code"): "QISP",
        ("enrollments:resolve", "code"): "QISP",
        ("enrollments:self_directed", "code"): "QISP",
        ("exams:intro", "code"): "QISP",
        ("exams:start", "code"): "QISP",
        ("certificates:issuer", "code"): "QISP",
        ("certificates:achievement", "code"): "QISP",
        ("certificates:revocations", "code"): "QISP",
        ("emails:message", "pk"): world.pk("email"),
        ("email_send_again", "pk"): world.pk("email"),
        ("exams:staff_accommodation_end", "pk"): world.pk("granted_accommodation"),
        ("enrollments:staff_detail", "pk"): world.pk("enrollment"),
        ("exams:accommodation_withdraw", "pk"): world.pk("accommodation"),
        ("exams:staff_accommodation_decide", "pk"): world.pk("accommodation"),
        ("exams:accommodation_document", "pk"): world.pk("accommodation"),
        ("enrollments:self_directed_document", "pk"): world.pk("self_directed"),
        ("enrollments:staff_self_directed_decide", "pk"): world.pk("self_directed"),
        ("exams:staff_bank_import", "pk"): world.pk("bank_import"),
        ("exams:staff_bank_import_confirm", "pk"): world.pk("bank_import"),
        ("exams:staff_bank_import_discard", "pk"): world.pk("bank_import"),
        ("exams:staff_bank_export", "pk"): world.objects["bank_import"].bank_id,
        ("courses:staff_decide", "pk"): world.pk("virtual_session"),
        ("courses:plan", "pk"): world.pk("virtual_session"),
        ("trainers:home", "code"): "IGP-TOR",
        ("trainers:rfq_document", "code"): "IGP-TOR",
        ("trainers:apply", "code"): "IGP-TOR",
        ("trainers:application", "code"): "IGP-TOR",
        ("trainers:pay", "code"): "IGP-TOR",
        ("trainers:upload", "code"): "IGP-TOR",
        ("trainers:remove_document", "code"): "IGP-TOR",
        ("trainers:document", "code"): "IGP-TOR",
        ("trainers:orientation", "code"): "IGP-TOR",
        ("trainers:course_info", "code"): "IGP-TOR",
        ("trainers:agreement", "code"): "IGP-TOR",
        ("trainers:renewal_meeting", "code"): "IGP-TOR",
        ("trainers:renewal_pay", "code"): "IGP-TOR",
        ("trainers:rfq_document", "pk"): world.pk("cycle"),
        ("trainers:staff_cycle", "pk"): world.pk("cycle"),
        ("trainers:remove_document", "pk"): world.pk("document"),
        ("trainers:document", "pk"): world.pk("document"),
        ("trainers:review", "pk"): world.pk("assignment"),
        ("trainers:staff_application", "pk"): world.pk("application"),
        ("trainers:staff_confirm_renewal", "pk"): world.pk("term_renewal"),
        ("trainers:staff_end_term", "pk"): world.pk("term"),
        ("trainers:staff_send_fee_notice", "pk"): world.pk("term"),
        ("trainers:staff_assign", "pk"): world.pk("cycle"),
        ("trainers:staff_content", "pk"): world.pk("tor_content"),
        ("trainers:content", "pk"): world.pk("tor_content"),
        ("trainers:content", "code"): "IGP-TOR",
        ("trainers:content_document", "pk"): world.pk("tor_content"),
        ("trainers:content_document", "code"): "IGP-TOR",
        ("trainers:content_attended", "pk"): world.pk("tor_content"),
        ("trainers:content_attended", "code"): "IGP-TOR",
        ("certificates:staff_detail", "pk"): world.pk("certificate"),
        ("certificates:staff_revoke", "pk"): world.pk("certificate"),
        ("certificates:staff_reinstate", "pk"): world.pk("certificate"),
        ("certificates:name_change_document", "pk"): world.pk("name_change"),
        ("certificates:name_change_withdraw", "pk"): world.pk("name_change"),
        ("certificates:staff_name_change_decide", "pk"): world.pk("name_change"),
        ("backoffice:person", "pk"): world.pk_of_user("alice"),
        ("backoffice:import_run", "pk"): world.pk("import_run"),
        ("backoffice:import_columns", "pk"): world.pk("import_run"),
        ("backoffice:import_check", "pk"): world.pk("import_run"),
        ("backoffice:import_apply", "pk"): world.pk("import_run"),
        ("backoffice:import_report", "pk"): world.pk("import_run"),
        ("backoffice:claim_decide", "pk"): world.pk("claim"),
        ("training:file", "lesson_id"): world.pk("document_lesson"),
        ("backoffice:report_csv", "slug"): "expiring",
        ("backoffice:rules_new", "code"): "QISP",
        ("backoffice:fee_new", "code"): "QISP",
    }


def _by_argument(world: World) -> dict[str, Any]:
    return {
        "pk": world.pk("session"),  # courses:* and teach/* take the session
        "attempt_id": world.pk("attempt"),
        "seat_id": world.pk("seat"),
        "payment_id": world.pk("payment"),
        "exam_id": world.pk("exam"),
        "step_code": "midterm",
        "code": COURSE_CODE,
        "lesson_id": world.pk("lesson"),
        # Tokens and keys: a well-formed but wrong one (the view must refuse it politely).
        "token": "not-a-real-token",
        "key": "not-a-real-key",
        "uidb36": "zz",
    }


def url_for(route: Route, world: World) -> str:
    if not route.kwargs:
        return "/" + route.route if route.name == route.route else reverse(route.reverse_name)
    by_name, by_argument = _by_name(world), _by_argument(world)
    values = {}
    for kwarg in route.kwargs:
        if (route.reverse_name, kwarg) in by_name:
            values[kwarg] = by_name[(route.reverse_name, kwarg)]
        elif kwarg in by_argument and (kwarg != "pk" or route.reverse_name.startswith("courses:")):
            values[kwarg] = by_argument[kwarg]
        else:
            # A bare <pk> is a course session's only for the courses' own URLs: any other view's pk
            # must say which object it is (import_columns once got a session's pk and passed or
            # failed by which ids the database happened to hand out).
            raise LookupError(f"{route.name}: no value for <{kwarg}>; add one to _by_name in {__file__}")
    return reverse(route.reverse_name, kwargs=values)


def classify(response: HttpResponse) -> Outcome | str:
    status = response.status_code
    if 200 <= status < 300:
        return Outcome.OK
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        if location.startswith(resolve_url(settings.LOGIN_URL)):
            return Outcome.LOGIN
        if location.startswith((reverse("mfa_activate_totp"), reverse("mfa_reauthenticate"))):
            return Outcome.TWO_FACTOR
        return Outcome.REDIRECT
    known = {403: Outcome.FORBIDDEN, 404: Outcome.NOT_FOUND, 405: Outcome.NOT_ALLOWED, 400: Outcome.BAD}
    return known.get(status, str(status))


@pytest.fixture
def world(db: Any, tmp_path: Path) -> Iterator[World]:
    # Uploaded documents go to a scratch folder; rate limits are raised so 429s hide nothing.
    with override_settings(MEDIA_ROOT=tmp_path / "media", RATE_LIMIT_PUBLIC="100000/m"):
        yield build_world()


def _clients(world: World) -> dict[str, Client]:
    # sara's session carries two-factor as after a real sign-in; sam's and stan's do not.
    clients = {"visitor": Client()}
    for persona in PERSONAS[1:]:
        clients[persona] = client_for(world.users[persona], mfa=persona == "sara")
    return clients


@pytest.fixture
def quiet_refusals() -> Iterator[None]:
    # Hundreds of expected 403/404/405 warnings would bury the table; errors (500s) still show.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.usefixtures("quiet_refusals")
def test_access_matrix(world: World) -> None:
    clients = _clients(world)
    failures: list[tuple[str, str, str, str, str]] = []
    observed: dict[str, dict[str, str]] = {}

    def check(route: Route, url: str, persona: str, method: str, expected: frozenset[Outcome]) -> None:
        send: Callable[..., HttpResponse] = getattr(clients[persona], method.lower())
        try:
            response = send(url)
        except Exception as exc:  # an exception is a 500 the user would see
            got: Outcome | str = f"500 ({type(exc).__name__}: {exc})"
        else:
            got = classify(response)
        if method == "GET":
            observed.setdefault(route.name, {})[persona] = str(got)
        if got not in expected:
            failures.append((route.name, persona, method, "/".join(sorted(expected)), str(got)))

    for route in routes():
        rule = RULES.get(route.name)
        url = url_for(route, world)
        for persona in PERSONAS:
            if rule is None:
                check(route, url, persona, "GET", frozenset())
                continue
            expected = rule.expected(persona, url)
            check(route, url, persona, "GET", expected)
            refused_on_get = expected <= REFUSALS
            may_not_act = rule.post_only and not rule.may_act(persona)
            if refused_on_get or may_not_act:
                # The same view must refuse a POST too: a check done only for GET is no check.
                check(route, url, persona, "POST", REFUSALS | rule.post_refusal | {NOT_ALLOWED})

    # The door to the Django admin (skipped above): only staff with two-factor get in (staff
    # without it are sent to set it up or give the code); the admin's own permissions do the rest.
    for persona in PERSONAS:
        response = clients[persona].get("/admin/")
        got = (
            "ok" if response.status_code == 200 else f"{response.status_code} {response.get('Location', '')}"
        )
        if persona == "sara":
            want, right = "ok", response.status_code == 200
        elif persona in WITHOUT_TWO_FACTOR:
            want, right = "2fa", classify(cast(HttpResponse, response)) == Outcome.TWO_FACTOR
        else:
            want, right = "login", response.status_code == 302 and "/login" in response.get("Location", "")
        if not right:
            failures.append(("admin/", persona, "GET", want, got))

    if os.environ.get("ACCESS_MATRIX_DUMP"):
        for name, answers in sorted(observed.items()):
            print(f"{name:<45} " + " ".join(f"{p}={answers.get(p, '-')}" for p in PERSONAS))

    assert not failures, "Access-control mismatches (url, persona, method, expected, got):\n" + "\n".join(
        f"  {name:<42} {persona:<8} {method:<5} expected {want:<22} got {got}"
        for name, persona, method, want, got in failures
    )


def test_classify_tells_a_login_redirect_from_another() -> None:
    login = HttpResponse(status=302)
    login["Location"] = resolve_url(settings.LOGIN_URL) + "?next=/x/"
    elsewhere = HttpResponse(status=302)
    elsewhere["Location"] = "/qualification/"
    assert classify(login) == Outcome.LOGIN and classify(elsewhere) == Outcome.REDIRECT
    assert classify(HttpResponse(status=500)) == "500"


def test_a_rule_is_required_for_each_persona() -> None:
    # A Rule names all six personas: forgetting one is a TypeError, not a silent pass. (sam and
    # stan, staff without two-factor, follow bob unless a rule names them.)
    with pytest.raises(TypeError):
        Rule(visitor=Outcome.OK)  # type: ignore[call-arg]


def test_staff_without_two_factor_follow_the_other_candidate() -> None:
    from tests.security.access_rules import NOT_FOUND, OK, OWNER, TWO_FACTOR

    rule = OWNER.but(sara=OK)  # alice's object that staff may see
    for persona in WITHOUT_TWO_FACTOR:
        assert rule.expected(persona, "/orders/X/") == rule.expected("bob") == {NOT_FOUND}
        assert rule.expected(persona, "/staff/orders/X/") == {TWO_FACTOR}
        assert rule.expected(persona, "/admin/") == {TWO_FACTOR}
    assert rule.but(stan=OK).expected("stan", "/accounts/2fa/reauthenticate/") == {OK}
    # Where bob may act (his POST is not sent: it would change the world), so may they.
    assert rule.but(post_only=True, may_post=frozenset({"bob"})).may_act("sam")
    assert not rule.but(post_only=True, may_post=frozenset({"sara"})).may_act("sam")
