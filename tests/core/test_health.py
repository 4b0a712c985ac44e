"""`/health/`: ok, warn (late tick, old task backlog) and fail (database or cache down), as a
load balancer (200/503) and a monitor (``?strict=1``) read it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client, override_settings
from django.utils import timezone

from stormcert.core import health
from stormcert.core.models import Heartbeat

pytestmark = pytest.mark.django_db


def _get(client: Client, query: str = "") -> tuple[int, dict[str, Any]]:
    response = client.get("/health/" + query)
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, response.json()


def test_ok_after_a_tick_run_and_it_reads_no_session(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    call_command("tick", verbosity=0)
    beat = Heartbeat.objects.get(name="tick")
    assert beat.ok and "graded 0 overdue attempt(s)" in beat.detail
    with django_assert_max_num_queries(4):
        status, body = _get(client)
    assert status == 200 and body["status"] == "ok", body
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["tick"]["age_seconds"] < 60
    assert body["checks"]["tasks"]["backlog"] == 0


def test_a_late_tick_warns_and_strict_monitors_get_503(client: Client) -> None:
    status, body = _get(client)
    assert (status, body["status"], body["warnings"]) == (200, "warn", ["tick has never run"])
    Heartbeat.objects.create(name="tick", at=timezone.now() - timedelta(minutes=20))
    status, body = _get(client)
    assert (status, body["warnings"]) == (200, ["tick last ran 1200 s ago"])
    status, _ = _get(client, "?strict=1")
    assert status == 503


def test_a_failed_tick_job_warns(client: Client, monkeypatch: Any) -> None:
    from stormcert.core.management.commands import tick

    def boom() -> int:
        raise RuntimeError("a bad row")

    monkeypatch.setattr(tick, "send_reminders", boom)
    with pytest.raises(Exception, match="1 job"):
        call_command("tick", verbosity=0)
    assert Heartbeat.objects.get(name="tick").detail == "failed: send_reminders"
    _, body = _get(client)
    assert body["warnings"] == ["tick's last run had a failed job"]


@override_settings(TASKS_BACKEND="database")
def test_an_old_task_backlog_warns(client: Client) -> None:
    from django_tasks_db.models import DBTaskResult

    Heartbeat.objects.create(name="tick")
    DBTaskResult.objects.create(
        task_path="stormcert.emails.tasks.deliver_email",
        args_kwargs={"args": [1], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        priority=0,
    )
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))
    _, body = _get(client)
    assert body["checks"]["tasks"]["backlog"] == 1
    assert body["status"] == "warn" and body["warnings"][0].startswith("the oldest queued task has waited 6")


def test_a_database_that_does_not_answer_fails_with_503(client: Client) -> None:
    with mock.patch.object(health, "_database", side_effect=OperationalError("server closed the connection")):
        status, body = _get(client)
    assert status == 503 and body["status"] == "fail" and body["failing"] == ["database"]
    assert body["checks"]["database"] == {
        "ok": False,
        "ms": body["checks"]["database"]["ms"],
        "error": "OperationalError",
    }
    assert "server closed" not in str(body)  # kinds of errors only, never their text


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_an_unreachable_cache_fails_when_one_is_configured(client: Client) -> None:
    Heartbeat.objects.create(name="tick")
    with mock.patch.object(health, "cache") as cache:
        cache.set.side_effect = ConnectionError("refused")
        status, body = _get(client)
    assert status == 503 and body["failing"] == ["cache"]
