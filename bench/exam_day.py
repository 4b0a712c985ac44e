"""Exam-day benchmark under faults: figures printed as measured in one run (not a timed test).

1. With --own-postgres (what `make bench` and `make load` use): starts a throwaway PostgreSQL
   cluster of its own (bench/faults.py), so the database can be restarted during the run.
2. Prepares the people of the day (bench/prepare.py): N candidates ready for the final, course
   registrants and sessions with few seats, payers, certificate holders for the directory.
3. Serves the app with gunicorn, production settings, persistent connections: sync workers as
   issues 5 and 11 measured (the default), or `--server production`, the deploy unit's gunicorn.
4. Throughput: answer saves vs a trivial signed-in view (/ping/), same server, same run, closed loop.
5. Synchronized start: N clients start the final at the same moment; each must get exactly one attempt.
6. Mixed load (locust, bench/locustfile.py): the candidates answer and submit the final while the
   public searches the directory and verifies numbers, others register for courses and pay, and
   /ping/ is sampled as the floor. Faults meanwhile: a gunicorn worker SIGKILLed every 60 s, a
   tenth of the clients cut off for 30 s, the database restarted once.
7. The checker (bench/check.py) compares what clients were told with the database: lost answers,
   double payments, oversold seats, duplicate certificates must all be 0 (exit status 1 if not).
8. The timeline (bench/timeline.py): per interval (`--interval`), the percentiles of saves, public
   pages and the floor, and the CPU of the app, the database, the load generator and the rest of
   the machine; `--noise N` spins N processes through the mixed load (a shared machine).

Usage: .venv/bin/python bench/exam_day.py --own-postgres   (or DATABASE_URL=... without it)
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import timeline
from faults import FaultDriver, OwnPostgres
from timeline import CpuSampler

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / ".run"
PY = sys.executable
HOST, PORT = "127.0.0.1", 8765
PROGRAM = "QISP"  # the program bench/prepare.py enrolls the candidates in


def start_path(exam: str) -> str:
    """The start of an exam: /exams/<program>/<step>/start/ since exams were named by program."""
    return f"/exams/{PROGRAM}/{exam}/start/"


SECRET = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64)  # one key for the whole run
# The exam of the run: /exams/<PROGRAM>/<FINAL>/ (the locust candidates read BENCH_PROGRAM and
# BENCH_EXAM).
FINAL = "final"


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "0",
            "DOTENV_FILE": "",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "CONN_MAX_AGE": "60",
            "EMAIL_DELIVERY": "outbox",
            "LOG_LEVEL": "WARNING",
            "PAYMENTS_LOCK_TIMEOUT_MS": "20000",
            # The test-mode card provider: payers pay through it (production keeps it off).
            "PAYMENTS_TEST_MODE": "1",
            # Every simulated visitor comes from 127.0.0.1; the per-address limit would otherwise
            # turn the whole public into one client and refuse it.
            "RATE_LIMIT_PUBLIC": "100000000/m",
        }
    )
    return env


def collect_static(root: Path = ROOT) -> None:
    """Production settings hash static file names: the manifest must exist before any page renders."""
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=root, env=server_env(), check=True
    )


def wait_until_up(proc: subprocess.Popen[bytes], host: str, port: int, seconds: float = 120) -> None:
    """Until the server answers a request (any status); SystemExit if it died or never did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode} before it answered")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", "/ping/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer on {host}:{port} within {seconds:g} s")


UNIT = ROOT / "deploy" / "systemd" / "stormcert-app.service"


def production_argv(port: int, workers: int | None = None) -> list[str]:
    """The deploy unit's ExecStart (what production runs), with this machine's gunicorn, this
    port and loopback as the trusted proxy; --workers replaced only when asked."""
    unit = re.sub(r"\\\n\s*", " ", UNIT.read_text())
    found = re.search(r"^ExecStart=(.+)$", unit, re.M)
    if found is None:
        raise SystemExit(f"no ExecStart in {UNIT}")
    argv = shlex.split(found.group(1))
    argv[0] = str(Path(PY).parent / "gunicorn")
    replace = {"--bind": f"{HOST}:{port}", "--forwarded-allow-ips": HOST}
    if workers:
        replace["--workers"] = str(workers)
    for flag, value in replace.items():
        argv[argv.index(flag) + 1] = value
    return argv


# The servers a run can put in front. "sync" is what issues 5 and 11 measured: 2 x cores + 1 sync
# workers, each importing the app itself (no --preload) and closing the connection after every
# response. "production" is the deploy unit's gunicorn (gthread, --preload, keep-alive).
SERVERS = ("production", "sync")


