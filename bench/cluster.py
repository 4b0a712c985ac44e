"""Scale-out on one machine: nginx in front of several app nodes, under the exam-day load and faults.

What `make cluster` starts, all on loopback, as separate machines would run it:

- app nodes: one gunicorn master each on its own port (127.0.0.1:8781, 8782, ...), with the flags of
  deploy/systemd/stormcert-app.service's ExecStart (read from the unit file: --preload, gthread
  workers and threads, timeouts), production settings (bench/exam_day.py's server_env);
- nginx in front (deploy/nginx/stormcert-proxy.conf included as it is: what is tested is what is
  deployed), an upstream of the nodes, static files from disk;
- one PostgreSQL (bench/faults.py's throwaway cluster, here on port 5447 by default so that it
  never meets `make bench`'s on 5433), Redis shared by every node (REDIS_URL, a database of its own,
  emptied first), the task worker (`manage.py db_worker`, TASKS_BACKEND=database) and `tick`.

Then:
1. Across nodes (each node's own port, not through nginx): a sign-in on node 1 used on every other
   node; a fee changed by staff (the editor service, programs/editing.py) read from every node's
   public program page at once; the public rate limit (RATE_LIMIT_PUBLIC=30/m for this step) held
   across nodes: 30 requests spread over the nodes pass, the next one on any node gets 429.
2. The exam-day mix (bench/locustfile.py) through nginx while one whole node is SIGKILLed (master and
   workers) and started again, a rolling restart is done (each node in turn, the next only once
   /health/ answers 200), and slow clients hold connections to nginx (one header line every 2 s).
3. Per-endpoint percentiles, the errors in each fault's time window, the checker's four zeros
   (bench/check.py) and the cross-node checks, PASS or FAIL. Exit status 1 if any fails.

Every process it started is ended on exit, Ctrl-C and errors included.

Usage: .venv/bin/python bench/cluster.py --candidates 20 --questions 10   (make cluster: the full run)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

import exam_day
from exam_day import (
    FINAL,
    PY,
    ROOT,
    RUN,
    _one_attempt_each,
    _shell_number,
    _write_keys,
    add_load_arguments,
    collect_static,
    load_seconds,
    mixed_load,
    prepare_people,
    print_endpoints,
    server_env,
    synchronized_start,
)
from faults import FaultDriver, OwnPostgres

HERE = RUN / "cluster"
UNIT = ROOT / "deploy" / "systemd" / "stormcert-app.service"
SITE = ROOT / "deploy" / "nginx" / "stormcert.conf"
SNIPPET = ROOT / "deploy" / "nginx" / "stormcert-proxy.conf"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
HOST = "127.0.0.1"
# The slow clients connect from another loopback address: nginx counts their connections against
# the site's per-address limit, as it would a real client's (see nginx_conf).
SLOW_ADDRESS = "127.0.0.2"
RULE_CHECK_LIMIT = "30/m"


# --- Processes ------------------------------------------------------------------------------------


def gunicorn_argv(port: int, workers: int | None) -> list[str]:
    """The unit file's ExecStart (exam_day.production_argv), the node's own port."""
    # gunicorn 23+ opens a control socket, by default in $HOME/.gunicorn/: one machine, one
    # socket; here each node gets its own, as on machines of their own.
    return [*exam_day.production_argv(port, workers), "--control-socket", str(HERE / f"node-{port}.ctl")]


def _log_file(name: str) -> TextIO:
    return (HERE / name).open("a")


def _end(proc: subprocess.Popen[Any] | None, grace: float = 40.0) -> None:
    """SIGTERM the process group (a gunicorn master lets requests in flight finish), then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@dataclass
