"""Property-based tests of the public JSON API from its own OpenAPI schema (schemathesis).

Every operation in /api/openapi.json gets generated requests, valid and invalid, sent through
the WSGI application; every response must be something other than a server error, and must
match what the schema promises (status code, content type, body). The examples are derandomized
so CI runs the same requests every time; a failure prints the exact request to replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from conftest import make_person
from stormcert.accounts.models import Profile
from stormcert.certificates.services import revoke_certificate
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.wsgi import application
from tests.certificates.builders import certify

# The schema is read from the running application (no database needed to render it), once, at
# collection. (schemathesis.pytest.from_fixture would defer it, but relies on a pytest internal
# that pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def api_world(db: Any, settings: Any) -> Iterator[None]:
    # The WSGI test client calls itself "localhost". Rate limits go up so that a 429 never
    # hides a request that would have failed.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    settings.RATE_LIMIT_PUBLIC = "1000000/m"
    _holders()
    # A real WSGI request closes the database connection when it ends; inside the test's
    # transaction that would close it under the test. Django's own test client unhooks the
    # same handler for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _holders() -> None:
    """A few certificates in every status, one holder sharing contact details, so searches and
    verifications return real rows rather than only empty answers."""
    load_definition_file(DEFAULT_DEFINITION)
    ana = make_person("ana@example.com", first_name="Ana", last_name="Ávila")
    Profile.objects.filter(user=ana).update(
        company="Delta Metals", city="Stockton", phone="209-555-0100", show_contact_in_directory=True
    )
    certify(ana, issued_on=date(2025, 6, 1))
    certify(make_person("ben@example.com", first_name="Ben", last_name="Old"), issued_on=date(2020, 1, 1))
    gone = certify(make_person("cy@example.com", first_name="Cy", last_name="Revoked"))
    staff = make_person("sam@example.com", staff=True)
    revoke_certificate(certificate=gone, actor=staff, reason="issued in error")


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_answers_every_request_as_its_schema_says(case: Case, api_world: None) -> None:
    response = case.call()
    if _an_unknown_program_refused_in_words(case, response):
        # The directory refuses a program code that no public program has, with 400 naming the
        # codes it knows. The schema cannot list those codes (they are data, and the schema is
        # read at collection, without a database), so a well-formed unknown code is schema-valid:
        # that one refusal is not "valid data rejected". Everything else about the answer is
        # still checked, and any other rejection of valid data still fails. (Whether hypothesis
        # tries a non-empty code depended on what ran before in the process: the test passed in
        # the whole suite and failed alone.)
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        return
    case.validate_response(response)


def _an_unknown_program_refused_in_words(case: Case, response: Any) -> bool:
    program = (case.query or {}).get("program")
    return (
        case.operation.path == "/api/directory"
        and bool(program)
        and response.status_code == 400
        and "program must be the code of a public program" in response.json().get("detail", "")
    )


def test_an_unknown_program_code_is_refused_in_words(api_world: None, client: Any) -> None:
    refused = client.get("/api/directory", {"program": "0" * 29})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "program must be the code of a public program: QISP, IGP-TOR."
    assert client.get("/api/directory", {"program": "QISP"}).json()["count"] == 3


# What schemathesis found, pinned as plain tests.


def test_a_page_past_the_last_is_empty_not_an_error(api_world: None, client: Any) -> None:
    body = client.get("/api/directory", {"page": 99}).json()
    assert body["results"] == [] and body["page"] == 99 and body["pages"] == 1 and body["count"] == 3


def test_the_schema_lists_sort_and_status_values_and_the_422_answer(client: Any) -> None:
    spec = client.get("/api/openapi.json").json()
    parameters = {p["name"]: p["schema"] for p in spec["paths"]["/api/directory"]["get"]["parameters"]}
    assert "-expires" in parameters["sort"]["enum"] and "revoked" in parameters["status"]["enum"]
    for path, method in (("/api/directory", "get"), ("/api/verify", "post"), ("/api/verify/{number}", "get")):
        assert "422" in spec["paths"][path][method]["responses"], path
    # Invalid input is 422 with ninja's list of problems, as documented.
    refused = client.post("/api/verify", {}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "numbers"
