"""The checker: what the load's clients were told, compared with the database, after the run.

Reads bench/.run/outcomes-*.json (written by locustfile.py) and prints four figures that must be 0,
each with the disagreements between clients and database that count toward it:

- lost saved answers: an answer a client was told was saved (200) that the database does not hold
  at that sequence number or later;
- double payments: an order with confirmed payments over its total, or two confirmed payments
  not refunded; a client told "paid" whose order is not paid exactly once; a client told
  "declined, nothing was charged" whose payment was charged (in any tab); a registration
  fulfilled twice;
- oversold seats: a session with more registered seats (and open offers) than capacity; a person
  with two live seats in one program; a client told "registered" without a registered seat in that
  session, told "waitlisted" without a live one, told "cancelled" still holding one;
- duplicate certificates: two certificates for one completion (enrollment, cycle); a person with two
  current certificates in one program; a client told "passed" without exactly one certificate,
  a passed attempt without one, a client told "not passed" whose attempt passed.

Exit status 1 if any figure is not 0. Run with the DATABASE_URL of the run (exam_day.py does).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / ".run"
# BENCH_APP_DIR: the checkout of the app that served the run (bench/protocol.py --app-dir).
sys.path.insert(0, os.environ.get("BENCH_APP_DIR") or str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")

import django

django.setup()

from django.db.models import Count, Q, Sum
from django.utils import timezone

from stormcert.certificates.models import Certificate
from stormcert.courses.models import LIVE_STATUSES, CourseSession, Seat, SeatStatus
from stormcert.enrollments.models import StepRecord
from stormcert.exams.models import Answer, Attempt
from stormcert.payments.models import Order, OrderStatus, PaymentState


def load_outcomes() -> dict[str, list]:
    merged: dict[str, list] = {"acks": [], "unsaved": [], "exams": [], "seats": [], "payments": []}
    for path in RUN.glob("outcomes-*.json"):
        data = json.loads(path.read_text())
        for key in merged:
            merged[key].extend(data.get(key, []))
    return merged


def lost_answers(acks: list[list[int]]) -> tuple[int, int]:
    """(lost, acknowledged): the newest acknowledged save per question must be in the database."""
    newest: dict[tuple[int, int], tuple[int, int]] = {}
    for attempt, position, seq, choice in acks:
        if seq > newest.get((attempt, position), (0, 0))[0]:
            newest[(attempt, position)] = (seq, choice)
    rows = {
        (a.attempt_id, a.position): a
        for a in Answer.objects.filter(attempt_id__in={k[0] for k in newest}).only(
            "attempt_id", "position", "seq", "choice"
        )
    }
    lost = 0
    for key, (seq, choice) in newest.items():
        row = rows.get(key)
        if row is None or row.seq < seq or (row.seq == seq and row.choice != choice):
            lost += 1
    return lost, len(acks)


def double_payments(records: list[dict]) -> tuple[int, list[str]]:
    problems: list[str] = []
    orders = Order.objects.annotate(
        confirmed=Sum("payments__amount", filter=Q(payments__state=PaymentState.CONFIRMED)),
        confirmed_count=Count("payments", filter=Q(payments__state=PaymentState.CONFIRMED)),
        refund_count=Count("refunds"),
    )
    for order in orders:
        if (order.confirmed or Decimal(0)) > order.total:  # type: ignore[attr-defined]
            problems.append(f"order {order.number}: confirmed {order.confirmed} > total {order.total}")  # type: ignore[attr-defined]
        elif order.confirmed_count > 1 and not order.refund_count:  # type: ignore[attr-defined]
            problems.append(f"order {order.number}: {order.confirmed_count} confirmed payments")  # type: ignore[attr-defined]
    by_number = {
        o.number: o for o in Order.objects.filter(number__in=[r["order"] for r in records if r["order"]])
    }
    for r in records:
        order = by_number.get(r["order"])
        if r["paid_told"]:
            confirmed = order.payments.filter(state=PaymentState.CONFIRMED).count() if order else 0
            if order is None or order.status != OrderStatus.PAID or confirmed != 1:
                problems.append(
                    f"user {r['user']} told paid; order {r['order']} has {confirmed} confirmed payments"
                )
        if order is None:
            continue
        for payment, _outcome, told in r["told"]:
            # "Declined. Nothing was charged" must be true, whatever another tab was told.
            if (
                told == "declined"
                and order.payments.filter(pk=payment, state=PaymentState.CONFIRMED).exists()
            ):
                problems.append(
                    f"user {r['user']} told payment {payment} was declined (nothing charged); it is confirmed"
                )
    twice = (
        StepRecord.objects.filter(step_code="registration", outcome="done", voided_at__isnull=True)
        .values("enrollment_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [
        f"enrollment {row['enrollment_id']}: registration fulfilled {row['n']} times" for row in twice
    ]
    return len(problems), problems


def oversold_seats(records: list[dict]) -> tuple[int, list[str]]:
    problems: list[str] = []
    now = timezone.now()
    for session in CourseSession.objects.all():
        registered = session.seats.filter(status=SeatStatus.REGISTERED).count()
        held = session.held_seats(now)
        if held > session.capacity:
            problems.append(
                f"session {session.pk}: {registered} registered + {held - registered} open offers > {session.capacity} seats"
            )
    two = (
        Seat.objects.filter(status__in=LIVE_STATUSES)
        .values("user_id", "program_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [f"user {row['user_id']}: {row['n']} live seats in one program" for row in two]
    seats = {
        (s.user_id, s.session_id): s for s in Seat.objects.filter(user_id__in=[r["user"] for r in records])
    }
    for r in records:
        seat = seats.get((r["user"], r["session"]))
        status = seat.status if seat else None
        told = r["told"]
        if told == "registered" and status != SeatStatus.REGISTERED:
            problems.append(f"user {r['user']} told registered on session {r['session']}; seat is {status}")
        elif told in ("waitlisted", "offered") and status not in LIVE_STATUSES:
            problems.append(f"user {r['user']} told {told} on session {r['session']}; seat is {status}")
        elif told == "cancelled" and status in LIVE_STATUSES:
            problems.append(f"user {r['user']} told cancelled on session {r['session']}; seat is {status}")
    return len(problems), problems


def duplicate_certificates(records: list[dict]) -> tuple[int, list[str]]:
    problems: list[str] = []
    per_completion = (
        Certificate.objects.filter(enrollment__isnull=False)
        .values("enrollment_id", "cycle")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [
        f"enrollment {r['enrollment_id']} cycle {r['cycle']}: {r['n']} certificates" for r in per_completion
    ]
    current = (
        Certificate.objects.filter(superseded_at__isnull=True, revoked_at__isnull=True)
        .values("holder_id", "program_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [f"user {r['holder_id']}: {r['n']} current certificates in one program" for r in current]
    attempts = {
        a.pk: a for a in Attempt.objects.filter(pk__in=[r["attempt"] for r in records if r["attempt"]])
    }
    certificates = Counter(
        Certificate.objects.filter(holder_id__in=[r["user"] for r in records]).values_list(
            "holder_id", flat=True
        )
    )
    for r in records:
        attempt = attempts.get(r["attempt"])
        if r["told"] == "passed" and certificates[r["user"]] != 1:
            problems.append(f"user {r['user']} told passed; holds {certificates[r['user']]} certificates")
        if r["told"] == "not passed" and attempt is not None and attempt.passed:
            problems.append(f"user {r['user']} told not passed; attempt {attempt.pk} passed")
    passed = Attempt.objects.filter(passed=True, exam__step_code="final").values_list(
        "user_id", "enrollment_id"
    )
    with_certificate = set(
        Certificate.objects.filter(enrollment__isnull=False).values_list("enrollment_id", flat=True)
    )
    problems += [
        f"user {u}: passed the final, no certificate" for u, e in passed if e not in with_certificate
    ]
    return len(problems), problems


def main() -> None:
    outcomes = load_outcomes()
    lost, acked = lost_answers(outcomes["acks"])
    exams = Counter(r["told"] for r in outcomes["exams"])
    seats = Counter(r["told"].split(":")[0] for r in outcomes["seats"])
    paid = sum(1 for r in outcomes["payments"] if r["paid_told"])
    told = Counter(t for r in outcomes["payments"] for _p, _o, t in r["told"])
    doubles, double_list = double_payments(outcomes["payments"])
    oversold, oversold_list = oversold_seats(outcomes["seats"])
    duplicates, duplicate_list = duplicate_certificates(outcomes["exams"])
    issued = Certificate.objects.filter(holder__email__startswith="bench-", enrollment__isnull=False).count()
    print("\n== checker (what clients were told vs the database)")
    print(
        f"exam: {acked} answers acknowledged, {len(outcomes['unsaved'])} given up by clients after retries; "
        f"results told: {dict(exams)}; certificates issued under load: {issued}"
    )
    print(f"courses: last thing each registrant was told: {dict(seats)}")
    print(f"payments: {len(outcomes['payments'])} payers, {paid} told paid; answers: {dict(told)}")
    figures = {
        "lost saved answers": (lost, []),
        "double payments": (doubles, double_list),
        "oversold seats": (oversold, oversold_list),
        "duplicate certificates": (duplicates, duplicate_list),
    }
    for name, (count, problems) in figures.items():
        print(f"{name}: {count}")
        for problem in problems[:10]:
            print(f"   {problem}")
    (RUN / "check.json").write_text(json.dumps({name: count for name, (count, _) in figures.items()}))
    sys.exit(1 if any(count for count, _ in figures.values()) else 0)


if __name__ == "__main__":
    main()
