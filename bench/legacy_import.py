"""Legacy import benchmark: a 10,000-row file through the staff pages, timed (not a test).

Drives the same requests a browser makes, in process (the Django test client, production
settings): upload, the dry run chunk by chunk as the page's script calls it, then the import.
Then the same file again (every row unchanged). Prints the time of each phase and rows/s.
Each run uses fresh certificate numbers, so it can be repeated on the same database.

Usage:
  make bench-import                                 # a scratch SQLite file under bench/.run
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/stormcert_bench make bench-import
  BENCH_ARGS="--rows 50000" make bench-import
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")
import exam_day

os.environ.update(exam_day.server_env())

import django

django.setup()

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.backoffice.imports import COLUMNS
from stormcert.backoffice.models import ImportRun, RunStatus
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file


def make_file(rows: int, tag: str) -> bytes:
    lines = [",".join(COLUMNS)]
    for i in range(rows):
        if i % 4 == 0:
            dates, status = "2019-03-01,2021-03-01", "expired"
        else:
            dates, status = "2025-05-01,2027-05-01", "active"
        lines.append(f"Holder{i} Bench{tag},h{i}.{tag}@old.example.org,B{tag}-{i:06d},QISP,{dates},{status},")
    return ("\n".join(lines) + "\n").encode()


def staff_client() -> Client:
    staff, created = User.objects.get_or_create(
        email="bench-staff@example.org", defaults={"is_staff": True, "first_name": "Bench"}
    )
    if created:
        TOTP.activate(staff, "JBSWY3DPEHPK3PXPBENCHSTAFF234567")
    client = Client(SERVER_NAME="localhost")
    client.force_login(staff)
    # Staff pages need two-factor passed in the session: record the code as allauth does at
    # sign-in (conftest.record_two_factor does the same for the tests).
    request = RequestFactory().get("/")
    request.session = client.session
    authenticator = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP)
    record_authentication(request, staff, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()
    return client


def run_once(client: Client, data: bytes, label: str) -> None:
    t0 = time.perf_counter()
    response = client.post(
        reverse("backoffice:imports"), {"file": SimpleUploadedFile("bench.csv", data, "text/csv")}
    )
    assert response.status_code == 302, response.content[:500]
    # The upload leads to matching the columns: the file is in the import's own shape.
    response = client.post(response["Location"], {name: str(i) for i, name in enumerate(COLUMNS)})
    assert response.status_code == 302, response.content[:500]
    run_id = int(response["Location"].rstrip("/").split("/")[-1])
    t_upload = time.perf_counter()
    chunks = 0
    while True:
        progress = client.post(
            reverse("backoffice:import_check", args=[run_id]), headers={"accept": "application/json"}
        ).json()
        chunks += 1
        if progress["done"]:
            break
    t_checked = time.perf_counter()
    client.post(reverse("backoffice:import_apply", args=[run_id]))
    t_applied = time.perf_counter()
    run = ImportRun.objects.get(pk=run_id)
    assert run.status == RunStatus.APPLIED, run.report.get("reject", [])[:3]
    rows = run.total_rows
    total = t_applied - t0
    print(
        f"{label:<22} {rows:>7} rows  upload {t_upload - t0:5.2f} s  dry run {t_checked - t_upload:5.2f} s "
        f"({chunks} chunks)  import {t_applied - t_checked:5.2f} s  total {total:5.2f} s  "
        f"{rows / total:7.0f} rows/s  created {run.count('create')} unchanged {run.count('unchanged')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    load_definition_file(DEFAULT_DEFINITION)
    from django.db import connection

    print(f"database: {connection.vendor}; the bar: {args.rows:,} rows imported in under 60 s")
    tag = f"{int(time.time()) % 1_000_000}"
    data = make_file(args.rows, tag)
    client = staff_client()
    run_once(client, data, "first import")
    run_once(client, data, "same file again")


if __name__ == "__main__":
    main()
