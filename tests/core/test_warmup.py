"""The production entry point (stormcert/wsgi.py) loads, before gunicorn forks, what each worker
would otherwise load on its first request: the URL configuration, the message catalogue and
every project template; then freezes the collector (stormcert/lib/warmup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connections

from stormcert.lib.warmup import project_template_names, warm

ROOT = Path(__file__).resolve().parents[2]


def test_every_project_template_compiles_without_touching_the_database() -> None:
    names = project_template_names()
    assert len(names) > 150  # the .html pages and the .txt emails of every app
    assert "exams/attempt.html" in names and not any(n.startswith("admin/") for n in names)
    timings = warm()  # without the django_db mark: a query would raise here
    assert timings["compiled"] == len(names), "a template does not compile (see the log)"
    assert all(c.connection is None for c in connections.all()), "no connection may reach the workers"


def test_importing_the_wsgi_entry_point_loads_the_site_and_freezes_the_collector() -> None:
    probe = """
import gc, json, sys
import stormcert.wsgi
from django.template import engines
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "views": [m for m in ("stormcert.exams.views", "stormcert.certificates.views") if m in sys.modules],
    "cached": len(getattr(loader, "get_template_cache", {})),
    "frozen": gc.get_freeze_count(),
}))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stormcert.settings", "DEBUG": "0", "SECRET_KEY": "x" * 60}
    env.update({"ALLOWED_HOSTS": "localhost", "DOTENV_FILE": ""})
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["views"] == ["stormcert.exams.views", "stormcert.certificates.views"]
    assert found["cached"] >= len(project_template_names())
    assert found["frozen"] > 10_000
