"""Micro-timings of what issue 16 added to two hot paths (the answer save body and a typed
certificate number), before and after, in one run: `PYTHONPATH=. .venv/bin/python bench/hot_path_micro.py`."""

import json, timeit, os, django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")
django.setup()
from stormcert.lib.http import parse_json, bounded_int
from stormcert.lib.numbers import canonical_number, number_problem

body = json.dumps({"position": 17, "choice": 2, "seq": 1764475200123, "flagged": False}).encode()


def old_save():
    d = json.loads(body)
    int(d["position"])
    int(d["choice"])
    int(d["seq"])


def new_save():
    d = parse_json(body)
    bounded_int(d["position"], name="p", low=0, high=32767)
    bounded_int(d["choice"], name="c", low=0, high=32767)
    bounded_int(d["seq"], name="s", low=0, high=2**63 - 1)


def old_num():
    q = " qisp-2026-00013 ".strip()
    {q, q.upper()}


def new_num():
    n = canonical_number(" qisp-2026-00013 ")
    number_problem(n)


for name, f in [
    ("save body: json.loads + int (before)", old_save),
    ("save body: parse_json + bounded_int (after)", new_save),
    ("number: strip/upper (before)", old_num),
    ("number: canonical_number + number_problem (after)", new_num),
]:
    t = min(timeit.repeat(f, number=20000, repeat=5)) / 20000 * 1e6
    print(f"{name}: {t:.2f} µs")
