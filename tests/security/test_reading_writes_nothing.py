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
# A few GETs are themselves the event the system must record, each named here with why. Nothing
# else may write: a new entry needs a reason as good as these.
RECORDED_READS: dict[tuple[str, str], str] = {
    ("training:lesson", "training_lessonactivity"): (
        "opening a lesson starts its study time, measured by the server (issue 19: training counts real study)"
    ),
    ("training:file", "training_lessonactivity"): "a document lesson counts as read when its file is served",
    ("trainers:content", "trainers_contentcompletion"): (
        "a ToR's program content (course information) counts as read when its page is opened"
    ),
    ("trainers:content", "audit_auditevent"): "that completion's audit event",
    ("trainers:content_document", "trainers_contentcompletion"): "a content PDF counts as read when served",
    ("exams:staff_bank_export", "audit_auditevent"): (
        "exam questions leaving the system are audited: who exported which bank, when"
    ),
    **{
        (page, table): why
        for page in ("exams:intro", "exams:result")
        for table, why in (
            ("exams_attempt", "the exam's page draws the candidate's paper ahead of the start (issue 20)"),
            ("exams_attemptquestion", "the paper's questions, drawn with it"),
            ("exams_answer", "the paper's empty answer rows, made with it"),
        )
    },
    ("payments:order", "payments_order"): (
        "a renewal order's price follows the day it is paid (DOMAIN: renewed means paid); the page"
        " brings it up to date, audited, before stating what paying now costs"
    ),
    ("payments:order", "payments_orderline"): "the repriced line",
    ("payments:order", "audit_auditevent"): "the repricing's audit event",
}
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


def test_every_recorded_read_is_a_page_that_exists() -> None:
    names = {route.name for route in routes()}
    assert {page for page, _ in RECORDED_READS} <= names


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
            found = [
                w
                for w in writes(queries.captured_queries)
                if (route.name, w.split()[1]) not in RECORDED_READS
            ]
            if found:
                failures.append(f"  {route.name:<42} {persona:<6} {', '.join(sorted(set(found)))}")
    assert not failures, "GET requests that wrote rows (url, persona, writes):\n" + "\n".join(failures)
