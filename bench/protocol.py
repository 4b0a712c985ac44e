"""The exam protocol, flat out: what the start, save and submit cost the server, per request.

One run per (app checkout, server, load): a throwaway PostgreSQL cluster per checkout (bench/faults.py's
OwnPostgres, its own directory and a free port, so `make bench` is left alone), migrated once (and
cached), a fresh copy of that database per server:

1. bench/prepare.py loads N candidates ready for the final, signed in (sessions made directly).
2. The server starts with production settings (bench/exam_day.py's server_env): gunicorn sync,
   gunicorn gthread or granian (WSGI), `--preload` for gunicorn.
3. Phases, each released at once to every client and timed from release to its last answer:
   - start: every candidate POSTs the start and loads the exam page it is sent to (the herd);
   - save: every candidate answers every question with no think time, one request per answer,
     sending exactly what the page's exam.js sends (URL, headers and data-* tokens are read from
     the exam page and from exam.js as served, so a changed page is followed without editing here);
   - submit: every candidate submits the page's form and loads the result.
4. CPU: user+system seconds of the app server's processes and of the cluster's processes (psutil,
   whole process trees, plus what exited children left to their parents) per phase, divided by the
   requests of the phase; the client's own CPU separately.
5. Every acknowledged answer is checked in the database (bench/check.py): lost answers must be 0.

The client is asyncio with one keep-alive HTTP/1.1 connection per candidate (opened at its first
request; reopened when the server closes it, as gunicorn's sync workers do after every response).

    .venv/bin/python bench/protocol.py --quick                      # C=20, 20 questions, about a minute
    .venv/bin/python bench/protocol.py --server gunicorn-sync gunicorn-gthread:2x4 granian:2x4
                                                  # C=50, C=200 and the herd of 1,000, each server
    GRANIAN_PATH=DIR (granian installed apart: pip install --target DIR granian)
    .venv/bin/python bench/protocol.py --compare /path/to/old-checkout .   # ratios B/A
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import html
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psutil
import timeline
from exam_day import PY, ROOT, RUN, collect_static, production_argv, server_env, start_path, wait_until_up
from faults import PG_BIN, OwnPostgres

HOST = "127.0.0.1"
WARM = 8  # spare candidates who warm the server before each load, unmeasured (at least one a thread)
# "production": the deploy unit's ExecStart as it stands (gthread, --preload, its keep-alive, timeouts
# and --max-requests recycling), the others bare.
SERVERS = ("gunicorn-sync", "gunicorn-gthread", "granian", "production")
DB = "stormcert_load"  # OwnPostgres.url's database
HOME = RUN / "protocol"  # the cluster and the files of this benchmark (make bench uses RUN/pg)


# ---------------------------------------------------------------------------------------------
# The client: minimal HTTP/1.1 over asyncio streams, keep-alive, one connection per candidate.


class Closed(Exception):
    """The server closed a kept-alive connection before answering: safe to send again."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Connection:
    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}
        self.opened = 0  # TCP connections opened (1 per request with gunicorn sync)
        self.resent = 0  # requests sent again because a kept-alive connection had been closed

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        for attempt in range(2):
            reused = self.writer is not None
            try:
                return await asyncio.wait_for(self._send(method, path, headers or {}, body), self.timeout)
            except (Closed, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed (its keep-alive timeout): sent again
                # once on a new one, as browsers do. All three requests are safe to repeat: a start
                # resumes the attempt, a save is ordered by its seq, a second submit shows the result.
                await self.close()
                if not reused or attempt:
                    raise
                self.resent += 1
            except BaseException:
                await self.close()
                raise
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port, limit=2**20)
            self.opened += 1
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Connection: keep-alive"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise Closed
        version, status = status_line.split(b" ", 2)[:2]
        received: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
            received[name] = value
        if "content-length" in received:
            payload = await self.reader.readexactly(int(received["content-length"]))
        elif received.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            payload = b"".join(chunks)
        elif status.startswith(b"1") or status in (b"204", b"304"):
            payload = b""
        else:
            payload = await self.reader.read()
            received["connection"] = "close"
        if received.get("connection", "").lower() == "close" or version == b"HTTP/1.0":
            await self.close()
        return Response(int(status), received, payload)


# ---------------------------------------------------------------------------------------------
# What the exam page tells the client: read from its HTML and from exam.js, as served.


@dataclass
class ExamPage:
    data: dict[str, str]  # the #exam element's data-* attributes, as exam.js's root.dataset names them
    csrf: str  # the form's csrfmiddlewaretoken
    submit_url: str
    positions: list[int]
    choices: dict[int, int]  # choices shown per position (4 where the page shows only one question)
    script: str  # exam.js's URL