class Node:
    number: int
    port: int
    workers: int | None
    proc: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        # A process group of its own: killing "the node" is killing the master and its workers.
        self.proc = subprocess.Popen(
            gunicorn_argv(self.port, self.workers),
            cwd=ROOT,
            env=env,
            stdout=_log_file(f"node{self.number}.log"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """The machine dies: SIGKILL to the master and every worker at once, nothing finishes."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        _end(self.proc)

    def reload(self) -> None:
        """`systemctl reload`: SIGHUP, gunicorn starts new workers and lets the old ones finish."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGHUP)

    def wait_healthy(self, timeout: float = 180) -> float:
        """Seconds until /health/ on the node's own port answers 200 (what the rolling restart waits for)."""
        started = time.time()
        while time.time() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"node {self.number} exited; see {HERE / f'node{self.number}.log'}")
            try:
                if get(self.port, "/health/", timeout=5)[0] == 200:
                    return time.time() - started
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"node {self.number} did not answer /health/ with 200 in {timeout:.0f} s")


def nginx_conf(nodes: list[Node], port: int, down: Node | None = None) -> str:
    """The harness's nginx.conf: the site's upstream options (read from deploy/nginx/stormcert.conf)
    with the nodes' loopback ports (`down` marked down: drained), and the site's request handling
    included unchanged."""
    site = SITE.read_text()
    upstream = re.search(r"upstream stormcert_app \{(.*?)\n\}", site, re.S)
    body = upstream.group(1) if upstream else ""
    options = re.search(r"^\s*server\s+\S+\s*([^;]*);", body, re.M)
    keepalive = re.search(r"^\s*(keepalive\s+\d+;)", body, re.M)
    servers = "\n".join(
        f"        server {HOST}:{n.port} {options.group(1) if options else ''}{' down' if n is down else ''};"
        for n in nodes
    )
    d = HERE
    return f"""# Written by bench/cluster.py for one run; deleted and rewritten by the next.
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log {d}/nginx-access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream stormcert_app {{
{servers}
        {keepalive.group(1) if keepalive else ""}
    }}
    # The site counts connections per client address (limit_conn in stormcert-proxy.conf). The
    # load generator stands for hundreds of clients but connects from one address, 127.0.0.1, so
    # its connections are left uncounted (nginx does not count an empty key); every other address
    # is counted as deployed, the slow clients' ({SLOW_ADDRESS}) included.
    map $remote_addr $stormcert_conn_key {{
        {HOST} "";
        default $binary_remote_addr;
    }}
    limit_conn_zone $stormcert_conn_key zone=stormcert_conn:10m;
    server {{
        listen {HOST}:{port};
        include {SNIPPET};
        location /static/ {{ alias {ROOT}/staticfiles/; }}
    }}
}}
"""


def redis_python_path() -> str:
    """Django's Redis cache needs the `redis` client; when the environment lacks it (it is not
    among the project's dependencies yet), install it beside the run, never into .venv."""
    try:
        import redis  # noqa: F401

        return ""
    except ImportError:
        target = HERE / "pylib"
        if not (target / "redis").exists():
            print("== the `redis` Python client is missing: installing it into bench/.run/cluster/pylib")
            subprocess.run(
                [
                    PY,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "--target",
                    str(target),
                    "redis",
                ],
                check=True,
            )
        sys.path.insert(0, str(target))
        return str(target)


