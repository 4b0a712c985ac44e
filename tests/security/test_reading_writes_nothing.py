"""Reading a page changes nothing: every URL of the URL conf asked with GET, as each signed-in
persona of the access-matrix world, writes no row (a GET that made an enrollment or a renewal
row as a side effect was how this started). The session and the sign-in bookkeeping are the
only tables a GET may touch; the rate-limit counters live in the cache, not the database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.security import test_access_matrix as matrix
from tests.security.test_access_matrix import _clients, routes, url_for
from tests.security.world import World

# The access matrix's fixtures: the same world and the same quiet logger.
matrix_world = matrix.world
quiet_refusals = matrix.quiet_refusals

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# Django's own per-request bookkeeping, not the application's state.
ALLOWED_TABLES = {"django_session"}
# Signed-in personas, each the owner of some of the world's objects.
READERS = ("alice", "bob", "tom", "rita", "sara")


def writes(queries: list[dict[str, Any]]) -> list[str]:
    found = []
    for query in queries:
        match = WRITE.match(query["sql"])
        if match and match.group(2).lower() not in ALLOWED_TABLES:
            found.append(f"{match.group(1).split()[0].upper()} {match.group(2)}")
    return found


def test_the_write_detector_sees_writes() -> None:
    assert writes([{"sql": 'INSERT INTO "enrollments_enrollment" ("user_id") VALUES (1)'}]) == [
        "INSERT enrollments_enrollment"
    ]
    assert writes([{"sql": 'UPDATE "django_session" SET x = 1'}]) == []
    assert writes([{"sql": 'SELECT "a" FROM "b"'}]) == []


@pytest.mark.usefixtures("quiet_refusals")
def test_no_get_writes_a_row(matrix_world: World) -> None:
    world = matrix_world
    clients = _clients(world)
    failures = []
    for route in routes():
        url = url_for(route, world)
        for persona in READERS:
            with CaptureQueriesContext(connection) as queries:
                try:
                    clients[persona].get(url)
                except Exception:  # noqa: S112 - a 500 is the access matrix's to report
                    continue
            found = writes(queries.captured_queries)
            if found:
                failures.append(f"  {route.name:<42} {persona:<6} {', '.join(sorted(set(found)))}")
    assert not failures, "GET requests that wrote rows (url, persona, writes):\n" + "\n".join(failures)