def camel(name: str) -> str:
    """data-save-url -> saveUrl, as the DOM's dataset names it."""
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_exam_page(text: str) -> ExamPage:
    root = re.search(r"<[a-z]+\b[^>]*\bid=\"exam\"[^>]*>", text, re.S)
    if root is None:
        raise ValueError("no #exam element on the exam page")
    data = {
        camel(k): html.unescape(v) for k, v in re.findall(r"\bdata-([a-z0-9-]+)=\"([^\"]*)\"", root.group(0))
    }
    form = re.search(r"<form\b[^>]*\bid=\"exam-form\"[^>]*>", text, re.S)
    csrf = re.search(r"name=\"csrfmiddlewaretoken\" value=\"([^\"]+)\"", text)
    if form is None or csrf is None:
        raise ValueError("no exam form (or no CSRF token) on the exam page")
    action = re.search(r"\baction=\"([^\"]+)\"", form.group(0))
    positions = sorted({int(p) for p in re.findall(r"\bid=\"nav(\d+)\"", text)}) or sorted(
        {int(p) for p in re.findall(r"\bdata-position=\"(\d+)\"", text)}
    )
    choices = Counter(int(p) for p in re.findall(r"<input type=\"radio\" name=\"q(\d+)\"", text))
    script = re.search(r"<script[^>]*\bsrc=\"([^\"]*exam[^\"]*\.js)\"", text)
    return ExamPage(
        data=data,
        csrf=html.unescape(csrf.group(1)),
        submit_url=html.unescape(action.group(1)) if action else "",
        positions=positions,
        choices={p: choices.get(p, 4) for p in positions},
        script=script.group(1) if script else "",
    )


@dataclass
class SaveRecipe:
    """How exam.js posts an answer: the URL's dataset key and each header's source."""

    url_key: str = "saveUrl"
    headers: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {"Content-Type": ("literal", "application/json"), "X-CSRFToken": ("csrf", "")}
    )
    notes: list[str] = field(default_factory=list)

    def build(self, page: ExamPage) -> tuple[str, dict[str, str]]:
        headers = {}
        for name, (kind, value) in self.headers.items():
            if kind == "literal":
                headers[name] = value
            elif kind == "csrf":
                headers[name] = page.csrf
            else:  # a data-* attribute of the #exam element
                headers[name] = page.data.get(value, "")
        return page.data.get(self.url_key, ""), headers


def save_recipe(script: str) -> SaveRecipe:
    """Read the save request off exam.js: `fetch(<url>, {... headers: {...} ...})`, the call whose
    body carries `position`. Each header value is a string, `root.dataset.X`, or a variable
    assigned from one of those or from the form's csrfmiddlewaretoken. Anything else is reported
    and the default (what exam.js sent before issue 20) is kept for it."""
    recipe = SaveRecipe()
    variables = dict(re.findall(r"\b(?:var|let|const)\s+(\w+)\s*=\s*([^;]+);", script))

    def source(expr: str) -> tuple[str, str] | None:
        expr = expr.strip()
        for _ in range(3):  # follow a variable to what it was assigned from
            if re.fullmatch(r"\w+", expr) and expr in variables:
                expr = variables[expr].strip()
        if literal := re.fullmatch(r"[\"']([^\"']*)[\"']", expr):
            return ("literal", literal.group(1))
        if "csrfmiddlewaretoken" in expr:
            return ("csrf", "")
        if dataset := re.search(r"\.dataset\.(\w+)", expr):
            return ("data", dataset.group(1))
        if dataset := re.search(r"getAttribute\([\"']data-([a-z0-9-]+)[\"']\)", expr):
            return ("data", camel(dataset.group(1)))
        return None

    for call in re.finditer(r"fetch\(\s*([^,]+),\s*\{(.*?)\}\s*\)", script, re.S):
        options = call.group(2)
        if "position" not in options:
            continue
        url = source(call.group(1))
        if url and url[0] == "data":
            recipe.url_key = url[1]
        block = re.search(r"headers\s*:\s*\{(.*?)\}", options, re.S)
        if block is None:
            recipe.notes.append("exam.js: no headers object found in the save; sending the defaults")
            break
        headers: dict[str, tuple[str, str]] = {}
        for name, expr in re.findall(r"[\"']?([A-Za-z0-9-]+)[\"']?\s*:\s*([^,]+)", block.group(1)):
            found = source(expr)
            if found is None:
                recipe.notes.append(f"exam.js: cannot tell where header {name} comes from ({expr.strip()})")
                found = recipe.headers.get(name, ("literal", ""))
            headers[name] = found
        recipe.headers = headers
        break
    else:
        recipe.notes.append("exam.js: no save fetch() found; sending the defaults")
    return recipe