class Cluster:
    """Every process of the harness, and how to end them all."""

    def __init__(self, args: argparse.Namespace, database_url: str) -> None:
        self.args = args
        self.nodes = [Node(n + 1, args.base_port + n, args.workers) for n in range(args.nodes)]
        self.pylib = redis_python_path()
        self.nginx: subprocess.Popen[bytes] | None = None
        self.others: list[subprocess.Popen[bytes]] = []

        # Into this process's environment, which server_env() copies: the nodes, the worker,
        # tick and the helpers run in `manage.py shell` (the rule change) all see the same
        # database and the same Redis.
        os.environ.update(
            {"DATABASE_URL": database_url, "REDIS_URL": args.redis_url, "TASKS_BACKEND": "database"}
        )
        if self.pylib:
            os.environ["PYTHONPATH"] = os.pathsep.join(
                filter(None, [self.pylib, os.environ.get("PYTHONPATH", "")])
            )

    def env(self, rate_limit: str | None = None) -> dict[str, str]:
        env = server_env()
        # nginx is on loopback: requests it forwards count against the client it names
        # (lib.http.client_ip), as deploy/stormcert.env.example sets it for a real proxy.
        env["TRUSTED_PROXIES"] = "127.0.0.1"
        if rate_limit:
            env["RATE_LIMIT_PUBLIC"] = rate_limit
        return env

    def start_nodes(self, env: dict[str, str]) -> None:
        for node in self.nodes:
            node.start(env)
        for node in self.nodes:
            node.wait_healthy()

    def stop_nodes(self) -> None:
        for node in self.nodes:
            node.stop()

    def start_nginx(self) -> None:
        conf = HERE / "nginx.conf"
        conf.write_text(nginx_conf(self.nodes, self.args.port))
        log = HERE / "nginx-error.log"
        test = subprocess.run(
            [NGINX, "-t", "-q", "-c", str(conf), "-e", str(log)], capture_output=True, text=True
        )
        if test.returncode:
            raise SystemExit(f"nginx refused {conf}:\n{test.stderr}")
        self.nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-e", str(log)],
            stdout=_log_file("nginx.out"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                get(self.args.port, "/health/", timeout=5)
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("nginx did not start")

    def drain(self, node: Node | None) -> float:
        """Take `node` out of nginx's upstream (None: put every node back) with a reload, the way
        an operator edits the site and runs `nginx -s reload`; returns the seconds until nginx holds
        no connection to that node (its old workers finish their requests, then close)."""
        assert self.nginx is not None
        (HERE / "nginx.conf").write_text(nginx_conf(self.nodes, self.args.port, down=node))
        os.kill(self.nginx.pid, signal.SIGHUP)
        started = time.time()
        while node is not None and time.time() - started < 60:
            held = subprocess.run(
                ["ss", "-Htn", "state", "established", f"( dport = :{node.port} )"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            if not held:
                break
            time.sleep(0.5)
        return time.time() - started

    def start_background(self, env: dict[str, str]) -> None:
        """The task worker and tick (every 60 s, as stormcert-tick.timer starts it), one each."""
        for name, argv in (
            ("worker", [PY, "manage.py", "db_worker"]),
            ("tick", [PY, "manage.py", "tick", "--loop", "60"]),
        ):
            self.others.append(
                subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    env=env,
                    stdout=_log_file(f"{name}.log"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def close(self) -> None:
        for proc in [*self.others, self.nginx]:
            _end(proc, grace=10)
        for node in self.nodes:
            _end(node.proc, grace=10)


# --- Across nodes -------------------------------------------------------------------------------


def check_session(nodes: list[Node]) -> tuple[bool, str]:
    """A sign-in (the real form, a demo candidate's password) through node 1's port; its session
    cookie then opens the dashboard on every other node's port (and without it, a redirect)."""
    import requests

    first = nodes[0]
    browser = requests.Session()
    base = f"http://{HOST}:{first.port}"
    page = browser.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    signed_in = browser.post(
        f"{base}/accounts/login/",
        data={
            "login": "alice@example.com",
            "password": "stormcert-demo",
            "csrfmiddlewaretoken": token.group(1) if token else "",
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    session = browser.cookies.get("sessionid")
    if signed_in.status_code != 302 or not session:
        return False, f"sign-in on node 1 answered {signed_in.status_code}, no session cookie"
    seen = []
    ok = True
    for node in nodes[1:]:
        with_cookie, _ = get(node.port, "/dashboard/", {"Cookie": f"sessionid={session}"})
        without, _ = get(node.port, "/dashboard/")
        seen.append(f"node {node.number}: {with_cookie} with node 1's cookie, {without} without")
        ok = ok and with_cookie == 200 and without == 302
    return ok, "signed in on node 1 (302); " + "; ".join(seen)


def check_rule_change(nodes: list[Node]) -> tuple[bool, str]:
    """A fee changed by staff through the editor service (audited, as the staff page does), then
    the public program page on every node at once shows the new amount."""
    code = (
        "from decimal import Decimal; from django.utils import timezone\n"
        "from stormcert.accounts.models import User; from stormcert.programs.models import Program\n"
        "from stormcert.programs.editing import create_fee\n"
        "from stormcert.programs.rules import fees_in_force, program_today\n"
        "p = Program.objects.get(code='QISP'); today = program_today(p); fees = fees_in_force(p, today)\n"
        "code = sorted(fees, key=lambda c: (c == 'registration', c))[0]\n"
        "amount = fees[code].amount + Decimal('7.13')\n"
        "create_fee(program=p, code=code, amount=amount, effective_from=today, reason='cluster check: "
        "one rule, every node', actor=User.objects.get(email='sara@example.com'))\n"
        "print(int(amount * 100))"
    )
    # Every node reads the page first, so anything a node kept in its own memory would show.
    before = [get(node.port, "/programs/QISP/")[0] for node in nodes]
    cents = _shell_number(code)
    figure = f"${cents // 100:,}.{cents % 100:02d}".replace(",", "")
    # Every node, as close to at once as one client can: no node may still show the old amount.
    pages = [(node.number, *get(node.port, "/programs/QISP/")) for node in nodes]
    shows = [(n, status, figure in html) for n, status, html in pages]
    ok = before == [200] * len(nodes) and all(status == 200 and found for _, status, found in shows)
    return ok, f"fee changed to {figure} by the editor service; " + ", ".join(
        f"node {n}: {'shows' if found else 'does NOT show'} it ({status})" for n, status, found in shows
    )


def check_rate_limit(nodes: list[Node], nginx_port: int) -> tuple[bool, str, str]:
    """RATE_LIMIT_PUBLIC=30/m: 30 directory searches spread over the nodes pass, then the next one on
    each node is refused (429): the count is Redis's, not one per node. And a second client behind
    nginx has its own count (TRUSTED_PROXIES: the app counts the forwarded client, not nginx)."""
    count = int(RULE_CHECK_LIMIT.split("/")[0])
    # One fixed window of a minute: start early in one so all requests fall into it.
    if time.time() % 60 > 30:
        time.sleep(61 - time.time() % 60)
    statuses = [get(nodes[i % len(nodes)].port, f"/directory/?q=cluster{i}")[0] for i in range(count)]
    after = [(node.number, get(node.port, "/directory/?q=after")[0]) for node in nodes]
    ok = statuses.count(200) == count and all(status == 429 for _, status in after)
    per_node = Counter(nodes[i % len(nodes)].number for i in range(count))
    detail = (
        f"{statuses.count(200)}/{count} passed ({', '.join(f'{n} on node {k}' for k, n in sorted(per_node.items()))}); "
        f"then {', '.join(f'node {n}: {s}' for n, s in after)}"
    )
    # Another client address, through nginx, in the same minute: its own budget.
    conn = http.client.HTTPConnection(HOST, nginx_port, timeout=30, source_address=(SLOW_ADDRESS, 0))
    conn.request("GET", "/directory/?q=other")
    other = conn.getresponse().status
    conn.close()
    note = f"a different client ({SLOW_ADDRESS}) through nginx, in the same minute: {other}" + (
        " (shares the limit: the app counts nginx's address, not the client's)"
        if other == 429
        else " (its own limit)"
    )
    return ok and other == 200, detail, note


# --- Faults under load ----------------------------------------------------------------------------


@dataclass
class SlowClients:
    """`sockets` connections to nginx from SLOW_ADDRESS, each sending a request's header one line
    every `interval` seconds and never finishing it; a closed connection is opened again."""

    port: int
    sockets: int
    interval: float = 2.0
    held: list[float] = field(default_factory=list)  # seconds each finished connection was held
    endings: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for i in range(self.sockets):
            thread = threading.Thread(target=self._client, args=(i,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _client(self, i: int) -> None:
        while not self._stop.is_set():
            opened = time.time()
            try:
                sock = socket.create_connection(
                    (HOST, self.port), timeout=10, source_address=(SLOW_ADDRESS, 0)
                )
            except OSError:
                self.endings["connect failed"] += 1
                self._stop.wait(self.interval)
                continue
            ending = "still open at the end"
            try:
                sock.sendall(f"GET /directory/?q=slow{i} HTTP/1.1\r\n".encode())
                line = 0
                while not self._stop.wait(self.interval):
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable:
                        answer = sock.recv(200)
                        ending = (
                            f"HTTP {answer.split()[1].decode()}"
                            if answer[:5] == b"HTTP/"
                            else "closed by nginx"
                        )
                        break
                    line += 1
                    sock.sendall(f"X-Slow-{line}: {'x' * 20}\r\n".encode())
            except OSError:
                ending = "closed by nginx"
            finally:
                sock.close()
            self.held.append(time.time() - opened)
            self.endings[ending] += 1


@dataclass
class ClusterFaults(FaultDriver):
    """The faults of a cluster run, on FaultDriver's clock and log: a node killed and brought back,
    a rolling restart, slow clients. Each begins and ends with a logged event: its time window."""

    cluster: Cluster | None = None
    env: dict[str, str] = field(default_factory=dict)
    kill_at: float = 60
    down_seconds: float = 10
    rolling_at: float = 120
    rolling: str = "restart"
    slow_at: float = 180
    slow_seconds: float = 40
    slow: SlowClients | None = None

    def targets(self) -> list[Any]:
        # One after the other, never overlapping: each fault's errors are then its own, and the
        # rolling restart never stops a node the kill is still bringing back.
        return [self._in_turn]

    def _in_turn(self) -> None:
        # In the order of their times; a fault whose time has passed waits for the one before it.
        faults = [
            (self.kill_at, self._kill_node),
            (self.rolling_at, self._rolling_restart),
            (self.slow_at, self._slow_clients),
        ]
        for at, fault in sorted(faults, key=lambda pair: pair[0]):
            if self._stop.wait(max(0.0, self.t0 + at - time.time())):
                return
            fault()

    def _kill_node(self) -> None:
        assert self.cluster is not None
        node = self.cluster.nodes[-1]
        self._log("node kill begins", node=node.number)
        node.kill()
        self._log("node killed", node=node.number, pid=node.proc.pid if node.proc else None)
        if self._stop.wait(self.down_seconds):
            return  # the run is ending (Ctrl-C, an error): start nothing new
        node.start(self.env)
        ready = node.wait_healthy()
        self._log("node kill ends", node=node.number, ready_seconds=round(ready, 1))

    def _rolling_restart(self) -> None:
        assert self.cluster is not None
        self._log("rolling restart begins", how=self.rolling)
        for node in self.cluster.nodes:
            if self._stop.is_set():
                return
            stopped = drained = 0.0
            if self.rolling == "hup":
                node.reload()
                time.sleep(2)
            else:
                if self.rolling == "drain":
                    drained = self.cluster.drain(node)
                stopping = time.time()
                node.stop()
                stopped = time.time() - stopping
                node.start(self.env)
            ready = node.wait_healthy()
            if self.rolling == "drain":
                self.cluster.drain(None)
            self._log(
                "node restarted",
                node=node.number,
                drain_seconds=round(drained, 1),
                stop_seconds=round(stopped, 1),
                ready_seconds=round(ready, 1),
            )
        self._log("rolling restart ends")

    def _slow_clients(self) -> None:
        if self.slow is None:
            return
        self._log("slow clients begin", sockets=self.slow.sockets)
        self.slow.start()
        self._stop.wait(self.slow_seconds)
        self.slow.stop()
        self._log("slow clients end", endings=dict(self.slow.endings))

    def windows(self) -> dict[str, tuple[float, float]]:
        """Each fault's time window: from its beginning (less 1 s) to its end plus 5 s, the time
        nginx and the clients take to notice a node is back."""
        found: dict[str, tuple[float, float]] = {}
        for name in ("node kill", "rolling restart", "slow clients"):
            begin = [e["t"] for e in self.events if str(e["fault"]).startswith(f"{name} begin")]
            end = [e["t"] for e in self.events if str(e["fault"]).startswith(f"{name} end")]
            if begin:
                found[name] = (float(begin[0]) - 1, float(end[0] if end else time.time()) + 5)  # type: ignore[arg-type]
        return found

    def explain(self, when: float) -> str:
        for name, (begin, end) in self.windows().items():
            if begin <= when <= end:
                return name
        return "no fault"


# --- The run --------------------------------------------------------------------------------------


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def errors_by_window(faults: ClusterFaults) -> dict[str, Counter[str]]:
    """Failed requests (from the clients' outcomes files) by the fault window they fell in."""
    by: dict[str, Counter[str]] = {name: Counter() for name in (*faults.windows(), "no fault")}
    for path in RUN.glob("outcomes-*.json"):
        for when, method, name, kind in json.loads(path.read_text())["failures"]:
            by.setdefault(faults.explain(when), Counter())[f"{kind}: {method} {name}"] += 1
    return by


def run(args: argparse.Namespace, cluster: Cluster) -> bool:
    results: dict[str, bool] = {}
    nodes = cluster.nodes
    print(
        f"== cluster: nginx on {HOST}:{args.port} in front of {len(nodes)} nodes "
        f"({', '.join(str(n.port) for n in nodes)}), flags from {UNIT.relative_to(ROOT)}: "
        f"{' '.join(gunicorn_argv(nodes[0].port, args.workers)[1:])}",
        flush=True,
    )
    exam_day.PORT = args.port  # the synchronized start and the answer keys go through nginx
    sessions = prepare_people(args, cluster.env())
    collect_static()
    started = time.time()
    cluster.start_nodes(cluster.env(RULE_CHECK_LIMIT))
    print(f"   {len(nodes)} nodes healthy in {time.time() - started:.0f} s", flush=True)
    cluster.start_nginx()
    cluster.start_background(cluster.env())

    print(f"\n== across nodes (each node's own port; RATE_LIMIT_PUBLIC={RULE_CHECK_LIMIT})", flush=True)
    checks: list[tuple[str, bool, str]] = []
    for name, check in (("session", check_session), ("rule change", check_rule_change)):
        ok, detail = check(nodes)
        checks.append((name, ok, detail))
        print(f"   {name}: {'PASS' if ok else 'FAIL'}: {detail}", flush=True)
    ok, detail, note = check_rate_limit(nodes, args.port)
    checks.append(("rate limit", ok, detail))
    print(f"   rate limit: {'PASS' if ok else 'FAIL'}: {detail}\n   note: {note}", flush=True)

    # The load's visitors all come from 127.0.0.1: the nodes start again with exam_day's limit.
    cluster.stop_nodes()
    load_env = cluster.env()
    cluster.start_nodes(load_env)

    sync = synchronized_start(sessions, FINAL)
    one_each = _one_attempt_each(sessions)
    _write_keys(sessions)
    run_seconds = load_seconds(args)
    slow = SlowClients(args.port, args.slow_sockets)
    faults = ClusterFaults(
        master_pid=0,
        run=RUN,
        kill_every=0,
        cut_at=0,
        cut_seconds=0,
        cut_fraction=1,
        restart_db_at=None,
        database=None,
        cluster=cluster,
        env=load_env,
        kill_at=run_seconds * args.kill_at,
        down_seconds=args.down_seconds,
        rolling_at=run_seconds * args.rolling_at,
        rolling=args.rolling,
        slow_at=run_seconds * args.slow_at,
        slow_seconds=args.slow_seconds,
        slow=slow,
    )
    faults.start()
    try:
        mixed_load(args, run_seconds, f"http://{HOST}:{args.port}", "cluster", load_env)
    finally:
        load_ended = time.time()
        faults.stop()

    print("\n== figures (one run, through nginx)")
    print(
        f"synchronized start of {len(sessions)} finals: {sync['ok']} started, {sync['errors']} errors, "
        f"{sync['seconds']} s; candidates with exactly one attempt: {one_each}/{len(sessions)}"
    )
    print_endpoints("cluster")
    print("errors in each fault's time window (from its start -1 s to its end +5 s):")
    windows = faults.windows()
    for name, kinds in errors_by_window(faults).items():
        span = (
            f" (+{windows[name][0] - faults.t0:.0f} to +{windows[name][1] - faults.t0:.0f} s)"
            if name in windows
            else ""
        )
        detail = "; ".join(f"{n} {k}" for k, n in kinds.most_common(6))
        late = name in windows and windows[name][1] - 5 > load_ended
        print(
            f"   {name}{span}: {sum(kinds.values())}{' (' + detail + ')' if detail else ''}"
            + (
                f"; ended {windows[name][1] - 5 - load_ended:.0f} s after the load: give it more time"
                if late
                else ""
            )
        )
    missing = [name for name in ("node kill", "rolling restart", "slow clients") if name not in windows]
    if missing:
        print(
            f"   not done (the load ended first): {', '.join(missing)}; give it more time (--questions, --think-*)"
        )
    if slow.held or slow.endings:
        held = sorted(slow.held) or [0.0]
        print(
            f"slow clients: {args.slow_sockets} sockets from {SLOW_ADDRESS}, a header line every {slow.interval:g} s: "
            f"{len(slow.held)} connections, held median {statistics.median(held):.0f} s, max {held[-1]:.0f} s; "
            f"ended: {dict(slow.endings)}"
        )
    (RUN / "cluster-faults.json").write_text(json.dumps(faults.events))
    checked = subprocess.run([PY, "bench/check.py"], cwd=ROOT, env=load_env, check=False)
    results["four zeros"] = checked.returncode == 0
    results["one attempt each"] = one_each == len(sessions)
    print("\n== cross-node checks")
    for name, ok, detail in checks:
        results[name] = ok
        print(f"   {name}: {'PASS' if ok else 'FAIL'}: {detail}")
    print(f"   four zeros (bench/check.py): {'PASS' if results['four zeros'] else 'FAIL'}")
    failed = [name for name, ok in results.items() if not ok]
    print(f"== {'FAIL: ' + ', '.join(failed) if failed else 'PASS'}")
    return bool(failed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_load_arguments(parser)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="per node (default: the unit file's)")
    parser.add_argument("--port", type=int, default=8780, help="nginx")
    parser.add_argument("--base-port", type=int, default=8781, help="node 1; node 2 the next, ...")
    parser.add_argument("--pg-port", type=int, default=5447)
    parser.add_argument(
        "--redis-url", default=os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    parser.add_argument("--kill-at", type=float, default=0.08, help="share of the load's time")
    parser.add_argument("--down-seconds", type=float, default=10)
    parser.add_argument(
        "--rolling-at", type=float, default=0.45, help="share of the load's time (after the others)"
    )
    parser.add_argument(
        "--rolling",
        choices=["drain", "restart", "hup"],
        default="drain",
        help="drain: out of nginx's upstream (reload), stop, start, back in; restart: stop and start; hup: SIGHUP",
    )
    parser.add_argument("--slow-at", type=float, default=0.3, help="share of the load's time")
    parser.add_argument("--slow-seconds", type=float, default=40)
    parser.add_argument("--slow-sockets", type=int, default=30)
    args = parser.parse_args()

    HERE.mkdir(parents=True, exist_ok=True)
    for old in [*HERE.glob("*.log"), *HERE.glob("*.out")]:  # each run's logs are its own
        old.unlink()
    for old in [*RUN.glob("acks-*.json"), *RUN.glob("outcomes-*.json"), RUN / "keys.json"]:
        old.unlink(missing_ok=True)
    database = OwnPostgres(HERE, port=args.pg_port)
    cluster: Cluster | None = None
    # Ctrl-C is KeyboardInterrupt; a SIGTERM (make killed, a CI timeout) ends the same way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        database.start_fresh()
        os.environ["DATABASE_URL"] = database.url
        cluster = Cluster(args, database.url)
        flush_redis(args.redis_url)
        failed = run(args, cluster)
    finally:
        if cluster is not None:
            cluster.close()
        database.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
