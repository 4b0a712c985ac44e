"""In development, links in emails, certificate QR codes and feeds point at the address served:
`make run PORT=8101` sets SITE_URL to http://127.0.0.1:8101 for every command it runs (the demo
data it builds and the server), unless SITE_URL is set."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _make(*args: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "MAKEFLAGS", "MAKELEVEL"}}
    return subprocess.run(
        [shutil.which("make") or "/usr/bin/make", "-n", "--no-print-directory", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_served_port_is_the_linked_port() -> None:
    assert "links in emails and QR codes: http://127.0.0.1:8101" in _make("serve", "PORT=8101")
    assert "links in emails and QR codes: http://127.0.0.1:8000" in _make("serve")


def test_an_explicit_site_url_wins() -> None:
    out = _make("serve", "PORT=8101", SITE_URL="https://qisp.example.org")
    assert "links in emails and QR codes: https://qisp.example.org" in out


def test_the_setting_follows_the_environment() -> None:
    script = "from django.conf import settings; print(settings.SITE_URL)"
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stormcert.settings",
            "SITE_URL": "http://127.0.0.1:8101/",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "http://127.0.0.1:8101"
