"""`manage.py tick` runs every job even when one fails, reports the failure, and exits non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stormcert.core.management.commands import tick

ROOT = Path(__file__).resolve().parents[2]


def _boom() -> int:
    raise RuntimeError("a bad row")


@pytest.mark.django_db
def test_a_failing_job_does_not_stop_the_others_and_the_command_fails(
    monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def counted(name: str) -> Any:
        def job() -> int:
            ran.append(name)
            return 0

        return job

    for name in (
        "close_overdue",
        "send_reminders",
        "send_notices",
        "send_renewal_reminders",
        "send_term_reminders",
    ):
        monkeypatch.setattr(tick, name, counted(name))
    monkeypatch.setattr(tick, "process_waitlists", _boom)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 job\\(s\\) failed: process_waitlists"):
        call_command("tick", stdout=out, stderr=err)
    # The jobs after the failing one still ran.
    assert ran == [
        "close_overdue",
        "send_reminders",
        "send_notices",
        "send_renewal_reminders",
        "send_term_reminders",
    ]
    assert "process_waitlists failed: RuntimeError: a bad row" in err.getvalue()
    assert "sent 0 renewal reminder(s)" in out.getvalue()
    assert any("tick: process_waitlists failed" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_all_jobs_succeeding_exit_cleanly() -> None:
    out = StringIO()
    call_command("tick", stdout=out)
    assert "graded 0 overdue attempt(s)" in out.getvalue()


def test_the_exit_status_from_the_command_line_is_one_when_a_job_fails(tmp_path: Any) -> None:
    """Through manage.py as cron runs it: CommandError becomes exit status 1."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, django\n"
        "from django.core.management import execute_from_command_line\n"
        "django.setup()\n"
        "from stormcert.core.management.commands import tick\n"
        "def boom():\n"
        "    raise RuntimeError('a bad row')\n"
        "for name in ('close_overdue', 'process_waitlists', 'send_reminders', 'send_notices',"
        " 'send_renewal_reminders'):\n"
        "    setattr(tick, name, (lambda: 0) if name != 'send_notices' else boom)\n"
        "execute_from_command_line(['manage.py', 'tick'])\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "stormcert.settings", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert "send_notices failed: RuntimeError: a bad row" in result.stderr, result.stderr
    assert result.returncode == 1
