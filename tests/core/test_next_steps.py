"""Issue 22: every page and email that closes a step names the one next step and links to it: a
paid order links to the training, finishing the training links to the midterm, passing the final
links to the certificate (PDF, credential, directory entry, how to share it), and every email ends
with a link."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.core.demo.exams import load_demo_exams
from stormcert.emails.models import OutboundEmail
from stormcert.payments.models import Order
from stormcert.programs.models import Program
from tests.enrollments.builders import done, enroll_and_register, finish_training, make_course
from tests.renewals.builders import holder_until

pytestmark = pytest.mark.usefixtures("programs")


def text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return " ".join(response.content.decode().split())


def test_a_paid_registration_links_to_the_training_on_the_order_receipt_and_email(
    alice: User, alice_client: Client
) -> None:
    program = Program.objects.get(code="QISP")
    course = make_course(program)
    enroll_and_register(alice, program, timezone.now())
    order = Order.objects.get(user=alice)
    training = reverse("training:course", args=[course.code])
    page = text(alice_client, reverse("payments:order", args=[order.number]))
    assert "Your registration is paid: Training is open." in page and f'href="{training}"' in page
    assert f'href="{training}"' in text(alice_client, reverse("payments:receipt", args=[order.number]))
    email = OutboundEmail.objects.get(template="payments/email/payment_confirmation")
    assert "Next: Your registration is paid: Training is open. Start Training: " in email.body_text
    assert email.body_text.split("Start Training: ")[1].split()[0].endswith(training)
    assert training in email.body_html


def test_finishing_the_training_says_the_midterm_is_open_and_links_to_it(
    alice: User, alice_client: Client
) -> None:
    load_demo_exams()
    program = Program.objects.get(code="QISP")
    course = make_course(program)
    enroll_and_register(alice, program, timezone.now())
    finish_training(alice, course, timezone.now() + timedelta(minutes=1))
    page = text(alice_client, reverse("training:course", args=[course.code]))
    intro = reverse("exams:intro", args=["QISP", "midterm"])
    assert "You finished the training. The midterm exam is open." in page
    assert f'<a class="next-link" href="{intro}">Go to the midterm exam</a>' in page


def test_the_result_page_of_a_passed_final_leads_to_the_certificate(
    alice: User, alice_client: Client
) -> None:
    from stormcert.exams.models import Attempt, AttemptStatus, Exam

    load_demo_exams()
    program = Program.objects.get(code="QISP")
    now = timezone.now()
    enrollment = enroll_and_register(alice, program, now)
    for code in ("training", "midterm", "course", "survey", "final"):
        done(enrollment, code, now)
    certificate = Certificate.objects.get(holder=alice)  # passing the final issued it
    final = Exam.objects.get(program=program, step_code="final")
    attempt = Attempt.objects.create(
        user=alice,
        exam=final,
        enrollment=enrollment,
        cycle=enrollment.cycle,
        number=1,
        deadline=now,
        status=AttemptStatus.SUBMITTED,
        started_at=now,
        submitted_at=now,
        question_count=70,
        correct_count=70,
        pass_percent=70,
        score_percent=100,
        passed=True,
        duration_minutes=240,
    )
    page = text(alice_client, reverse("exams:result", args=[attempt.pk]))
    assert f"Your certificate {certificate.number}" in page
    for url in (
        reverse("certificates:pdf", args=[certificate.number]),
        reverse("certificates:credential", args=[certificate.number]),
        reverse("directory:verify", args=[certificate.number]),
        reverse("certificates:mine"),
    ):
        assert f'href="{url}"' in page
    assert "To share it" in page


def test_the_certificates_page_says_how_to_share(alice: User, alice_client: Client) -> None:
    certificate = holder_until(alice, timezone.localdate() + timedelta(days=400))
    page = text(alice_client, reverse("certificates:mine"))
    assert "To share it" in page and f"/verify/{certificate.number}/</code>" in page
    assert f"{reverse('directory:search')}?q={certificate.number}" in page


EMAILS = sorted(Path(__file__).resolve().parents[2].glob("stormcert/**/email/*_message.txt"))
# Messages whose one next step is not a link: a sign-in code is typed where it was asked for, and
# the base template is only a frame.
NOT_A_LINK = {"login_code_message.txt", "base_message.txt"}


@pytest.mark.parametrize("path", EMAILS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_email_ends_with_a_link(path: Path) -> None:
    if path.name in NOT_A_LINK:
        pytest.skip("no link by design")
    body = path.read_text().split("— The")[0]
    last = [line for line in body.strip().splitlines() if line.strip()][-6:]
    assert any("url" in line and "{{" in line for line in last), f"{path}: no link near the end"
