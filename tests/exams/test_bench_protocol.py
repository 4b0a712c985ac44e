"""bench/protocol.py reads the save request off the exam page and exam.js, so that the benchmark
sends what the page sends even after the page changes: checked here against the real page."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.exams.models import Answer, Exam
from stormcert.exams.services import start_attempt
from tests.exams.conftest import ready_for_midterm

ROOT = Path(__file__).resolve().parents[2]
EXAM_JS = ROOT / "stormcert" / "exams" / "static" / "exams" / "exam.js"


def protocol() -> ModuleType:
    if "bench_protocol" in sys.modules:
        return sys.modules["bench_protocol"]
    sys.path.insert(0, str(ROOT / "bench"))  # protocol.py imports its sibling scripts
    try:
        spec = importlib.util.spec_from_file_location("bench_protocol", ROOT / "bench" / "protocol.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_protocol"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "bench"))


@pytest.mark.django_db
def test_the_benchmark_saves_an_answer_as_the_exam_page_does(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    bench = protocol()
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    page = bench.parse_exam_page(
        alice_client.get(reverse("exams:attempt", args=[attempt.pk])).content.decode()
    )
    assert page.positions == list(range(1, attempt.items.count() + 1))
    assert page.submit_url == reverse("exams:submit", args=[attempt.pk]) and page.csrf
    recipe = bench.save_recipe(EXAM_JS.read_text())
    assert recipe.notes == []
    url, headers = recipe.build(page)
    assert url == reverse("exams:save", args=[attempt.pk])
    assert headers["Content-Type"] == "application/json" and page.csrf in headers.values()
    response = alice_client.post(
        url,
        data=json.dumps({"position": 1, "choice": 0, "flagged": False, "seq": 7}),
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 200
    assert Answer.objects.get(attempt=attempt, item__position=1).seq == 7


def test_a_token_header_from_a_data_attribute_is_followed() -> None:
    bench = protocol()
    script = """
      var root = document.getElementById("exam");
      var saveUrl = root.dataset.saveUrl;
      var token = root.dataset.attemptToken;
      var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      fetch(saveUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Attempt-Token": token },
        body: JSON.stringify({ position: 1, choice: 0, flagged: false, seq: 1 })
      });
    """
    page = bench.parse_exam_page(
        '<div id="exam" data-save-url="/s/" data-attempt-token="abc.def"><form id="exam-form" '
        'action="/x/"><input type="hidden" name="csrfmiddlewaretoken" value="tok"></form>'
        '<a id="nav1"></a><a id="nav2"></a>'
    )
    url, headers = bench.save_recipe(script).build(page)
    assert url == "/s/" and page.positions == [1, 2]
    assert headers == {"Content-Type": "application/json", "X-CSRFToken": "tok", "X-Attempt-Token": "abc.def"}


def test_the_production_server_is_the_deploy_units_own(tmp_path: Path) -> None:
    """`--server production` runs the unit's ExecStart (recycling included), with this run's port
    and logs; `--max-requests` changes only that one figure, for an experiment."""
    module = protocol()
    unit = (ROOT / "deploy" / "systemd" / "stormcert-app.service").read_text()
    server = module.server_spec("production:2x4")
    args = module.argparse.Namespace(port=8123, max_requests=None, granian_path="")
    argv, _ = module.server_command(args, server, ROOT)
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert "--preload" in argv and argv[argv.index("--worker-class") + 1] == "gthread"
    assert f"--max-requests {argv[argv.index('--max-requests') + 1]}" in unit
    args.max_requests = 0
    argv, _ = module.server_command(args, server, ROOT)
    assert argv[argv.index("--max-requests") + 1] == "0"
    assert "--max-requests 0" in module.describe(server, args)
