"""`/health/`: what a load balancer and a monitor need to know about one app node.

- **fail** (HTTP 503): this node cannot serve: the database (or, when configured, Redis) does not
  answer. nginx's upstream check and a monitor take the node out on this.
- **warn** (HTTP 200, or 503 with ``?strict=1`` for a monitor that pages someone): the node serves,
  but work behind it is late: the task queue has a backlog older than ``HEALTH_TASK_AGE_SECONDS``,
  or ``tick`` has not run for ``HEALTH_TICK_AGE_SECONDS`` (exam attempts are then not graded at
  their deadline, waitlist offers do not move on).
- **ok** otherwise.

The answer holds counts and ages only (no host names, no error text beyond the exception's kind),
so it may be public; it reads no session and no user, so a monitor's request costs a few queries.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from stormcert.core.models import Heartbeat

TICK = "tick"


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check() or {}
        ok = True
    except Exception as exc:  # a health check reports every failure; it never raises
        result = {"error": type(exc).__name__}
        ok = False
    return {"ok": ok, "ms": round(1000 * (time.perf_counter() - started), 1), **result}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"health:{time.monotonic_ns()}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _age(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def _tasks(now: datetime) -> dict[str, Any]:
    if settings.TASKS_BACKEND != "database":
        return {"backend": settings.TASKS_BACKEND, "backlog": 0, "oldest_age_seconds": None}
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    return {"backend": "database", "backlog": ready.count(), "oldest_age_seconds": _age(oldest, now)}


def _tick(now: datetime) -> dict[str, Any]:
    beat = Heartbeat.objects.filter(name=TICK).first()
    if beat is None:
        return {"last_run": None, "age_seconds": None, "jobs_ok": None}
    return {"last_run": beat.at.isoformat(), "age_seconds": _age(beat.at, now), "jobs_ok": beat.ok}


def health_report(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    checks: dict[str, Any] = {"database": _timed(_database)}
    if settings.REDIS_URL:
        checks["cache"] = _timed(_cache)
    failing = [name for name, check in checks.items() if not check["ok"]]
    warnings: list[str] = []
    if checks["database"]["ok"]:
        tasks = _timed(lambda: _tasks(now))
        tick = _timed(lambda: _tick(now))
        checks["tasks"], checks["tick"] = tasks, tick
        task_age = tasks.get("oldest_age_seconds")
        if task_age is not None and task_age > settings.HEALTH_TASK_AGE_SECONDS:
            warnings.append(f"the oldest queued task has waited {task_age:.0f} s")
        tick_age = tick.get("age_seconds")
        if tick.get("last_run") is None:
            warnings.append("tick has never run")
        elif tick_age is not None and tick_age > settings.HEALTH_TICK_AGE_SECONDS:
            warnings.append(f"tick last ran {tick_age:.0f} s ago")
        elif tick.get("jobs_ok") is False:
            warnings.append("tick's last run had a failed job")
    status = "fail" if failing else "warn" if warnings else "ok"
    return {
        "status": status,
        "failing": failing,
        "warnings": warnings,
        "checks": checks,
        "at": now.isoformat(),
    }


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    report = health_report()
    strict = request.GET.get("strict") in {"1", "true", "yes"}
    failed = report["status"] == "fail" or (strict and report["status"] == "warn")
    return JsonResponse(report, status=503 if failed else 200)


def beat(name: str, *, ok: bool, detail: str = "", now: datetime | None = None) -> None:
    """Record that a periodic process ran (called by ``tick`` after each round)."""
    Heartbeat.objects.update_or_create(
        name=name, defaults={"at": now or timezone.now(), "ok": ok, "detail": detail[:500]}
    )
