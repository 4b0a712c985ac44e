"""Exam-day benchmark: figures printed as measured in one run (not a timed test).

1. Prepares N candidates ready for the final (bench/prepare.py).
2. Serves the app with gunicorn, production settings, persistent connections.
3. Synchronized start: N clients start the final at the same moment; each must get exactly one attempt.
4. Throughput: answer saves vs a trivial signed-in view (/ping/), same server, same run, closed loop.
5. Exam load (locust): N candidates answer every question with think time and submit, while a
   gunicorn worker is killed every 60 s.
6. Lost answers: what clients were told was saved, compared with the database.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/stormcert_bench .venv/bin/python bench/exam_day.py
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / ".run"
PY = sys.executable
HOST, PORT = "127.0.0.1", 8765
SECRET = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64)  # one key for the whole run


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
        }
    )
    return env


def collect_static() -> None:
    """Production settings hash static file names: the manifest must exist before any page renders."""
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=server_env(), check=True
    )


def start_server(workers: int) -> subprocess.Popen[bytes]:
    collect_static()
    proc = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "stormcert.wsgi",
            "-w",
            str(workers),
            "-b",
            f"{HOST}:{PORT}",
            "--backlog",
            "4096",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "--error-logfile",
            str(RUN / "gunicorn.log"),
            "--capture-output",
        ],
        cwd=ROOT,
        env=server_env(),
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection(HOST, PORT, timeout=1).request("GET", "/")
            return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


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
        status, _, _ = request("POST", f"/exams/{exam}/start/", me)
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


def kill_workers(master: int, every: float, stop: threading.Event, killed: list[int]) -> None:
    while not stop.wait(every):
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        if children:
            victim = int(random.choice(children))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)


def percentile_rows(stats_csv: Path) -> list[dict[str, str]]:
    with stats_csv.open() as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=70)
    parser.add_argument("--think-min", type=float, default=4.0)
    parser.add_argument("--think-max", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--kill-every", type=float, default=60.0)
    parser.add_argument("--throughput-seconds", type=float, default=15.0)
    args = parser.parse_args()
    RUN.mkdir(exist_ok=True)
    for old in RUN.glob("acks-*.json"):
        old.unlink()
    db = os.environ.get("DATABASE_URL", "sqlite (default)").split("@")[-1]
    print(f"== exam day: {args.candidates} candidates, {args.questions} questions, database {db}")
    subprocess.run(
        [PY, "bench/prepare.py", "--candidates", str(args.candidates)], cwd=ROOT, env=server_env(), check=True
    )
    sessions = json.loads((RUN / "sessions.json").read_text())
    server = start_server(args.workers)
    try:
        # Throughput first, on a few candidates' finals, which are then removed so every
        # candidate starts fresh in the synchronized start.
        for me in sessions[:50]:  # warm every worker (imports, connections) before measuring
            request("GET", "/ping/", me)
        ping = closed_loop(sessions, {}, "ping", args.throughput_seconds, 8)
        first = sessions[:8]
        for me in first:
            request("POST", "/exams/final/start/", me)
        attempts = dict(_attempts(first, "final"))
        save = closed_loop(first, attempts, "save", args.throughput_seconds, 8)
        _reset_finals(first)

        sync = synchronized_start(sessions, "final")
        one_each = _one_attempt_each(sessions)

        stop, killed = threading.Event(), []
        killer = threading.Thread(
            target=kill_workers, args=(server.pid, args.kill_every, stop, killed), daemon=True
        )
        killer.start()
        env = {
            **server_env(),
            "BENCH_QUESTIONS": str(args.questions),
            "BENCH_THINK_MIN": str(args.think_min),
            "BENCH_THINK_MAX": str(args.think_max),
        }
        run_seconds = int(args.questions * (args.think_min + args.think_max) / 2 * 1.3 + 60)
        subprocess.run(
            [
                str(Path(PY).parent / "locust"),
                "-f",
                "bench/locustfile.py",
                "--headless",
                "-u",
                str(args.candidates),
                "-r",
                str(max(args.candidates // 10, 1)),
                "-t",
                f"{run_seconds}s",
                "--host",
                f"http://{HOST}:{PORT}",
                "--csv",
                str(RUN / "exam"),
                "--only-summary",
                "--stop-timeout",
                "30",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        stop.set()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    lost, acked, unsaved = _lost_answers()
    rows = {r["Name"]: r for r in percentile_rows(RUN / "exam_stats.csv")}
    print("\n== figures (one run)")
    print(
        f"synchronized start of {len(sessions)} finals: {sync['ok']} started, {sync['errors']} errors, "
        f"{sync['seconds']} s; candidates with exactly one attempt: {one_each}/{len(sessions)}"
    )
    print(
        f"throughput, closed loop, 8 clients: trivial signed-in view {ping:.0f} req/s; answer save {save:.0f} req/s; "
        f"ratio {save / ping:.2f}"
    )
    for name in ("start", "save", "submit"):
        row = rows.get(name)
        if row:
            print(
                f"{name:>6}: {row['Request Count']} requests, {row['Failure Count']} failures, "
                f"p50 {row['50%']} ms, p95 {row['95%']} ms, p99 {row['99%']} ms"
            )
    print(f"workers killed during the run: {len(killed)}")
    print(
        f"answers acknowledged: {acked}; lost (acknowledged but not in the database): {lost}; "
        f"given up by clients after retries: {unsaved}"
    )


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
        "print(Attempt.objects.filter(user_id__in=[{0}], exam__step_code='final').delete()[0])",
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


def _lost_answers() -> tuple[int, int, int]:
    acks: dict[tuple[int, int], tuple[int, int]] = {}
    unsaved = 0
    count = 0
    for path in RUN.glob("acks-*.json"):
        data = json.loads(path.read_text())
        unsaved += len(data["unsaved"])
        for attempt, position, seq, choice in data["acks"]:
            count += 1
            if seq > acks.get((attempt, position), (0, 0))[0]:
                acks[(attempt, position)] = (seq, choice)
    (RUN / "acks-latest.json").write_text(json.dumps([[a, p, s, c] for (a, p), (s, c) in acks.items()]))
    code = (
        "import json; from stormcert.exams.models import Answer;"
        f"acks=json.load(open('{RUN / 'acks-latest.json'}'));"
        "rows={(a.attempt_id, a.position): a for a in Answer.objects.filter("
        "attempt_id__in={x[0] for x in acks})};"
        "lost=0\n"
        "for at, pos, seq, choice in acks:\n"
        "    a=rows.get((at, pos))\n"
        "    if a is None or a.seq < seq or (a.seq == seq and a.choice != choice): lost+=1\n"
        "print(lost)"
    )
    return _shell_number(code), count, unsaved


if __name__ == "__main__":
    main()
