from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.courses.models import CourseSession, SurveyQuestion
from stormcert.programs.models import Program
from stormcert.programs.rules import rules_in_force

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
UNSET = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")


def test_home_lists_each_public_qualification_program(client: Client, programs: None) -> None:
    page = client.get(reverse("home")).content.decode()
    qisp = Program.objects.get(code="QISP")
    assert qisp.name in page and reverse("program", args=["QISP"]) in page
    # The trainer program that teaches it is named beside it.
    teacher = Program.objects.get(code="IGP-TOR")
    if teacher.teaches.filter(pk=qisp.pk).exists():
        assert reverse("program", args=["IGP-TOR"]) in page
    assert reverse("account_signup") in page


def test_the_program_page_shows_steps_fees_rules_and_sources(client: Client, programs: None) -> None:
    page = client.get(reverse("program", args=["QISP"])).content.decode()
    assert "The 9 steps to your certificate" in page
    assert "35 questions · one sitting of at most 2 hours · pass at 70% · 2 attempts" in page
    assert "$505.00" in page and "$240.00" in page
    assert "Fail the midterm exam on every attempt: pay $70.00 (QISP re-registration)" in page
    assert "Where these figures come from" in page
    version = rules_in_force(Program.objects.get(code="QISP")).version
    assert (
        f"“{version.name}”, in force since {version.effective_from:%B} {version.effective_from.day}" in page
    )
    assert reverse("account_signup") in page


def test_the_program_page_shows_where_the_figures_come_from(client: Client, programs: None) -> None:
    Program.objects.filter(code="QISP").update(figures_source="Fees set by the board on 2019-05-28.")
    page = client.get(reverse("program", args=["QISP"])).content.decode()
    assert "Fees set by the board on 2019-05-28." in page


def test_an_unknown_or_hidden_program_page_is_not_found(client: Client, programs: None) -> None:
    assert client.get(reverse("program", args=["NOPE"])).status_code == 404
    Program.objects.filter(code="QISP").update(is_public=False)
    assert client.get(reverse("program", args=["QISP"])).status_code == 404


def test_home_without_programs_says_what_to_do(client: Client) -> None:
    assert "manage.py load_programs" in client.get(reverse("home")).content.decode()


def test_dashboard_offers_the_programs_to_start_then_shows_the_path(
    alice_client: Client, programs: None
) -> None:
    page = alice_client.get(reverse("dashboard")).content.decode()
    qisp = Program.objects.get(code="QISP")
    assert "Programs you may start" in page and qisp.name in page and "verified" in page
    assert "Read the IGP and the SMARTS guides" not in page
    alice_client.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "Programs you may start" not in page
    assert "Step 3 of 9: Self-assessment questionnaire" in page
    assert reverse("enrollments:qualification", args=["QISP"]) in page


def test_demo_data_is_idempotent() -> None:
    call_command("demo_data", verbosity=0)
    first = sorted(User.objects.values_list("email", flat=True))
    call_command("demo_data", verbosity=0)
    emails = sorted(User.objects.values_list("email", flat=True))
    assert emails == first
    # The demo logins; the directory's sample holders and the reports' past candidates
    # (stormcert/core/demo/history.py) live under their own domains, and imported earlier-system
    # records are held by placeholders under @legacy.invalid.
    demo_domains = ("@holders.example.org", "@history.example.org", "@legacy.invalid")
    assert [e for e in emails if not e.endswith(demo_domains)] == [
        "alice@example.com",
        "carol@example.com",
        "dana@example.com",
        "hank@example.com",
        "lee@example.com",
        "quinn@example.com",
        "rita@example.com",
        "sara@example.com",
        "tom@example.com",
    ]
    # The demo certificate holders for the directory, each once (and Tom's four certificates, QISP,
    # IGP ToR, QSD and CGP ToR; Quinn's one; Hank's QSD).
    from stormcert.certificates.models import Certificate

    assert User.objects.filter(email__endswith="@holders.example.org").count() == 7
    history = Certificate.objects.filter(holder__email__endswith="@history.example.org")
    legacy = Certificate.objects.filter(holder__placeholder=True)
    assert Certificate.objects.count() - history.count() - legacy.count() == 13
    # The reports' history, once: 14 candidates, a second ToR, 6 QISPs expiring soon; 10 of the
    # candidates completed and got a certificate; the second ToR holds a QISP (standing to teach).
    assert User.objects.filter(email__endswith="@history.example.org").count() == 21
    assert history.count() == 17
    # The sample earlier-system file, once: nine certificates for nine addresses on file.
    assert legacy.count() == 9 and User.objects.filter(placeholder=True).count() == 9
    sara = User.objects.get(email="sara@example.com")
    assert sara.is_staff and sara.has_role("reviewer")
    # Carol is past the midterm, once; Tom is a ToR with four sessions, once.
    carol = User.objects.get(email="carol@example.com")
    assert carol.enrollments.get().records.filter(step_code="midterm").count() == 1
    sessions = CourseSession.objects.filter(trainer__email="tom@example.com").exclude(notes="Demo history.")
    assert sessions.filter(program__code="QISP").count() == 4
    # The sister program, once: Rita has reached the QSD exam, Hank is a QSD with his certificate
    # from the usual completion hook, Tom teaches one QSD session as a CGP ToR.
    from stormcert.enrollments.services import journey_for

    rita = User.objects.get(email="rita@example.com").enrollments.get(program__code="QSD")
    assert rita.is_registered() and journey_for(rita).current.code == "qsd_exam"  # type: ignore[union-attr]
    hank = Certificate.objects.get(holder__email="hank@example.com")
    assert hank.program.code == "QSD" and hank.number.startswith("QSD-")
    assert sessions.filter(program__code="QSD").count() == 1
    assert Certificate.objects.filter(holder__email="tom@example.com", program__code="CGP-TOR").count() == 1
    assert SurveyQuestion.objects.filter(program__code="QISP").count() == 5
    assert SurveyQuestion.objects.filter(program__code="QSD").count() == 4


def _settings_import(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in UNSET}
    return subprocess.run(
        [sys.executable, "-c", "import stormcert.settings"],
        cwd="/",
        env={**clean, "PYTHONPATH": str(ROOT), "DOTENV_FILE": "", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_refuse_a_missing_secret_key_in_production() -> None:
    result = _settings_import(DEBUG="0")
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_settings_refuse_a_malformed_boolean() -> None:
    result = _settings_import(DEBUG="maybe", SECRET_KEY="x" * 60)
    assert result.returncode != 0 and "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_settings_pass_the_deploy_check() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in UNSET}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            **clean,
            "DEBUG": "0",
            "SECRET_KEY": "s" * 20 + "k3y-" + "z" * 40,
            "ALLOWED_HOSTS": "qisp.example.org",
            "DOTENV_FILE": "",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
