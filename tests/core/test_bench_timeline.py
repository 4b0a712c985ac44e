"""bench/timeline.py, the per-interval figures of the mixed load (issue 20, part 6): checked on
figures made up here, so that what it prints about a real run can be trusted. Also that the
benchmark's "production" server is the deploy unit's command."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench_module(name: str) -> ModuleType:
    key = f"bench_{name}"
    if key in sys.modules:
        return sys.modules[key]
    sys.path.insert(0, str(ROOT / "bench"))  # the scripts import their siblings
    try:
        spec = importlib.util.spec_from_file_location(key, ROOT / "bench" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_each_interval_has_its_own_percentiles_cpu_and_faults(capsys: pytest.CaptureFixture[str]) -> None:
    timeline = bench_module("timeline")
    t0 = 1_000.0
    # First 10 s: fast saves; next 10 s: slow ones while the app used both cores, and a worker died.
    requests = [(t0 + i * 0.1, "/exams/attempts/[id]/answer/", 10.0, False) for i in range(100)]
    requests += [(t0 + 10 + i * 0.1, "/exams/attempts/[id]/answer/", 900.0 + i, i == 5) for i in range(100)]
    requests += [(t0 + 12, "/directory/?q=[q]", 40.0, False), (t0 + 13, "/ping/ (floor)", 7.0, False)]
    samples = [
        {"t": t0, "app": 0.0, "db": 0.0, "load": 0.0, "busy": 0.0, "workers": 5},
        {"t": t0 + 10, "app": 2.0, "db": 1.0, "load": 1.0, "busy": 5.0, "workers": 5},
        {"t": t0 + 20, "app": 19.0, "db": 2.0, "load": 1.0, "busy": 25.0, "workers": 4},
    ]
    events = [{"t": t0 + 11, "fault": "worker killed"}]

    timeline.report(requests, samples, events, interval=10, cores=2)

    out = capsys.readouterr().out
    # Over the run: 25 busy core-seconds of 40, 22 of them ours: 7.5 % other, an idle machine.
    assert "other work on the machine over the run: 8 % of 2 cores (an otherwise idle machine)" in out
    lines = [line.split() for line in out.splitlines() if line[:6].strip().isdigit()]
    assert len(lines) == 2
    first, second = lines
    # from, req/s, saves, save p50, p95, public p50, p95, floor p50, p95, exam, fail, app%, db%, load%, other%, idle%, workers
    assert first[:5] == ["0", "10.0", "100", "10", "10"] and first[5] == "-" and first[10] == "0"
    assert first[11:17] == ["10", "5", "5", "5", "75", "5"] and len(first) == 17  # 2 of 20 core-s: 10 %
    assert second[:3] == ["10", "10.2", "100"] and float(second[3]) > 900 and second[10] == "1"
    assert second[5] == "40" and second[7] == "7"
    assert second[11:17] == ["85", "5", "0", "10", "0", "4"] and second[17:] == ["worker", "killed"]


def test_a_shared_machine_is_called_so() -> None:
    timeline = bench_module("timeline")
    samples = [
        {"t": 0.0, "app": 0.0, "db": 0.0, "load": 0.0, "busy": 0.0, "workers": 2},
        {"t": 10.0, "app": 4.0, "db": 1.0, "load": 1.0, "busy": 20.0, "workers": 2},
    ]
    assert timeline.shared_machine(samples, cores=2) == 70.0  # 14 of 20 core-seconds were not ours


def test_a_restarted_database_keeps_its_cpu_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    timeline = bench_module("timeline")
    sampler = timeline.CpuSampler(app_pid=lambda: 0, db_pid=lambda: 0, load_pid=lambda: 0)
    readings = iter([(4.0, 3), (6.0, 3), (0.5, 3)])  # the postmaster replaced before the third
    pids = iter([100, 100, 200])
    monkeypatch.setattr(timeline, "tree_cpu", lambda pid: next(readings))
    assert [sampler._counter("db", next(pids))[0] for _ in range(3)] == [4.0, 6.0, 6.5]


def test_the_production_server_is_the_deploy_units_command() -> None:
    exam_day = bench_module("exam_day")
    argv = exam_day.production_argv(8765)
    unit = (ROOT / "deploy" / "systemd" / "stormcert-app.service").read_text()
    assert argv[0].endswith("/gunicorn") and "--preload" in argv and "gthread" in argv
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8765"
    assert f"--workers {argv[argv.index('--workers') + 1]} " in unit
    assert exam_day.production_argv(8765, workers=3)[argv.index("--workers") + 1] == "3"
