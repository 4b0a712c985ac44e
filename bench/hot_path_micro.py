"""Micro-timings of what issue 16 added to two hot paths (the answer save's body and a typed
certificate number), before and after, in one run:

    PYTHONPATH=. .venv/bin/python bench/hot_path_micro.py
"""

from __future__ import annotations

import json
import os
import timeit
from collections.abc import Callable

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

if __name__ == "__main__":
    for name, case in CASES:
        seconds = min(timeit.repeat(case, number=20000, repeat=5)) / 20000
        print(f"{name}: {seconds * 1e6:.2f} µs")
