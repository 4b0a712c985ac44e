"""Per-interval figures of a mixed load (issue 20, part 6): what a whole-run p95 hides.

Two sources, joined by wall-clock time:
- every request the load generator made (bench/locustfile.py writes bench/.run/requests-<pid>.csv:
  when it ended, its endpoint group, its response time, whether it failed);
- CPU samples every few seconds (`CpuSampler`, a thread in exam_day.py): user+system seconds of
  the app server's process tree, the PostgreSQL cluster's, the load generator's, and the whole
  machine's busy time, so "other" (everything else on the machine, another session's test suite)
  is busy minus ours. It also counts the app's live workers: one that was just forked after a kill
  is importing the app, not serving.

`report()` prints one line per interval: requests per second, p50/p95 of the answer saves, of the
public pages and of the floor (`/ping/`), each process group's share of the two cores, and the faults
and waves (start, submit) that fell in it. Run alone on the files of the last run:

    .venv/bin/python bench/timeline.py [--interval 30]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

RUN = Path(__file__).resolve().parent / ".run"

# Endpoint names (locust's `name=`) grouped as the report shows them.
GROUPS = {
    "save": ("/exams/attempts/[id]/answer/",),
    "exam": (
        "/exams/[step]/start/",
        "/exams/attempts/[id]/submit/",
        "/exams/attempts/[id]/result/",
        "/exams/attempts/[id]/",
    ),
    "public": ("/directory/", "/verify/", "/api/verify/"),
    "floor": ("/ping/",),
}


def group_of(name: str) -> str:
    for group, prefixes in GROUPS.items():
        if any(name.startswith(p) for p in prefixes):
            return group
    return "other"  # courses, orders, payments


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_cpu(pid: int) -> tuple[float, int]:
    """User+system seconds of a process tree (reaped children included) and its process count."""
    total, procs = 0.0, _tree(pid) if pid else []
    for proc in procs:
        try:
            t = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total, len(procs)


def machine_busy() -> float:
    t = psutil.cpu_times()
    return (
        t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)
    )


@dataclass
class CpuSampler:
    """Samples the CPU of the app, the database and the load generator every `every` seconds.
    Pids are read through callables: the load generator starts after the sampler, the database's
    postmaster changes when it is restarted."""

    app_pid: Any
    db_pid: Any
    load_pid: Any
    every: float = 5.0
    samples: list[dict[str, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    # A tree's counters restart when its root is replaced (a database restart): count from there.
    _last: dict[str, tuple[int, float]] = field(default_factory=dict)
    _carried: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def _counter(self, name: str, pid: int) -> tuple[float, int]:
        seconds, count = tree_cpu(pid)
        last_pid, last_seconds = self._last.get(name, (pid, 0.0))
        if last_pid != pid:  # a new root: what the old one had used stays counted
            self._carried[name] = self._carried.get(name, 0.0) + last_seconds
        self._last[name] = (pid, seconds)
        return self._carried.get(name, 0.0) + seconds, count

    def sample(self) -> None:
        app, workers = self._counter("app", self.app_pid() or 0)
        db, _ = self._counter("db", self.db_pid() or 0)
        load, _ = self._counter("load", self.load_pid() or 0)
        self.samples.append(
            {
                "t": time.time(),
                "app": app,
                "db": db,
                "load": load,
                "busy": machine_busy(),
                "workers": workers - 1,
            }
        )


def read_requests(run: Path = RUN) -> list[tuple[float, str, float, bool]]:
    rows: list[tuple[float, str, float, bool]] = []
    for path in run.glob("requests-*.csv"):
        with path.open(newline="") as handle:
            for t, name, ms, failed in csv.reader(handle):
                rows.append((float(t), name, float(ms), failed == "1"))
    rows.sort()
    return rows


def _pct(values: list[float], q: int) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.0f}"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.0f}"


def report(
    requests: list[tuple[float, str, float, bool]],
    samples: list[dict[str, float]],
    events: list[dict[str, Any]],
    interval: float = 30.0,
    cores: int | None = None,
) -> None:
    if not requests:
        print("timeline: no requests recorded")
        return
    cores = cores or psutil.cpu_count() or 2
    t0 = min(min(r[0] for r in requests), samples[0]["t"] if samples else float("inf"))
    buckets: dict[int, list[tuple[float, str, float, bool]]] = {}
    for row in requests:
        buckets.setdefault(int((row[0] - t0) // interval), []).append(row)
    print(
        f"\n== timeline, {interval:g} s intervals (latencies ms, client side; CPU as % of {cores} cores; "
        f"'other' = machine busy minus app, db and load generator)"
    )
    print(
        f"{'from s':>6} {'req/s':>6} {'saves':>6} {'save p50':>8} {'p95':>6} {'public p50':>10} {'p95':>6} "
        f"{'floor p50':>9} {'p95':>6} {'exam':>5} {'fail':>4} {'app%':>5} {'db%':>5} {'load%':>5} "
        f"{'other%':>6} {'idle%':>5} {'wk':>3}  events"
    )
    last = max(buckets)
    for b in range(last + 1):
        rows = buckets.get(b, [])
        start, end = t0 + b * interval, t0 + (b + 1) * interval
        by: dict[str, list[float]] = {}
        for _, name, ms, _failed in rows:
            by.setdefault(group_of(name), []).append(ms)
        cpu = _cpu_share(samples, start, end, cores)
        happened = [
            e["fault"] + (f" {e['seconds']}s" if "seconds" in e and "restart" in e["fault"] else "")
            for e in events
            if start <= e["t"] < end and e["fault"] != "clients back"
        ]
        exam = len(by.get("exam", []))
        print(
            f"{b * interval:>6.0f} {len(rows) / interval:>6.1f} {len(by.get('save', [])):>6} "
            f"{_pct(by.get('save', []), 50):>8} {_pct(by.get('save', []), 95):>6} "
            f"{_pct(by.get('public', []), 50):>10} {_pct(by.get('public', []), 95):>6} "
            f"{_pct(by.get('floor', []), 50):>9} {_pct(by.get('floor', []), 95):>6} {exam:>5} "
            f"{sum(1 for r in rows if r[3]):>4} "
            + (
                f"{cpu['app']:>5.0f} {cpu['db']:>5.0f} {cpu['load']:>5.0f} {cpu['other']:>6.0f} {cpu['idle']:>5.0f} "
                f"{cpu['workers']:>3.0f}"
                if cpu
                else f"{'':>34}"
            )
            + f"  {', '.join(_squash(happened))}"
        )
    other = shared_machine(samples, cores)
    if other is not None:
        print(
            f"other work on the machine over the run: {other:.0f} % of {cores} cores"
            + (
                " -- SHARED: queueing behind other work inflates every latency above; compare only "
                "with a run on an idle machine"
                if other > 10
                else " (an otherwise idle machine)"
            )
        )


def shared_machine(samples: list[dict[str, float]], cores: int | None = None) -> float | None:
    """The share of the machine (% of all cores) that work other than the app, the database and the
    load generator took over the whole run: above a few % the run's latencies are not its own."""
    if len(samples) < 2:
        return None
    cores = cores or psutil.cpu_count() or 2
    share = _cpu_share(samples, samples[0]["t"], samples[-1]["t"], cores)
    return share["other"] if share else None


