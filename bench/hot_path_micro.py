"""Micro-timings of what issue 16 added to two hot paths (the answer save's body and a typed
certificate number), before and after, in one run:

    PYTHONPATH=. .venv/bin/python bench/hot_path_micro.py

With --exam-day (issue 20): the statements and in-process median milliseconds of the three
exam-day requests (start, save, submit), through Django's test client on a fresh test database
(made from DATABASE_URL's, "test_" prefixed, and dropped after), for --candidates candidates:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stormcert_bench \
        PYTHONPATH=. .venv/bin/python bench/hot_path_micro.py --exam-day

Statements are counted as the database receives them: every query Django logs, which since
Django 4.2 includes BEGIN, COMMIT and SAVEPOINTs (BENCH_SHOW_SQL=1 prints them).
The same script runs against an older checkout (PYTHONPATH=<that checkout>, run from there) to
give the "before" figures: it uses the exam page's save token when the page has one.
"""

from __future__ import annotations

import json
import os
import timeit
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")
django.setup()

from stormcert.lib.http import bounded_int, parse_json
from stormcert.lib.numbers import canonical_number, number_problem

BODY = json.dumps({"position": 17, "choice": 2, "seq": 1764475200123, "flagged": False}).encode()
TYPED = " qisp-2026-00013 "


def save_before() -> None:
    data = json.loads(BODY)
    for key in ("position", "choice", "seq"):
        int(data[key])


def save_after() -> None:
    data = parse_json(BODY)
    bounded_int(data["position"], name="position", low=0, high=32767)
    bounded_int(data["choice"], name="choice", low=0, high=32767)
    bounded_int(data["seq"], name="seq", low=0, high=2**63 - 1)


def number_before() -> None:
    typed = TYPED.strip()
    {typed, typed.upper()}  # the two spellings the lookup used to try


def number_after() -> None:
    number_problem(canonical_number(TYPED))


CASES: list[tuple[str, Callable[[], None]]] = [
    ("save body: json.loads + int (before)", save_before),
    ("save body: parse_json + bounded_int (after)", save_after),
    ("number: strip/upper (before)", number_before),
    ("number: canonical_number + number_problem (after)", number_after),
]


def exam_day(candidates: int, saves: int) -> None:
    import re
    import statistics
    import time
    from collections.abc import Iterator
    from contextlib import contextmanager
    from functools import partial

    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_databases,
        setup_test_environment,
        teardown_databases,
    )
    from django.urls import reverse
    from django.utils import timezone

    from conftest import client_for, make_person
    from stormcert.core.demo.exams import load_demo_exams
    from stormcert.exams.models import Attempt, Exam
    from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
    from tests.exams.conftest import ready_for_midterm

    @contextmanager
    def counting() -> Iterator[list[int]]:
        # Django logs BEGIN, COMMIT and ROLLBACK with the queries (since 4.2), so the captured list
        # is what the database receives, SAVEPOINTs included.
        box = [0]
        with CaptureQueriesContext(connection) as captured:
            yield box
        sql = [q["sql"] for q in captured.captured_queries]
        box[0] = len(sql)
        if os.environ.get("BENCH_SHOW_SQL"):
            print(f"-- {box[0]} statements:", *(f"   {q[:150]}" for q in sql), sep="\n")

    timings: dict[str, list[float]] = {"intro": [], "start": [], "page": [], "save": [], "submit": []}
    counts: dict[str, set[int]] = {name: set() for name in timings}

    def measure(name: str, call: Callable[[], Any]) -> Any:
        with counting() as box:
            began = time.perf_counter()
            response = call()
            timings[name].append((time.perf_counter() - began) * 1000)
        counts[name].add(box[0])
        assert response.status_code in (200, 302), (name, response.status_code)
        return response

    setup_test_environment()  # the test client's host, the in-memory mail outbox
    names = setup_databases(verbosity=0, interactive=False)
    try:
        load_definition_file(DEFAULT_DEFINITION)
        load_demo_exams()
        exam = Exam.objects.select_related("program").get(step_code="midterm")
        intro = reverse("exams:intro", args=[exam.program.code, exam.step_code])
        start = reverse("exams:start", args=[exam.program.code, exam.step_code])
        for n in range(candidates):
            user = make_person(f"bench{n}@example.com")
            ready_for_midterm(user, timezone.now())
            client = client_for(user)
            measure("intro", partial(client.get, intro))  # the exam's page: it prepares the paper (issue 20)
            measure("start", partial(client.post, start))
            attempt = Attempt.objects.get(user=user)
            page = measure("page", partial(client.get, reverse("exams:attempt", args=[attempt.pk])))
            page = page.content.decode()
            token = re.search(r'data-save-token="([^"]+)"', page)
            headers = {"X-Exam-Token": token.group(1)} if token else {}
            url = reverse("exams:save", args=[attempt.pk])
            for seq in range(1, saves + 1):
                body = json.dumps({"position": seq % 35 + 1, "choice": seq % 4, "flagged": False, "seq": seq})
                measure(
                    "save",
                    partial(client.post, url, data=body, content_type="application/json", headers=headers),
                )
            measure("submit", partial(client.post, reverse("exams:submit", args=[attempt.pk])))
    finally:
        teardown_databases(names, verbosity=0)
    print(f"{connection.vendor}, {candidates} candidates, {saves} saves each")
    for name, values in timings.items():
        print(
            f"{name}: {'/'.join(str(c) for c in sorted(counts[name]))} statements, "
            f"median {statistics.median(values):.1f} ms (n={len(values)})"
        )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--exam-day", action="store_true", help="time start, save and submit (issue 20)")
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    if args.exam_day:
        exam_day(args.candidates, args.saves)
        raise SystemExit(0)
    for name, case in CASES:
        seconds = min(timeit.repeat(case, number=20000, repeat=5)) / 20000
        print(f"{name}: {seconds * 1e6:.2f} µs")
