"""Faults for the exam-day load run, and the throwaway PostgreSQL cluster they are done to.

- `OwnPostgres`: a PostgreSQL cluster of the run's own (initdb into bench/.run/pg, port 5433),
  so restarting "the database" never touches the machine's shared server on 5432 that other
  engineers' test suites use. Durability settings are PostgreSQL's defaults (fsync on): the
  figures are for a database that would survive a power cut.
- `FaultDriver`: during the locust run, SIGKILL one gunicorn worker every `kill_every` seconds;
  at `cut_at` cut a tenth of the clients off for `cut_seconds` (the clients read the cut from
  a file, see locustfile.py, and hold their requests back as a browser without a network
  would); at `restart_db_at` restart the database once (`pg_ctl restart -m fast`: connections
  are dropped, in-flight transactions roll back). Every fault is logged with its time.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
CUT_FILE_NAME = "cut.json"


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class OwnPostgres:
    def __init__(self, run: Path, port: int = 5433) -> None:
        self.home = run.resolve() / "pg"
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.port = port

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/stormcert_load"

    def _ctl(self, *args: str, check: bool = True) -> None:
        # The server's output goes to its log file (-l): capturing it here would leave the
        # postmaster holding our pipe, and this call waiting for it forever.
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args]),
            stdout=subprocess.DEVNULL,
            check=check,
        )

    def start_fresh(self) -> None:
        """A new cluster every run: nothing left over from an earlier run skews the figures."""
        self.stop()
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
            ),
            capture_output=True,
            check=True,
        )
        # Written into the cluster's own configuration (not passed with -o), so a start by hand
        # can never reach for the shared server's port. The socket lives in the cluster's own
        # directory, not /var/run/postgresql. max_connections covers gunicorn's workers, the
        # benchmark's helpers and the connections a killed worker leaves behind for a while.
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\n# stormcert bench (bench/faults.py)\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.home}'\nmax_connections = 200\n"
            )
        self.start()
        subprocess.run(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "stormcert_load",
            ],
            check=True,
        )

    def start(self) -> None:
        self._ctl("-w", "-t", "60", "start")

    def restart(self) -> float:
        """Restart with fast shutdown (what an operator or a failover does); returns the seconds taken."""
        started = time.perf_counter()
        self._ctl("-w", "-t", "60", "-m", "fast", "restart")
        return time.perf_counter() - started

    def postmaster_pid(self) -> int:
        """The running postmaster's pid (0 when it is down): its tree is the cluster's CPU."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-w", "-m", "fast", "stop", check=False)


@dataclass
class FaultDriver:
    master_pid: int
    run: Path
    kill_every: float
    cut_at: float
    cut_seconds: float
    cut_fraction: float
    restart_db_at: float | None
    database: OwnPostgres | None
    events: list[dict[str, object]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def cut_file(self) -> Path:
        return self.run / CUT_FILE_NAME

    def start(self) -> None:
        self.cut_file.unlink(missing_ok=True)
        self.t0 = time.time()
        for target in self.targets():
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def targets(self) -> list[Callable[[], None]]:
        """The faults, each run in a thread of its own from start() (bench/cluster.py has others)."""
        return [self._kill_workers, self._cut_clients, self._restart_database]

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)
        self.cut_file.unlink(missing_ok=True)

    def _log(self, kind: str, **data: object) -> None:
        self.events.append({"t": time.time(), "at": round(time.time() - self.t0, 1), "fault": kind, **data})
        print(f"   [fault +{time.time() - self.t0:5.0f}s] {kind} {data or ''}", flush=True)

    def _kill_workers(self) -> None:
        while not self._stop.wait(self.kill_every):
            children = subprocess.run(
                ["pgrep", "-P", str(self.master_pid)], capture_output=True, text=True
            ).stdout.split()
            if children:
                victim = int(random.choice(children))
                try:
                    os.kill(victim, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self._log("worker killed", pid=victim)

    def _cut_clients(self) -> None:
        if self._stop.wait(self.cut_at):
            return
        # Which clients: those whose index falls in a random tenth (see locustfile.is_cut).
        buckets = max(1, round(1 / self.cut_fraction))
        residue = random.randrange(buckets)
        until = time.time() + self.cut_seconds
        self.cut_file.write_text(json.dumps({"buckets": buckets, "residue": residue, "until": until}))
        self._log("clients cut off", fraction=f"1/{buckets}", seconds=self.cut_seconds)
        if self._stop.wait(self.cut_seconds):
            return
        self.cut_file.unlink(missing_ok=True)
        self._log("clients back")

    def _restart_database(self) -> None:
        if self.restart_db_at is None or self.database is None or self._stop.wait(self.restart_db_at):
            return
        self._log("database restart begins")
        seconds = self.database.restart()
        self._log("database restarted", seconds=round(seconds, 1))

    def explain(self, when: float) -> str:
        """Which fault a failed request at `when` met: the database restart (from its start to a
        few seconds after), a worker kill (the requests it held, and the next second or two),
        the cut (a cut-off client sends nothing, so it causes no server error), or none."""
        restart = [e["t"] for e in self.events if e["fault"].startswith("database restart")]
        if len(restart) == 2 and restart[0] - 1 <= when <= restart[1] + 5:  # type: ignore[operator]
            return "database restart"
        for e in self.events:
            if e["fault"] == "worker killed" and e["t"] - 1 <= when <= e["t"] + 3:  # type: ignore[operator]
                return "worker kill"
        return "no fault"

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e["fault"] == kind)
