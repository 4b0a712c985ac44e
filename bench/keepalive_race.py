"""Does a POST through nginx meet a keep-alive connection gunicorn has just closed?

nginx keeps idle connections to the app (`keepalive` in the upstream) for its upstream
`keepalive_timeout` (60 s unless set); gunicorn closes an idle one after its `--keep-alive` (30 s
in the unit). When gunicorn's is the shorter, it closes connections nginx still holds; a request
nginx sent on one at that moment would meet a closed socket, and nginx does not resend a POST it
has sent: the client would get a 502. This probe tries to make that happen often: gunicorn
(gthread, --preload) with a short `--keep-alive K`, nginx with the site's proxy snippet, and
clients that each POST, wait about K seconds, POST again. It runs twice, nginx's timeout far above
K (the default's shape) and below it, and prints what answered.

Measured (bench/README.md, "Worker recycling on exam day"): 0 of 958 POSTs answered 502 either
way. nginx notices a closed idle connection and drops it from its pool, and takes the most
recently used connection first, so the window is too narrow to hit here.

    .venv/bin/python bench/keepalive_race.py                 # K = 2 s, 12 clients, 45 s a run
    .venv/bin/python bench/keepalive_race.py --seconds 30 --clients 64
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")
SNIPPET = ROOT / "deploy" / "nginx" / "stormcert-proxy.conf"
PY = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
            c.request("GET", "/ping/", headers={"Host": "localhost"})
            if c.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nothing answered on {port}")


def nginx_conf(tmp: Path, app_port: int, proxy_port: int, upstream_timeout: float) -> Path:
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream stormcert_app {{
        server 127.0.0.1:{app_port};
        keepalive 32;
        keepalive_timeout {int(upstream_timeout * 1000)}ms;
    }}
    limit_conn_zone $binary_remote_addr zone=stormcert_conn:1m;
    server {{
        listen 127.0.0.1:{proxy_port};
        include {SNIPPET};
    }}
}}
"""
    )
    return conf


def app_env(tmp: Path) -> dict[str, str]:
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


def run(keep_alive: int, upstream_timeout: float, clients: int, seconds: float) -> Counter[str]:
    tmp = Path(tempfile.mkdtemp(prefix="keepalive-race-"))
    env = app_env(tmp)
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    app_port, proxy_port = free_port(), free_port()
    argv = [str(Path(PY).parent / "gunicorn"), "stormcert.wsgi", "--preload", "--worker-class", "gthread"]
    argv += ["--workers", "2", "--threads", "4", "--keep-alive", str(keep_alive)]
    argv += ["--bind", f"127.0.0.1:{app_port}", "--error-logfile", str(tmp / "gunicorn.log")]
    out = (tmp / "app.out").open("wb")  # the app's own log (a 403 for every probe) stays out of the report
    gunicorn = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    conf = nginx_conf(tmp, app_port, proxy_port, upstream_timeout)
    proxy = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"])
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    try:
        wait_for(app_port)
        wait_for(proxy_port)
        stop = time.monotonic() + seconds

        def client() -> None:
            while time.monotonic() < stop:
                c = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=10)
                try:
                    # A POST the app refuses (no CSRF token, 403): what matters is who answers it.
                    c.request("POST", "/ping/", body=b"x", headers={"Host": "localhost"})
                    status = str(c.getresponse().status)
                except OSError as exc:
                    status = type(exc).__name__
                finally:
                    c.close()
                with lock:
                    outcomes[status] += 1
                time.sleep(keep_alive + random.uniform(-0.08, 0.08))

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
            time.sleep(keep_alive / clients)  # spread the clients over one interval
        for t in threads:
            t.join()
    finally:
        for p in (proxy, gunicorn):
            p.terminate()
        for p in (proxy, gunicorn):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep-alive", type=int, default=2, help="gunicorn's --keep-alive, seconds")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=45)
    args = parser.parse_args()
    if not Path(NGINX).exists():
        raise SystemExit(f"nginx is missing at {NGINX} (make nginx)")
    k = args.keep_alive
    print(
        f"gunicorn --keep-alive {k} s; {args.clients} clients, each POST then wait ~{k} s; {args.seconds:g} s a run"
    )
    for name, timeout in (
        ("nginx holds idle connections longer", k * 30.0),
        ("nginx lets go first", k * 0.8),
    ):
        outcomes = run(k, timeout, args.clients, args.seconds)
        total = sum(outcomes.values())
        bad = outcomes.get("502", 0)
        print(
            f"  {name} (upstream keepalive_timeout {timeout:g} s): {total} POSTs, "
            f"{bad} answered 502 by nginx ({bad / max(total, 1):.1%}); all answers {dict(outcomes)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
