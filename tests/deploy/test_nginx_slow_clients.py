"""deploy/nginx/stormcert-proxy.conf in front of gunicorn, as deployed: slow clients never hold a
worker, oversized bodies are refused at the proxy.

First the attack is shown to work on gunicorn alone (sync workers, as the README once started it):
a few connections that send one header line at a time take every worker, and a normal `GET /`
waits. Then the same clients against nginx: `GET /` answers at once, and the workers never see
them. A 200 MB body (declared) and an oversized autosave are answered 413 by nginx.

Processes: one gunicorn (2 sync workers, production settings, a SQLite file migrated here) and one
nginx (the real snippet, included by a small outer file), both on free loopback ports.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")
SNIPPET = ROOT / "deploy" / "nginx" / "stormcert-proxy.conf"
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, path: str = "/", timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = _get(port, path, timeout=5)
        except OSError:
            time.sleep(0.3)
            continue
        if status < 500:
            return
        time.sleep(0.3)
    raise AssertionError(f"nothing answered on port {port} within {timeout:.0f} s")


def _get(port: int, path: str = "/", timeout: float = 3.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "localhost"})
        return connection.getresponse().status
    finally:
        connection.close()


@dataclass
class Stack:
    app_port: int
    proxy_port: int


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "DOTENV_FILE": "",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"sqlite:///{tmp / 'app.sqlite3'}",
        "EMAIL_DELIVERY": "outbox",
        "CREDENTIAL_KEYS_DIR": str(tmp / "keys"),
        "MEDIA_ROOT": str(tmp / "media"),
    }


def _nginx_conf(tmp: Path, app_port: int, proxy_port: int) -> Path:
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream stormcert_app {{ server 127.0.0.1:{app_port} max_fails=3 fail_timeout=10s; keepalive 8; }}
    limit_conn_zone $binary_remote_addr zone=stormcert_conn:1m;
    server {{
        listen 127.0.0.1:{proxy_port};
        include {SNIPPET};
    }}
}}
"""
    )
    return conf


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(NGINX).exists():
        pytest.fail(f"nginx is missing at {NGINX}: `make test` installs it (Makefile: nginx)")
    tmp = tmp_path_factory.mktemp("nginx")
    env = _env(tmp)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
        )
    app_port, proxy_port = _free_port(), _free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "stormcert.wsgi",
            "--preload",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{app_port}",
            "--timeout",
            "60",
            "--error-logfile",
            str(tmp / "gunicorn.log"),
        ],
        cwd=ROOT,
        env=env,
    )
    conf = _nginx_conf(tmp, app_port, proxy_port)
    subprocess.run([NGINX, "-t", "-q", "-c", str(conf)], check=True)
    proxy = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"])
    try:
        _wait_for(app_port)
        _wait_for(proxy_port)
        yield Stack(app_port=app_port, proxy_port=proxy_port)
    finally:
        for process in (proxy, gunicorn):
            process.terminate()
        for process in (proxy, gunicorn):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp / "proxy", ignore_errors=True)


class SlowClients:
    """Connections that each send a request line, then one header line at a time, never ending."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets: list[socket.socket] = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            self.sockets.append(s)
        self.lines = 0

    def trickle(self) -> None:
        self.lines += 1
        for s in self.sockets:
            # The server may hang up on it: what a proxy should do eventually.
            with contextlib.suppress(OSError):
                s.sendall(f"X-Slow-{self.lines}: {'a' * 10}\r\n".encode())

    def close(self) -> None:
        for s in self.sockets:
            s.close()


def _timed_get(port: int, *, timeout: float) -> tuple[int | None, float]:
    started = time.monotonic()
    try:
        status: int | None = _get(port, "/", timeout=timeout)
    except OSError:  # TimeoutError included
        status = None
    return status, time.monotonic() - started


def test_slow_clients_take_gunicorns_workers_but_not_nginxs(stack: Stack) -> None:
    assert _timed_get(stack.app_port, timeout=10)[0] == 200
    # Alone, gunicorn's sync workers each wait on one slow client: a normal request waits too.
    slow = SlowClients(stack.app_port, WORKERS + 1)
    try:
        time.sleep(0.5)
        slow.trickle()
        status, _ = _timed_get(stack.app_port, timeout=3)
        assert status is None, "the attack did not hold gunicorn's workers; this test would prove nothing"
    finally:
        slow.close()
    _wait_for(stack.app_port)
    # Through nginx: ten times as many slow clients, and normal requests are served at once.
    slow = SlowClients(stack.proxy_port, 10 * WORKERS)
    try:
        times = []
        for _ in range(6):
            slow.trickle()
            status, elapsed = _timed_get(stack.proxy_port, timeout=5)
            assert status == 200
            times.append(elapsed)
            time.sleep(0.3)
        assert max(times) < 2.0, times
    finally:
        slow.close()


def _post(port: int, path: str, headers: dict[str, str], body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", path, skip_host=True)
        connection.putheader("Host", "localhost")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        # nginx may answer and close before reading the body.
        with contextlib.suppress(OSError):
            connection.send(body)
        return connection.getresponse().status
    finally:
        connection.close()


def test_bodies_over_the_caps_are_refused_at_the_proxy(stack: Stack) -> None:
    # 200 MB declared: refused from the header alone, the body is never read by anyone.
    huge = {"Content-Type": "application/octet-stream", "Content-Length": str(200 * 1024 * 1024)}
    assert _post(stack.proxy_port, "/verify/batch/", huge, b"x" * 1024) == 413
    assert _post(stack.proxy_port, "/", huge, b"x" * 1024) == 413
    # The autosave's own cap is 64 KB: 100 KB of JSON stops at nginx.
    body = b'{"position": 1, "pad": "' + b"x" * 100_000 + b'"}'
    json_headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    assert _post(stack.proxy_port, "/exams/attempts/1/answer/", json_headers, body) == 413
    # Under the caps, requests reach the app (which answers them itself: no CSRF token here).
    small = b'{"position": 1}'
    status = _post(
        stack.proxy_port,
        "/exams/attempts/1/answer/",
        {"Content-Type": "application/json", "Content-Length": str(len(small))},
        small,
    )
    assert status in {302, 403}, status