def _squash(names: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return [f"{n} x{c}" if c > 1 else n for n, c in counts.items()]


def _cpu_share(
    samples: list[dict[str, float]], start: float, end: float, cores: int
) -> dict[str, float] | None:
    """Each group's CPU between the samples that bracket the interval, as % of the machine."""
    before = [s for s in samples if s["t"] <= start + 1]
    after = [s for s in samples if s["t"] >= end - 1]
    if not before or not after:
        return None
    a, b = before[-1], after[0]
    wall = (b["t"] - a["t"]) * cores
    if wall <= 0:
        return None
    share = {k: max(0.0, (b[k] - a[k]) / wall * 100) for k in ("app", "db", "load", "busy")}
    share["other"] = max(0.0, share["busy"] - share["app"] - share["db"] - share["load"])
    share["idle"] = max(0.0, 100 - share["busy"])
    share["workers"] = min(s["workers"] for s in samples if a["t"] <= s["t"] <= b["t"])
    return share


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--interval", type=float, default=30.0)
    args = parser.parse_args()
    samples = json.loads((RUN / "cpu.json").read_text()) if (RUN / "cpu.json").exists() else []
    events = json.loads((RUN / "faults.json").read_text()) if (RUN / "faults.json").exists() else []
    report(read_requests(), samples, events, args.interval)


if __name__ == "__main__":
    main()