# ---------------------------------------------------------------------------------------------
# One candidate, and one run of the protocol.


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"start": [], "save": [], "submit": []})
    errors: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)  # HTTP requests sent, per phase
    acks: list[tuple[int, int, int, int]] = field(default_factory=list)


class Candidate:
    def __init__(self, me: dict[str, str], port: int, timeout: float, stats: Stats) -> None:
        self.conn = Connection(port, timeout)
        self.conn.cookies = {"sessionid": me["session"], "csrftoken": me["csrf"]}
        self.me = me
        self.stats = stats
        self.page: ExamPage | None = None
        self.attempt = 0
        self.referer = f"http://{HOST}:{port}/"

    async def call(
        self, phase: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response | None:
        """One request; a failure is counted by kind and returns None (no retry: flat out, each
        error shows)."""
        self.stats.requests[phase] += 1
        try:
            response = await self.conn.request(
                method, path, {"Referer": self.referer, **(headers or {})}, body
            )
        except TimeoutError:
            self.stats.errors[f"{phase}: timeout"] += 1
        except (OSError, asyncio.IncompleteReadError, Closed, ValueError) as exc:
            self.stats.errors[f"{phase}: {type(exc).__name__}"] += 1
        else:
            return response
        return None

    async def start(self, start_url: str) -> None:
        began = time.perf_counter()
        response = await self.call("start", "POST", start_url, {"X-CSRFToken": self.me["csrf"]})
        if response is None:
            return
        where = urlsplit(response.headers.get("location", "")).path
        if response.status // 100 != 3 or not where:
            self.stats.errors[f"start: HTTP {response.status} to {where or '-'}"] += 1
            return
        page = await self.call("start", "GET", where)
        if page is None:
            return
        if page.status != 200:
            self.stats.errors[f"start: page HTTP {page.status}"] += 1
            return
        try:
            self.page = parse_exam_page(page.text)
        except ValueError as exc:
            self.stats.errors[f"start: {exc}"] += 1
            return
        self.attempt = int(self.page.data.get("attempt") or (re.findall(r"\d+", where) or [0])[-1])
        self.stats.latencies["start"].append(time.perf_counter() - began)

    async def answer_all(self, recipe: SaveRecipe, questions: int) -> None:
        if self.page is None:
            return
        url, headers = recipe.build(self.page)
        seq = 0
        for position in self.page.positions[:questions]:
            seq = max(int(time.time() * 1000), seq + 1)  # exam.js's nextSeq()
            choice = random.randrange(self.page.choices[position])
            body = json.dumps({"position": position, "choice": choice, "flagged": False, "seq": seq})
            began = time.perf_counter()
            response = await self.call("save", "POST", url, headers, body.encode())
            if response is None:
                continue
            if response.status != 200:
                self.stats.errors[f"save: HTTP {response.status}"] += 1
                continue
            self.stats.latencies["save"].append(time.perf_counter() - began)
            try:
                acknowledged = int(json.loads(response.body).get("seq", seq))
            except (ValueError, AttributeError):
                acknowledged = seq
            if acknowledged >= seq:
                self.stats.acks.append((self.attempt, position, seq, choice))

    async def submit(self) -> None:
        if self.page is None:
            return
        began = time.perf_counter()
        form = urlencode({"csrfmiddlewaretoken": self.page.csrf}).encode()
        response = await self.call(
            "submit",
            "POST",
            self.page.submit_url,
            {"Content-Type": "application/x-www-form-urlencoded"},
            form,
        )
        if response is None:
            return
        if response.status // 100 != 3:
            self.stats.errors[f"submit: HTTP {response.status}"] += 1
            return
        result = await self.call("submit", "GET", urlsplit(response.headers.get("location", "")).path)
        if result is None:
            return
        if result.status != 200:
            self.stats.errors[f"submit: result HTTP {result.status}"] += 1
            return
        self.stats.latencies["submit"].append(time.perf_counter() - began)


# ---------------------------------------------------------------------------------------------
# CPU of the server's processes and the cluster's, from psutil.


def tree_cpu(pid: int) -> float:
    """User+system seconds of a process, its descendants, and the children they have reaped."""
    return timeline.tree_cpu(pid)[0]


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Load:
    name: str
    clients: int
    questions: int  # answers per candidate (capped by the exam's length); 0: start only


async def run_load(
    load: Load,
    sessions: list[dict[str, str]],
    port: int,
    start_url: str,
    timeout: float,
    pids: dict[str, int],
) -> dict[str, Any]:
    stats = Stats()
    candidates = [Candidate(me, port, timeout, stats) for me in sessions[: load.clients]]
    phases: dict[str, dict[str, float]] = {}
    recipe = SaveRecipe()

    def snapshot() -> dict[str, float]:
        return {
            "app": tree_cpu(pids.get("app", 0)),
            "db": tree_cpu(pids.get("db", 0)),
            "client": client_cpu(),
        }

    async def phase(name: str, jobs: list[Any]) -> None:
        before, began = snapshot(), time.perf_counter()
        await asyncio.gather(*jobs)  # every job released at once: the barrier
        seconds, after = time.perf_counter() - began, snapshot()
        phases[name] = {"seconds": seconds, **{k: after[k] - before[k] for k in before}}

    await phase("start", [c.start(start_url) for c in candidates])
    started = [c for c in candidates if c.page is not None]
    if load.questions and started:
        first = started[0]
        assert first.page is not None
        if first.page.script:  # read once, off the measured phases' books
            conn = Connection(port, timeout)
            try:
                response = await conn.request("GET", first.page.script)
                if response.status == 200:
                    recipe = save_recipe(response.text)
                else:
                    recipe.notes.append(f"exam.js: HTTP {response.status}; sending the defaults")
            finally:
                await conn.close()
        for note in recipe.notes:
            print(f"   note: {note}", flush=True)
        await phase("save", [c.answer_all(recipe, load.questions) for c in started])
        await phase("submit", [c.submit() for c in started])
    for c in candidates:
        await c.conn.close()
    return {
        "load": load.name,
        "clients": load.clients,
        "started": len(started),
        "phases": phases,
        "requests": dict(stats.requests),
        "latencies": {k: percentiles(v) for k, v in stats.latencies.items()},
        "counts": {k: len(v) for k, v in stats.latencies.items()},
        "errors": dict(stats.errors),
        "connections": sum(c.conn.opened for c in candidates),
        "resent": sum(c.conn.resent for c in candidates),
        "headers": sorted(recipe.headers),
        "acks": stats.acks,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {q: round(values[0] * 1000, 1) if values else 0.0 for q in ("p50", "p95", "p99")}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(cuts[49] * 1000, 1),
        "p95": round(cuts[94] * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
    }


# ---------------------------------------------------------------------------------------------
# Servers, the cluster, the runs.


@dataclass(frozen=True)
class Server:
    """A server in front and its counts: `gunicorn-gthread:2x4` is 2 workers of 4 threads."""

    kind: str
    workers: int
    threads: int

    @property
    def label(self) -> str:
        if self.kind == "gunicorn-sync":
            return f"{self.kind}:{self.workers}"
        return f"{self.kind}:{self.workers}x{self.threads}"


def server_spec(text: str, workers: int = 0, threads: int = 0) -> Server:
    """`kind[:W[xT]]`; counts not given come from --workers/--threads, then the defaults (sync: 5
    workers = 2 x cores + 1; gthread and granian: 2 workers x 4 threads)."""
    kind, _, counts = text.partition(":")
    if kind not in SERVERS:
        raise argparse.ArgumentTypeError(f"{kind}: not one of {', '.join(SERVERS)}")
    given = re.fullmatch(r"(\d+)(?:x(\d+))?", counts) if counts else None
    if counts and given is None:
        raise argparse.ArgumentTypeError(f"{text}: counts are W or WxT, e.g. {kind}:2x4")
    w = int(given.group(1)) if given else workers or (5 if kind == "gunicorn-sync" else 2)
    t = int(given.group(2)) if given and given.group(2) else threads or (1 if kind == "gunicorn-sync" else 4)
    return Server(kind, w, t)


def server_command(args: argparse.Namespace, server: Server, app: Path) -> tuple[list[str], dict[str, str]]:
    env = {**server_env(), "PYTHONPATH": str(app)}
    bind = ["-b", f"{HOST}:{args.port}", "--backlog", "4096", "--timeout", "120"]
    log = ["--log-level", "warning", "--error-logfile", str(HOME / "server.log"), "--capture-output"]
    gunicorn = [PY, "-m", "gunicorn", "stormcert.wsgi:application", "--preload", "-w", str(server.workers)]
    if server.kind == "gunicorn-sync":
        # The sync worker closes the connection after every response (no keep-alive).
        return [*gunicorn, "-k", "sync", *bind, *log], env
    if server.kind == "production":
        argv = production_argv(args.port, server.workers)
        argv[argv.index("--threads") + 1] = str(server.threads)
        argv[argv.index("--access-logfile") + 1] = str(HOME / "access.log")
        argv[argv.index("--error-logfile") + 1] = str(HOME / "server.log")
        if args.max_requests is not None:  # an experiment on the unit's recycling (0: never)
            argv[argv.index("--max-requests") + 1] = str(args.max_requests)
        return [
            *argv,
            "--backlog",
            "4096",
            "--capture-output",
            "--control-socket",
            str(HOME / "gunicorn.ctl"),
        ], env
    if server.kind == "gunicorn-gthread":
        threads = ["-k", "gthread", "--threads", str(server.threads), "--keep-alive", "75"]
        return [*gunicorn, *threads, "--worker-connections", "2000", *bind, *log], env
    lib = args.granian_path or os.environ.get("GRANIAN_PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (lib, str(app)) if p)
    cmd = [PY, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", str(args.port)]
    cmd += ["--workers", str(server.workers), "--blocking-threads", str(server.threads), "--backlog", "4096"]
    cmd += ["--log-level", "warning", "--working-dir", str(app), "stormcert.wsgi:application"]
    return cmd, env


def describe(server: Server, args: argparse.Namespace | None = None) -> str:
    if server.kind == "production":
        recycling = getattr(args, "max_requests", None)
        changed = "" if recycling is None else f", --max-requests {recycling}"
        return f"the deploy unit's gunicorn (gthread -w {server.workers} --threads {server.threads}{changed})"
    if server.kind == "gunicorn-sync":
        return f"gunicorn sync -w {server.workers} --preload (no keep-alive)"
    if server.kind == "gunicorn-gthread":
        return f"gunicorn gthread -w {server.workers} --threads {server.threads} --preload, keep-alive"
    return f"granian wsgi --workers {server.workers} --blocking-threads {server.threads}, keep-alive"


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


def helper(script: str, app: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, str(ROOT / "bench" / script), *extra],
        cwd=app,
        env={**server_env(), "BENCH_APP_DIR": str(app)},
        capture_output=True,
        text=True,
        check=False,
    )


def prepare(
    app: Path, candidates: int, people_only: bool = True, papers: bool = True
) -> list[dict[str, str]]:
    # Papers are drawn ahead, as `tick` does before a sitting, unless --no-papers measures the start
    # that draws its own (a checkout from before prepared papers draws its own either way).
    extra = (["--people-only"] if people_only else []) + ([] if papers else ["--no-papers"])
    done = helper(
        "prepare.py", app, "--candidates", str(candidates), "--floor", "0", "--course-sessions", "0", *extra
    )
    if done.returncode:
        raise SystemExit(f"bench/prepare.py failed:\n{done.stdout}\n{done.stderr}")
    return list(json.loads((RUN / "sessions.json").read_text()))


def psql(port: int, sql: str, database: str = "postgres") -> None:
    subprocess.run(
        [
            str(PG_BIN / "psql"),
            "-q",
            "-h",
            HOST,
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ],
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        check=True,
    )


def ensure_static(app: Path) -> None:
    """collectstatic (exam_day.py's), unless the manifest is newer than every static source file:
    it takes half a minute on a busy machine."""
    manifest = app / "staticfiles" / "staticfiles.json"
    sources = [path.stat().st_mtime for path in app.glob("stormcert/**/static/**/*") if path.is_file()]
    if not manifest.exists() or manifest.stat().st_mtime < max(sources, default=0):
        collect_static(app)


def template_key(app: Path) -> str:
    """What the template database depends on: the checkout's migrations, demo data and program
    definitions."""
    digest = hashlib.sha256()
    for pattern in (
        "stormcert/*/migrations/*.py",
        "stormcert/**/demo_data.py",
        "stormcert/programs/definitions/*",
    ):
        for path in sorted(app.glob(pattern)):
            digest.update(path.relative_to(app).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def build_template(args: argparse.Namespace, app: Path, database: OwnPostgres) -> None:
    """A fresh cluster for this checkout, migrated, with the demo data, kept as a template database:
    each server's run starts from a copy of it. The migrated cluster is cached (bench/.run/protocol/
    template-<key>) for the next run on the same migrations: a migrate takes minutes on a busy machine."""
    began = time.perf_counter()
    cache = HOME / f"template-{template_key(app)}"
    os.environ["DATABASE_URL"] = database.url
    if cache.exists() and not args.fresh:
        database.stop()
        shutil.rmtree(database.home, ignore_errors=True)
        database.home.mkdir(parents=True)
        subprocess.run(["cp", "-a", str(cache), str(database.data)], check=True)
        with (database.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {database.port}\n")  # the last setting wins: this run's free port
        if os.geteuid() == 0:
            shutil.chown(database.home, "postgres", "postgres")
        database.start()
        ensure_static(app)
        print(
            f"   cluster from the cached template ({cache.name}): {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        return
    # Keep the newest two (a --compare of checkouts with different migrations uses both).
    for old in sorted(HOME.glob("template-*"), key=lambda p: p.stat().st_mtime)[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    database.start_fresh()
    ensure_static(app)
    prepare(app, 0, people_only=False)
    psql(args.pg_port, f"ALTER DATABASE {DB} RENAME TO {DB}_template")
    database.stop()
    subprocess.run(["cp", "-a", str(database.data), str(cache)], check=True)
    database.start()
    print(f"   fresh cluster, migrated, demo data: {time.perf_counter() - began:.0f} s (cached)", flush=True)


def fresh_database(args: argparse.Namespace) -> None:
    psql(args.pg_port, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(args.pg_port, f"CREATE DATABASE {DB} TEMPLATE {DB}_template")


def lost_answers(app: Path, acks: list[tuple[int, int, int, int]]) -> int | None:
    for old in RUN.glob("outcomes-*.json"):
        old.unlink()
    (RUN / "outcomes-protocol.json").write_text(json.dumps({"acks": acks}))
    done = helper("check.py", app)
    (RUN / "outcomes-protocol.json").unlink(missing_ok=True)
    try:
        return int(json.loads((RUN / "check.json").read_text())["lost saved answers"])
    except (OSError, ValueError, KeyError):
        print(f"   the checker failed:\n{done.stdout}\n{done.stderr}", flush=True)
        return None


def _largest_worker_rss(pid: int) -> int:
    """Resident bytes of the largest of the server's worker processes (what --max-requests bounds)."""
    try:
        workers = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return 0
    sizes = []
    for worker in workers:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            sizes.append(worker.memory_info().rss)
    return max(sizes, default=0)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _read_from(path: Path, offset: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def run_server(
    args: argparse.Namespace, app: Path, server: Server, loads: list[Load], tag: str, database: OwnPostgres
) -> list[dict[str, Any]]:
    """A fresh copy of the template database, one server, every load in turn."""
    results = []
    proc: subprocess.Popen[bytes] | None = None
    print(f"== {tag + ': ' if tag else ''}{describe(server, args)}; {app}", flush=True)
    fresh_database(args)
    warmers = min(max(WARM, server.workers * server.threads), 64)
    try:
        for load in loads:
            began = time.perf_counter()
            # No attempts left from the load before; papers drawn ahead unless --no-papers.
            sessions = prepare(app, load.clients + warmers, papers=args.papers)
            psql(args.pg_port, "VACUUM ANALYZE", DB)
            print(f"   {load.name}: candidates reset in {time.perf_counter() - began:.0f} s", flush=True)
            if proc is None:
                command, env = server_command(args, server, app)
                proc = subprocess.Popen(command, cwd=app, env=env, start_new_session=True)
                wait_until_up(proc, HOST, args.port, seconds=args.startup_timeout)
            # Warm every worker and thread (connections, templates, caches): a few spare candidates
            # go through the whole protocol first, unmeasured.
            warm = Load("warm", warmers, 3)
            asyncio.run(run_load(warm, sessions[-warmers:], args.port, args.start_path, args.timeout, {}))
            postmaster = int((database.data / "postmaster.pid").read_text().split()[0])
            pids = {"app": proc.pid, "db": postmaster}
            log_at = _size(HOME / "server.log")
            result = asyncio.run(run_load(load, sessions, args.port, args.start_path, args.timeout, pids))
            if server.kind == "production":
                # gunicorn logs each --max-requests recycle at info, which the unit's logging keeps.
                result["recycled"] = _read_from(HOME / "server.log", log_at).count("Autorestarting worker")
                result["worker_rss_mb"] = round(_largest_worker_rss(proc.pid) / 2**20, 1)
                print(
                    f"   workers recycled (--max-requests) during the load: {result['recycled']}; "
                    f"largest worker's RSS after it {result['worker_rss_mb']} MB",
                    flush=True,
                )
            acks = result.pop("acks")
            result["acked"] = len(acks)
            result["lost"] = lost_answers(app, acks) if acks else 0
            result.update(
                {"app_dir": str(app), "tag": tag, "server": server.label, "describe": describe(server, args)}
            )
            print_result(result)
            results.append(result)
    finally:
        if proc is not None:
            stop(proc)
    return results


# ---------------------------------------------------------------------------------------------
# Figures.


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """The numbers of one run, by name (what the table and the ratios show)."""
    phases, requests, counts = result["phases"], result["requests"], result["counts"]
    start = phases.get("start", {})
    save = phases.get("save", {})
    total = {k: sum(p[k] for p in phases.values()) for k in ("app", "db", "client")}
    n = max(sum(requests.values()), 1)
    out: dict[str, float | None] = {
        "starts/s": counts["start"] / start["seconds"] if start.get("seconds") else None,
        "drain s": start.get("seconds"),
        "saves/s": counts["save"] / save["seconds"] if save.get("seconds") else None,
    }
    for op in ("start", "save", "submit"):
        for q in ("p50", "p95", "p99"):
            out[f"{op} {q}"] = result["latencies"][op][q] if counts[op] else None
    out["errors"] = sum(result["errors"].values())
    out["lost"] = result["lost"]
    out["app ms/req"] = total["app"] * 1000 / n
    out["db ms/req"] = total["db"] * 1000 / n
    out["cpu ms/req"] = (total["app"] + total["db"]) * 1000 / n
    out["client ms/req"] = total["client"] * 1000 / n
    for name, p in phases.items():
        req = max(requests.get(name, 0), 1)
        out[f"{name} app+db ms/req"] = (p["app"] + p["db"]) * 1000 / req
    return out


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def print_result(result: dict[str, Any]) -> None:
    f = figures(result)
    lat = result["latencies"]
    print(
        f"   {result['load']}: {result['started']}/{result['clients']} started in {fmt(f['drain s'])} s "
        f"({fmt(f['starts/s'])}/s); saves {result['counts']['save']} ({fmt(f['saves/s'])}/s); "
        f"submits {result['counts']['submit']}; errors {f['errors']} {result['errors'] or ''}; "
        f"lost {result['lost']} of {result['acked']} acknowledged",
        flush=True,
    )
    print(
        "   p50/p95/p99 ms: "
        + "; ".join(
            f"{op} {lat[op]['p50']}/{lat[op]['p95']}/{lat[op]['p99']}" for op in lat if result["counts"][op]
        )
    )
    print(
        "   CPU per request, ms: "
        + "; ".join(
            f"{name} ({result['requests'].get(name, 0)} req, {p['seconds']:.1f} s): app "
            f"{p['app'] * 1000 / max(result['requests'].get(name, 0), 1):.2f} db "
            f"{p['db'] * 1000 / max(result['requests'].get(name, 0), 1):.2f} client "
            f"{p['client'] * 1000 / max(result['requests'].get(name, 0), 1):.2f}"
            for name, p in result["phases"].items()
        )
        + f"; TCP connections opened {result['connections']}, requests resent on a closed one "
        + f"{result.get('resent', 0)}"
        + (f"; save headers sent {', '.join(result['headers'])}" if result["counts"]["save"] else ""),
        flush=True,
    )
    busy = max((p["client"] / p["seconds"] for p in result["phases"].values() if p["seconds"]), default=0)
    print(
        f"   the client used at most {busy:.0%} of a core in a phase"
        + (": it may be what limits this load, not the server" if busy > 0.7 else ""),
        flush=True,
    )


TABLE = [
    "starts/s", "drain s", "saves/s", "start p50", "start p95", "start p99", "save p50", "save p95",
    "save p99", "submit p50", "submit p95", "submit p99", "errors", "lost", "app ms/req", "db ms/req",
    "client ms/req",
]  # fmt: skip


def print_table(results: list[dict[str, Any]]) -> None:
    print("\n== protocol figures (latencies in ms; CPU = user+system per HTTP request over all phases)")
    head = f"{'run':<34} " + " ".join(f"{c:>10}" for c in TABLE)
    print(head)
    for r in results:
        f = figures(r)
        name = f"{r['tag']} {r['server']} {r['load']}".strip()
        print(f"{name[:34]:<34} " + " ".join(f"{fmt(f[c]):>10}" for c in TABLE))


def print_ratios(results: list[dict[str, Any]], tags: list[str]) -> None:
    a, b = tags
    print(f"\n== ratios {b} / {a} (below 1: {b} is faster or cheaper, except the rates)")
    print(f"{'run':<34} " + " ".join(f"{c:>10}" for c in TABLE))
    by_key = {(r["tag"], r["server"], r["load"]): figures(r) for r in results}
    for (tag, server, load), fb in by_key.items():
        if tag != b or (a, server, load) not in by_key:
            continue
        fa = by_key[(a, server, load)]
        cells = []
        for c in TABLE:
            x, y = fa.get(c), fb.get(c)
            cells.append(f"{y / x:.2f}" if x and y is not None else "-")
        print(f"{(server + ' ' + load)[:34]:<34} " + " ".join(f"{c:>10}" for c in cells))


def free_port(first: int) -> int:
    """The first port from `first` on that nobody listens on (other benchmarks may run beside)."""
    for port in range(first, first + 100):
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {first}-{first + 99}")


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server",
        nargs="+",
        default=["gunicorn-gthread"],
        metavar="KIND[:W[xT]]",
        help=f"one or more of {', '.join(SERVERS)}, each with its counts if wanted: gunicorn-gthread:2x8",
    )
    parser.add_argument("--workers", type=int, default=0, help="worker processes (default: sync 5, others 2)")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads per worker: gthread / granian (default 4)"
    )
    parser.add_argument("--clients", type=int, nargs="*", default=[50, 200], help="flat-out loads, one each")
    parser.add_argument(
        "--questions", type=int, default=70, help="answers per candidate (capped by the exam)"
    )
    parser.add_argument("--herd", type=int, default=1000, help="synchronized starts of the herd (0: none)")
    parser.add_argument(
        "--herd-questions", type=int, default=0, help="answers per herd candidate (0: start only)"
    )
    parser.add_argument("--quick", action="store_true", help="C=20, 20 questions, no herd: under a minute")
    parser.add_argument(
        "--app-dir", type=Path, default=ROOT, help="the app checkout to serve (default: this one)"
    )
    parser.add_argument(
        "--compare", type=Path, nargs=2, metavar=("DIR_A", "DIR_B"), help="two checkouts, in turn"
    )
    parser.add_argument("--granian-path", default="", help="where granian is installed (or GRANIAN_PATH)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help="production only: replace the unit's --max-requests (0: workers are never recycled)",
    )
    parser.add_argument("--start-path", default=start_path("final"), help="the start's URL")
    parser.add_argument("--fresh", action="store_true", help="migrate anew, not from the cached template")
    parser.add_argument(
        "--port", type=int, default=0, help="the server's (default: the first free from 8766)"
    )
    parser.add_argument(
        "--pg-port", type=int, default=0, help="the cluster's (default: the first free from 5434)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds a request may take (the herd's last start waits long)",
    )
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument(
        "--no-papers",
        dest="papers",
        action="store_false",
        help="do not draw the exam papers ahead as tick does: every start draws its own",
    )
    parser.add_argument(
        "--json", type=Path, default=HOME / "results.json", help="where the figures are written"
    )
    args = parser.parse_args()
    if args.quick:
        args.clients, args.questions, args.herd = [20], 20, 0
    loads = [Load(f"C={c}", c, args.questions) for c in args.clients]
    if args.herd:
        loads.append(Load(f"herd {args.herd}", args.herd, args.herd_questions))
    apps = [p.resolve() for p in args.compare] if args.compare else [args.app_dir.resolve()]
    for app in apps:
        if not (app / "stormcert" / "wsgi.py").exists():
            parser.error(f"{app} is not a checkout of the app (no stormcert/wsgi.py)")
    try:
        servers = [server_spec(text, args.workers, args.threads) for text in args.server]
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if any(server.kind == "granian" for server in servers):
        lib = args.granian_path or os.environ.get("GRANIAN_PATH", "")
        probe = subprocess.run(
            [PY, "-c", "import granian"],
            env={**os.environ, "PYTHONPATH": lib},
            capture_output=True,
            check=False,
        )
        if probe.returncode:
            parser.error(
                "granian is not importable: pass --granian-path DIR (pip install --target DIR granian)"
            )
    HOME.mkdir(parents=True, exist_ok=True)
    args.port = args.port or free_port(8766)
    args.pg_port = args.pg_port or free_port(5434)
    # One socket per candidate here and in the server: the herd needs more than the usual 1,024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Ctrl-C or a kill: unwind through every `finally`, which stops the servers and the cluster.
    signal.signal(signal.SIGTERM, interrupted)
    tags = [f"{chr(65 + i)}" if len(apps) > 1 else "" for i in range(len(apps))]
    print(
        f"== exam protocol, flat out: loads {', '.join(load.name for load in loads)}, {args.questions} questions "
        f"(herd {args.herd_questions}); "
        f"servers {', '.join(server.label for server in servers)}; apps "
        + ", ".join(f"{t + '=' if t else ''}{a}" for t, a in zip(tags, apps, strict=True))
        + f"; server port {args.port}, cluster port {args.pg_port}"
        + f"; {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    stopped = False
    try:
        for tag, app in zip(tags, apps, strict=True):
            database = OwnPostgres(HOME, port=args.pg_port)
            try:
                build_template(args, app, database)
                for server in servers:
                    results += run_server(args, app, server, loads, tag, database)
            finally:
                database.stop()
    except KeyboardInterrupt:
        print("\ninterrupted: servers and cluster stopped; figures so far below", flush=True)
        stopped = True
    finally:
        if results:
            print_table(results)
            if len(apps) > 1:
                print_ratios(results, tags)
            args.json.write_text(json.dumps(results, indent=1))
            print(f"\n(all figures in {args.json})")
    lost = sum(r["lost"] or 0 for r in results)
    if stopped:
        sys.exit(130)
    sys.exit(1 if lost or any(r["lost"] is None for r in results) else 0)


if __name__ == "__main__":
    main()