def start_server(workers: int | None, kind: str = "sync") -> subprocess.Popen[bytes]:
    collect_static()
    log = RUN / "gunicorn.log"
    if kind == "production":
        argv = production_argv(PORT, workers)
        # The access log to a file as production's journal would take it; the error log apart;
        # a control socket of the run's own (gunicorn 23 opens one in $HOME by default).
        argv[argv.index("--access-logfile") + 1] = str(RUN / "access.log")
        argv[argv.index("--error-logfile") + 1] = str(log)
        argv += ["--backlog", "4096", "--capture-output", "--control-socket", str(RUN / "exam-day.ctl")]
    else:
        argv = [
            str(Path(PY).parent / "gunicorn"),
            "stormcert.wsgi",
            "-w",
            str(workers or (os.cpu_count() or 2) * 2 + 1),
            "-b",
            f"{HOST}:{PORT}",
            "--backlog",
            "4096",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "--error-logfile",
            str(log),
            "--capture-output",
        ]
    proc = subprocess.Popen(argv, cwd=ROOT, env=server_env())
    wait_until_up(proc, HOST, PORT, seconds=60)
    return proc


def request(
    method: str,
    path: str,
    me: dict[str, str],
    body: dict[str, object] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, dict[str, str], bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, PORT, timeout=120)
    headers = {
        "Cookie": f"sessionid={me['session']}; csrftoken={me['csrf']}",
        "X-CSRFToken": me["csrf"],
        "Referer": f"http://{HOST}:{PORT}/",
    }
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    if own:
        conn.close()
    return response.status, dict(response.getheaders()), payload


def synchronized_start(sessions: list[dict[str, str]], exam: str) -> dict[str, int]:
    barrier = threading.Barrier(len(sessions))

    def one(me: dict[str, str]) -> int:
        barrier.wait()
        status, _, _ = request("POST", start_path(exam), me)
        return status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        statuses = list(pool.map(one, sessions))
    return {
        "ok": statuses.count(302),
        "errors": len(statuses) - statuses.count(302),
        "seconds": round(time.perf_counter() - started, 1),
    }


def closed_loop(
    sessions: list[dict[str, str]], attempts: dict[str, int], kind: str, seconds: float, clients: int
) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def client(i: int) -> None:
        me = sessions[i % len(sessions)]
        conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
        seq = int(time.time() * 1000) + i
        while time.perf_counter() < stop:
            if kind == "ping":
                status, _, _ = request("GET", "/ping/", me, conn=conn)
            else:
                seq += 1
                status, _, _ = request(
                    "POST",
                    f"/exams/attempts/{attempts[me['user']]}/answer/",
                    me,
                    {
                        "position": random.randint(1, 35),
                        "choice": random.randrange(4),
                        "flagged": False,
                        "seq": seq,
                    },
                    conn=conn,
                )
            if status == 200:
                counts[i] += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=60)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return sum(counts) / seconds


def csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The people of the day and their pace (shared with bench/cluster.py)."""
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=70)
    parser.add_argument("--think-min", type=float, default=4.0)
    parser.add_argument("--think-max", type=float, default=8.0)
    # The rest of exam day, alongside the candidates.
    parser.add_argument("--visitors", type=int, default=60, help="public clients searching and verifying")
    parser.add_argument("--registrants", type=int, default=300, help="candidates registering for a course")
    parser.add_argument("--course-sessions", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=12, help="seats per course session")
    parser.add_argument("--payers", type=int, default=200, help="candidates paying the registration fee")
    parser.add_argument("--floor", type=int, default=2, help="clients sampling /ping/ twice a second each")
    parser.add_argument("--holders", type=int, default=20000, help="certificate holders in the directory")


def prepare_people(args: argparse.Namespace, env: dict[str, str]) -> list[dict[str, str]]:
    """bench/prepare.py in its own process (Django set up there, not here); the candidates' sessions."""
    subprocess.run(
        [
            PY,
            "bench/prepare.py",
            *("--candidates", str(args.candidates), "--registrants", str(args.registrants)),
            *("--payers", str(args.payers), "--floor", str(args.floor), "--holders", str(args.holders)),
            *("--course-sessions", str(args.course_sessions), "--capacity", str(args.capacity)),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    sessions: list[dict[str, str]] = json.loads((RUN / "sessions.json").read_text())
    return sessions


def load_seconds(args: argparse.Namespace) -> int:
    """Long enough for every candidate to answer every question at the given pace, and then some."""
    return int(args.questions * (args.think_min + args.think_max) / 2 * 1.3 + 60)


def mixed_load(
    args: argparse.Namespace,
    run_seconds: int,
    host: str,
    csv_name: str,
    env: dict[str, str],
    on_start: Callable[[int], None] | None = None,
) -> None:
    """The locust mix (bench/locustfile.py) against `host` for `run_seconds`; per-endpoint figures
    in RUN/<csv_name>_stats.csv, each client's outcomes in RUN/outcomes-*.json, every request with
    its time in RUN/requests-*.csv. `on_start` is given the load generator's pid."""
    env = {
        **env,
        "BENCH_EXAM": FINAL,
        "BENCH_PROGRAM": PROGRAM,
        "BENCH_QUESTIONS": str(args.questions),
        "BENCH_THINK_MIN": str(args.think_min),
        "BENCH_THINK_MAX": str(args.think_max),
        "BENCH_CANDIDATES": str(args.candidates),
        "BENCH_VISITORS": str(args.visitors),
        "BENCH_REGISTRANTS": str(args.registrants),
        "BENCH_PAYERS": str(args.payers),
        "BENCH_FLOOR": str(args.floor),
        "BENCH_SPREAD": str(run_seconds * 0.7),
    }
    users = args.candidates + args.visitors + args.registrants + args.payers + args.floor
    print(f"== mixed load: {users} clients for {run_seconds} s, faults on", flush=True)
    locust = subprocess.Popen(
        [
            str(Path(PY).parent / "locust"),
            "-f",
            "bench/locustfile.py",
            "--headless",
            "-u",
            str(users),
            "-r",
            str(max(users // 10, 1)),
            "-t",
            f"{run_seconds}s",
            "--host",
            host,
            "--csv",
            str(RUN / csv_name),
            "--only-summary",
            "--stop-timeout",
            "60",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    if on_start is not None:
        on_start(locust.pid)
    locust.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_load_arguments(parser)
    parser.add_argument("--server", choices=SERVERS, default="sync", help="the server in front (see SERVERS)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="worker processes (default: sync 2 x cores + 1, production its unit's)",
    )
    parser.add_argument("--throughput-seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds per line of the timeline")
    parser.add_argument(
        "--noise",
        type=int,
        default=0,
        help="processes spinning on the CPU through the mixed load: a machine shared with other work",
    )
    # Faults.
    parser.add_argument("--own-postgres", action="store_true", help="run on a throwaway cluster (port 5433)")
    parser.add_argument("--kill-every", type=float, default=60.0)
    parser.add_argument("--cut-at", type=float, default=None, help="seconds into the load (default: 1/4)")
    parser.add_argument("--cut-seconds", type=float, default=30.0)
    parser.add_argument("--cut-fraction", type=float, default=0.1)
    parser.add_argument(
        "--restart-db-at", type=float, default=None, help="seconds into the load (default: 1/2)"
    )
    args = parser.parse_args()
    RUN.mkdir(exist_ok=True)
    for old in [
        *RUN.glob("acks-*.json"),
        *RUN.glob("outcomes-*.json"),
        *RUN.glob("requests-*.csv"),
        RUN / "keys.json",
        RUN / "cpu.json",
    ]:
        old.unlink(missing_ok=True)
    database = OwnPostgres(RUN) if args.own_postgres else None
    if database is not None:
        database.start_fresh()
        os.environ["DATABASE_URL"] = database.url
    elif not os.environ.get("DATABASE_URL"):
        # A scratch file, never the development database the settings would fall back to.
        os.environ["DATABASE_URL"] = f"sqlite:///{RUN / 'bench.sqlite3'}"
    try:
        failed = run(args, database)
    finally:
        if database is not None:
            database.stop()
    sys.exit(1 if failed else 0)


def run(args: argparse.Namespace, database: OwnPostgres | None) -> bool:
    """One run; returns whether the checker found anything."""
    db = os.environ.get("DATABASE_URL", "sqlite (default)").split("@")[-1]
    print(
        f"== exam day: {args.candidates} candidates, {args.questions} questions, think {args.think_min:g}-"
        f"{args.think_max:g} s; {args.visitors} visitors, {args.registrants} registrants "
        f"({args.course_sessions} sessions x {args.capacity} seats), {args.payers} payers; database {db}; "
        f"server {args.server}{f' -w {args.workers}' if args.workers else ''}; {time.strftime('%Y-%m-%d %H:%M %Z')}",
        flush=True,
    )
    sessions = prepare_people(args, server_env())
    server = start_server(args.workers or None, args.server)
    run_seconds = load_seconds(args)
    faults = FaultDriver(
        master_pid=server.pid,
        run=RUN,
        kill_every=args.kill_every,
        cut_at=args.cut_at if args.cut_at is not None else run_seconds / 4,
        cut_seconds=args.cut_seconds,
        cut_fraction=args.cut_fraction,
        restart_db_at=(args.restart_db_at if args.restart_db_at is not None else run_seconds / 2)
        if database is not None
        else None,
        database=database,
    )
    noise: list[subprocess.Popen[bytes]] = []  # --noise: spinners standing for other work on the machine
    try:
        # Throughput first, on a few candidates' finals, which are then removed so every
        # candidate starts fresh in the synchronized start.
        for me in sessions[:50]:  # warm every worker (imports, connections) before measuring
            request("GET", "/ping/", me)
        ping = closed_loop(sessions, {}, "ping", args.throughput_seconds, 8)
        first = sessions[:8]
        for me in first:
            request("POST", start_path("final"), me)
        attempts = dict(_attempts(first, "final"))
        save = closed_loop(first, attempts, "save", args.throughput_seconds, 8)
        _reset_finals(first)

        sync = synchronized_start(sessions, FINAL)
        one_each = _one_attempt_each(sessions)
        _write_keys(sessions)

        # CPU of the app, the database and the load generator through the mixed load, for the
        # per-interval figures (bench/timeline.py): what a whole-run p95 hides.
        load_pid = [0]
        sampler = CpuSampler(
            app_pid=lambda: server.pid,
            db_pid=lambda: database.postmaster_pid() if database is not None else 0,
            load_pid=lambda: load_pid[0],
        )
        sampler.start()
        noise.extend(
            subprocess.Popen([PY, "-c", "while True: pass"], stdout=subprocess.DEVNULL)
            for _ in range(args.noise)
        )
        faults.start()
        mixed_load(
            args,
            run_seconds,
            f"http://{HOST}:{PORT}",
            "exam",
            server_env(),
            on_start=lambda pid: load_pid.__setitem__(0, pid),
        )
        faults.stop()
        _stop_all(noise)
        sampler.stop()
        (RUN / "cpu.json").write_text(json.dumps(sampler.samples))
    finally:
        _stop_all(noise)
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    print("\n== figures (one run)")
    print(
        f"synchronized start of {len(sessions)} finals: {sync['ok']} started, {sync['errors']} errors, "
        f"{sync['seconds']} s; candidates with exactly one attempt: {one_each}/{len(sessions)}"
    )
    print(
        f"throughput, closed loop, 8 clients: trivial signed-in view {ping:.0f} req/s; answer save {save:.0f} req/s; "
        f"ratio {save / ping:.2f}"
    )
    print_endpoints()
    print(
        f"faults: {faults.count('worker killed')} workers killed (every {args.kill_every:g} s); "
        f"{args.cut_fraction:.0%} of clients cut off for {args.cut_seconds:g} s "
        f"({faults.count('clients cut off')} time); database restarted {faults.count('database restarted')} time"
        + "".join(
            f" (+{e['at']:.0f} s, down {e['seconds']} s)"
            for e in faults.events
            if e["fault"] == "database restarted"
        )
    )
    explain_failures(faults)
    (RUN / "faults.json").write_text(json.dumps(faults.events))
    timeline.report(timeline.read_requests(RUN), sampler.samples, faults.events, args.interval)
    checked = subprocess.run([PY, "bench/check.py"], cwd=ROOT, env=server_env(), check=False)
    return checked.returncode != 0


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def print_endpoints(csv_name: str = "exam") -> None:
    """Per endpoint (URLs grouped by pattern): requests, p50/p95/p99, errors by kind."""
    rows = [r for r in csv_rows(RUN / f"{csv_name}_stats.csv") if r["Name"] != "Aggregated"]
    errors: dict[tuple[str, str], dict[str, int]] = {}
    for f in csv_rows(RUN / f"{csv_name}_failures.csv"):
        kinds = errors.setdefault((f["Method"], f["Name"]), {})
        error = re.sub(r"^CatchResponseError\('(.*)'\)$", r"\1", f["Error"])
        kinds[error] = kinds.get(error, 0) + int(f["Occurrences"])
    print(f"{'endpoint':<44} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  errors")
    for r in sorted(rows, key=lambda r: -int(r["Request Count"])):
        kinds = errors.get((r["Type"], r["Name"]), {})
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        print(
            f"{r['Type'] + ' ' + r['Name']:<44} {int(r['Request Count']):>8} {r['50%']:>7} {r['95%']:>7} "
            f"{r['99%']:>7}  {r['Failure Count']}{' (' + detail + ')' if detail else ''}"
        )
    total = next((r for r in csv_rows(RUN / f"{csv_name}_stats.csv") if r["Name"] == "Aggregated"), None)
    if total:
        print(
            f"{'all':<44} {int(total['Request Count']):>8} {total['50%']:>7} {total['95%']:>7} {total['99%']:>7}  "
            f"{total['Failure Count']} ({float(total['Failure Count']) / max(int(total['Request Count']), 1):.2%})"
        )


def explain_failures(faults: FaultDriver) -> None:
    """Each failed request, matched by time with the fault it met."""
    failures = [f for path in RUN.glob("outcomes-*.json") for f in json.loads(path.read_text())["failures"]]
    by_fault: dict[str, dict[str, int]] = {}
    for when, method, name, kind in failures:
        cause = by_fault.setdefault(faults.explain(when), {})
        key = f"{kind}: {method} {name}"
        cause[key] = cause.get(key, 0) + 1
    print(f"failed requests by the fault they met ({len(failures)} in all):")
    for cause in ("worker kill", "database restart", "no fault"):
        kinds = by_fault.get(cause, {})
        detail = "; ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:6])
        print(f"   {cause}: {sum(kinds.values())}{' (' + detail + ')' if detail else ''}")
    held: Counter[str] = Counter()
    for path in RUN.glob("outcomes-*.json"):
        held.update(json.loads(path.read_text())["held_back"])
    print(
        f"requests held back by cut-off clients (resent or retried once back): {sum(held.values())} {dict(held)}"
    )


def _write_keys(sessions: list[dict[str, str]]) -> None:
    """Which shown choice is right, per open final attempt: the skilled simulated candidates use
    it so that most pass and the completion hook issues certificates under load. (Only the load
    generator reads it; the answer key never reaches a browser.)"""
    code = (
        "import json; from stormcert.exams.models import AttemptQuestion;"
        f"ids=[{','.join(me['user'] for me in sessions)}]; keys={{}}\n"
        "for i in AttemptQuestion.objects.filter(attempt__user_id__in=ids, attempt__status='in_progress',"
        " attempt__exam__step_code='final').select_related('question').order_by('attempt_id', 'position'):\n"
        "    keys.setdefault(str(i.attempt_id), []).append(i.choice_order.index(i.question.correct))\n"
        f"json.dump(keys, open('{RUN / 'keys.json'}', 'w')); print(len(keys))"
    )
    _shell_number(code)


def _attempts(sessions: list[dict[str, str]], exam: str) -> list[tuple[str, int]]:
    return [
        (me["user"], attempt)
        for me in sessions
        for attempt in [_django("attempt_of", me["user"], exam)]
        if attempt
    ]


def _django(command: str, *args: str) -> int:
    code = {
        "attempt_of": "from stormcert.exams.models import Attempt;"
        "a=Attempt.objects.filter(user_id={0}, exam__step_code='{1}', status='in_progress').first();"
        "print(a.pk if a else 0)",
        "reset_finals": "from stormcert.exams.models import Attempt;"
        "print(getattr(Attempt, 'everything', Attempt.objects).filter(user_id__in=[{0}], exam__step_code='final').delete()[0])",
        "one_each": "from stormcert.exams.models import Attempt; from django.db.models import Count;"
        "ids=[{0}]; c=dict(Attempt.objects.filter(user_id__in=ids, exam__step_code='final')"
        ".values_list('user_id').annotate(n=Count('id')));"
        "print(sum(1 for i in ids if c.get(i)==1))",
    }[command].format(*args)
    return _shell_number(code)


def _shell_number(code: str) -> int:
    """Run Python in `manage.py shell` against the benchmark database; return the last number printed."""
    result = subprocess.run(
        [PY, "manage.py", "shell", "-v0", "-c", code],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    return int(lines[-1]) if lines else 0


def _reset_finals(sessions: list[dict[str, str]]) -> None:
    _django("reset_finals", ",".join(me["user"] for me in sessions))


def _one_attempt_each(sessions: list[dict[str, str]]) -> int:
    return _django("one_each", ",".join(me["user"] for me in sessions))


if __name__ == "__main__":
    main()
