"""Hypothesis state machines over the real services: exam attempts, orders, enrollments.

Each machine makes random sequences of the operations people (and retries, replays and the clock)
really perform, and checks the invariants after every step. machines.py holds the savepoint
plumbing and the CI-sized settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, multiple, rule, run_state_machine_as_test

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import journey_for
from stormcert.exams.models import Answer, Attempt, AttemptStatus, Exam
from stormcert.exams.services import (
    AttemptClosed,
    ExamError,
    close_overdue,
    exam_values,
    save_answer,
    start_attempt,
    submit_attempt,
)
from stormcert.lib.money import money
from stormcert.payments.models import Order, OrderStatus, Payment, PaymentState, RefundState
from stormcert.payments.services import (
    PaymentError,
    cancel_order,
    confirm_payment,
    fail_payment,
    record_manual_payment,
    refund_payment,
    start_payment,
)
from stormcert.training.models import Course
from tests.enrollments.builders import finish_training, resolve
from tests.exams.conftest import T0, ready_for_midterm
from tests.payments.conftest import make_order
from tests.security.machines import MACHINE_SETTINGS, SavepointMachine

pytestmark = pytest.mark.django_db

# --- Exam attempts ----------------------------------------------------------------------------------


def graded_snapshot(attempt: Attempt) -> tuple[Any, ...]:
    return (
        attempt.status,
        attempt.correct_count,
        attempt.score_percent,
        attempt.passed,
        attempt.submitted_at,
    )


class AttemptMachine(SavepointMachine):
    """alice sits the midterm: starts, resumes, saves (fresh, stale, replayed, late), submits,
    lets time run out, `tick` closes overdue attempts, and she re-registers after failing out."""

    user: User
    exam: Exam
    enrollment: Enrollment

    def __init__(self) -> None:
        super().__init__()
        self.now = T0 + timedelta(days=1)
        # (attempt, position) -> the highest seq the server accepted: what the row must hold.
        self.seq: dict[tuple[int, int], int] = {}
        self.graded: dict[int, tuple[Any, ...]] = {}
        self.deadlines: dict[int, datetime] = {}

    def _open(self) -> Attempt | None:
        return Attempt.objects.filter(
            user=self.user, exam=self.exam, status=AttemptStatus.IN_PROGRESS
        ).first()

    def _latest(self) -> Attempt | None:
        return Attempt.objects.filter(user=self.user, exam=self.exam).order_by("-pk").first()

    @rule(minutes=st.sampled_from([0, 1, 30, 119, 121, 200, 60 * 24]))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(seconds=st.integers(-3, 3))
    def time_reaches_the_grace_edge(self, seconds: int) -> None:
        """Jump to a few seconds around deadline + grace of the open attempt (never backwards)."""
        attempt = self._open()
        if attempt is None:
            return
        edge = attempt.deadline + timedelta(seconds=self.exam.grace_seconds + seconds)
        self.now = max(self.now, edge)

    @rule()
    def start_or_resume(self) -> None:
        before = self._open()
        try:
            attempt = start_attempt(user=self.user, exam=self.exam, now=self.now)
        except ExamError:
            assert before is None or before.is_overdue(self.now)
            return
        if before is not None and not before.is_overdue(self.now):
            # Resuming returns the same attempt, never with more time.
            assert attempt.pk == before.pk and attempt.deadline == before.deadline
        self.deadlines.setdefault(attempt.pk, attempt.deadline)
        assert attempt.deadline == self.deadlines[attempt.pk]

    @rule(
        position=st.integers(1, 36),
        choice=st.one_of(st.none(), st.integers(-1, 4)),
        seq=st.integers(0, 12),
        which=st.sampled_from(["open", "latest"]),
    )
    def save(self, position: int, choice: int | None, seq: int, which: str) -> None:
        attempt = self._open() if which == "open" else self._latest()
        if attempt is None:
            return
        stored = self.seq.get((attempt.pk, position), 0)
        try:
            result = save_answer(
                attempt_id=attempt.pk,
                position=position,
                choice=choice,
                flagged=False,
                seq=seq,
                user_id=self.user.pk,
                now=self.now,
            )
        except AttemptClosed:
            assert not attempt.accepts_saves(self.now)
            return
        except ExamError:
            # No such question or choice: refused without changing anything.
            return
        # Accepted exactly when it is newer than what is stored and the attempt is still open.
        assert attempt.accepts_saves(self.now)
        assert result.accepted == (seq > stored), (seq, stored, result)
        if result.accepted:
            self.seq[(attempt.pk, position)] = seq
        else:
            assert result.seq == stored

    @initialize()
    def first_start(self) -> None:
        # Every example sits at least one attempt: an example that never starts tests nothing.
        self.start_or_resume()

    @rule(count=st.sampled_from([1, 24, 25, 35]))
    def answer_correctly(self, count: int) -> None:
        """Save the right choice for the first `count` questions: 25 of 35 passes, 24 does not."""
        attempt = self._open()
        if attempt is None or not attempt.accepts_saves(self.now):
            return
        for item in attempt.items.select_related("question").order_by("position")[:count]:
            seq = self.seq.get((attempt.pk, item.position), 0) + 1
            result = save_answer(
                attempt_id=attempt.pk,
                position=item.position,
                choice=item.choice_order.index(item.question.correct),
                flagged=False,
                seq=seq,
                now=self.now,
            )
            assert result.accepted
            self.seq[(attempt.pk, item.position)] = seq

    @rule(which=st.sampled_from(["open", "latest"]))
    def submit(self, which: str) -> None:
        attempt = self._open() if which == "open" else self._latest()
        if attempt is None:
            return
        graded = submit_attempt(attempt_id=attempt.pk, now=self.now)
        assert graded.status != AttemptStatus.IN_PROGRESS
        if attempt.pk in self.graded:
            # A second submit (double click, two tabs, tick racing the page) changes nothing.
            assert graded_snapshot(graded) == self.graded[attempt.pk]
        self.graded.setdefault(attempt.pk, graded_snapshot(graded))

    @rule()
    def tick(self) -> None:
        close_overdue(now=self.now)

    @rule()
    def reregister_after_failing_out(self) -> None:
        """CASQA: two failed midterms mean paying to re-register and retaking the training."""
        journey = journey_for(self.enrollment, self.now)
        if journey.overall != "failed_out":
            return
        resolve(self.enrollment, self.now)
        finish_training(self.user, Course.objects.get(program=self.exam.program), self.now)
        self.enrollment.refresh_from_db()

    @invariant()
    def at_most_one_attempt_in_progress(self) -> None:
        assert (
            Attempt.objects.filter(user=self.user, exam=self.exam, status=AttemptStatus.IN_PROGRESS).count()
            <= 1
        )

    @invariant()
    def answers_never_go_back(self) -> None:
        rows = Answer.objects.filter(attempt__user=self.user).values_list("attempt_id", "position", "seq")
        for attempt_id, position, seq in rows:
            assert seq == self.seq.get((attempt_id, position), 0), (attempt_id, position, seq)

    @invariant()
    def nothing_saved_after_deadline_and_grace(self) -> None:
        grace = timedelta(seconds=self.exam.grace_seconds)
        for answer in Answer.objects.filter(attempt__user=self.user, seq__gt=0).select_related("attempt"):
            assert answer.saved_at <= answer.attempt.deadline + grace

    @invariant()
    def graded_once_and_never_changed(self) -> None:
        for attempt in Attempt.objects.filter(user=self.user).exclude(status=AttemptStatus.IN_PROGRESS):
            self.graded.setdefault(attempt.pk, graded_snapshot(attempt))
            assert graded_snapshot(attempt) == self.graded[attempt.pk]
            assert attempt.submitted_at is not None and attempt.submitted_at <= attempt.deadline + timedelta(
                seconds=self.exam.grace_seconds
            )
            events = AuditEvent.objects.filter(verb="exam.attempt_graded", object_id=str(attempt.pk))
            assert events.count() == 1, f"attempt {attempt.pk} graded {events.count()} times"

    @invariant()
    def attempts_within_the_limit_per_cycle(self) -> None:
        self.enrollment.refresh_from_db()
        limit = exam_values(self.enrollment, self.exam, self.now)["attempts"]
        for cycle in {a.cycle for a in Attempt.objects.filter(user=self.user, exam=self.exam)}:
            in_cycle = Attempt.objects.filter(user=self.user, exam=self.exam, cycle=cycle)
            assert in_cycle.count() <= limit
            assert sorted(in_cycle.values_list("number", flat=True)) == list(range(1, in_cycle.count() + 1))


def test_attempt_lifecycle(alice: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)

    class Machine(AttemptMachine):
        pass

    Machine.user, Machine.exam, Machine.enrollment = alice, midterm, enrollment
    run_state_machine_as_test(Machine, settings=MACHINE_SETTINGS)


# --- Orders, payments and refunds -------------------------------------------------------------------


class OrderMachine(SavepointMachine):
    """alice's orders: payment attempts by card (test mode), checks staff record, confirmations
    replayed (webhook retries) or arriving late for a settled order, failures, partial and full
    refunds (with and without the non-refundable override), cancellation."""

    user: User
    staff: User
    orders = Bundle("orders")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.references = 0
        # Orders that were paid at some point: each must have been fulfilled exactly once.
        self.ever_paid: set[int] = set()

    @initialize(target=orders)
    def first_order(self) -> Order:
        # Every example has an order to act on: an example with none tests nothing.
        return make_order(self.user, fee_code="registration", now=self.now)

    @rule(target=orders, fee=st.sampled_from(["registration", "extension"]))
    def create(self, fee: str) -> Order:
        return make_order(self.user, fee_code=fee, now=self.now)

    @rule(target=payments, order=orders)
    def start_card_payment(self, order: Order) -> Payment | Any:
        try:
            started = start_payment(
                order=order,
                provider_code="testmode",
                actor=self.user,
                return_url="/",
                cancel_url="/",
                now=self.now,
            )
        except PaymentError:
            order.refresh_from_db()
            assert order.status != OrderStatus.PENDING
            return multiple()
        return started.payment

    @rule(payment=payments, amount=st.sampled_from([None, "same", "less"]))
    def confirm(self, payment: Payment, amount: str | None) -> None:
        """A provider's confirmation: first delivery, a replay, or a late one for a settled order."""
        before = Payment.objects.get(pk=payment.pk).state
        value = None if amount is None else payment.amount if amount == "same" else Decimal("1.00")
        changed = confirm_payment(payment_id=payment.pk, amount=value, now=self.now)
        assert changed == (before != PaymentState.CONFIRMED)
        self._note_paid(payment.order_id)

    @rule(payment=payments)
    def fail(self, payment: Payment) -> None:
        before = Payment.objects.get(pk=payment.pk).state
        changed = fail_payment(payment_id=payment.pk, reason="declined", now=self.now)
        assert changed == (before in (PaymentState.CREATED, PaymentState.PENDING))

    @rule(target=payments, order=orders, part=st.sampled_from(["due", "half", "over"]), reuse=st.booleans())
    def check_arrives(self, order: Order, part: str, reuse: bool) -> Payment | Any:
        order.refresh_from_db()
        due = order.amount_due()
        amount = {"due": due, "half": money(due / 2), "over": due + Decimal("10.00")}[part]
        if not reuse or self.references == 0:
            self.references += 1
        reference = f"CHK-{self.references}"
        try:
            payment = record_manual_payment(
                order=order,
                actor=self.staff,
                reference=reference,
                amount=amount,
                received_on=self.now.date(),
                reason="check received",
                now=self.now,
            )
        except PaymentError:
            # Refused: the order is settled, the amount is not positive, or the check is known.
            return multiple()
        self._note_paid(order.pk)
        return payment

    @rule(
        payment=payments,
        part=st.sampled_from(["all", "half", "cent", "too_much"]),
        override=st.booleans(),
    )
    def refund(self, payment: Payment, part: str, override: bool) -> None:
        payment.refresh_from_db()
        available = payment.refundable_amount()
        amount = {
            "all": available,
            "half": money(available / 2),
            "cent": Decimal("0.01"),
            "too_much": available + Decimal("0.01"),
        }[part]
        order = Order.objects.get(pk=payment.order_id)
        allowed = (
            payment.state == PaymentState.CONFIRMED
            and Decimal("0.01") <= amount <= available
            and (order.is_refundable or override)
        )
        try:
            refund_payment(
                payment=payment,
                amount=amount,
                actor=self.staff,
                reason="asked by the candidate",
                override_nonrefundable=override,
                now=self.now,
            )
        except PaymentError:
            assert not allowed, (part, amount, available, payment.state)
            return
        assert allowed, (part, amount, available, payment.state)

    @rule(order=orders)
    def cancel(self, order: Order) -> None:
        try:
            cancel_order(order=order, actor=self.staff, reason="asked", now=self.now)
        except PaymentError:
            order.refresh_from_db()
            assert order.status != OrderStatus.PENDING or order.confirmed_amount() > 0

    @rule()
    def time_passes(self) -> None:
        self.now += timedelta(hours=1)

    def _note_paid(self, order_id: int) -> None:
        if Order.objects.filter(pk=order_id, paid_at__isnull=False).exists():
            self.ever_paid.add(order_id)

    @invariant()
    def status_consistent_with_amounts(self) -> None:
        for order in Order.objects.filter(user=self.user):
            assert order.status in OrderStatus.values
            confirmed, refunded = order.confirmed_amount(), order.refunded_amount()
            if order.status == OrderStatus.PENDING:
                assert order.paid_at is None and confirmed - refunded < order.total
            if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
                assert order.paid_at is not None and order.fulfilled_at is not None
                assert confirmed >= order.total, "paid without being covered"
            if order.status == OrderStatus.REFUNDED:
                assert confirmed - refunded <= 0
            if order.status == OrderStatus.CANCELED:
                assert order.paid_at is None

    @invariant()
    def fulfilled_exactly_once_when_paid(self) -> None:
        for order in Order.objects.filter(user=self.user):
            fulfilled = AuditEvent.objects.filter(verb="tests.fulfilled", object_id=str(order.pk)).count()
            assert fulfilled == (1 if order.paid_at else 0), (order.number, order.status, fulfilled)
            assert order.lines.filter(fulfilled_at__isnull=(order.paid_at is not None)).count() == 0

    @invariant()
    def refunds_never_exceed_payments(self) -> None:
        for payment in Payment.objects.filter(order__user=self.user):
            kept = payment.refunds.exclude(state=RefundState.FAILED).aggregate(s=Sum("amount"))["s"] or 0
            assert kept <= payment.amount
            if kept:
                assert payment.state == PaymentState.CONFIRMED

    @invariant()
    def overpayment_is_never_silent(self) -> None:
        """Confirmed money never exceeds the total unless refunded, or staff are told: money that
        arrives is real (a card charged is charged), so the rule is that an excess is flagged."""
        for order in Order.objects.filter(user=self.user):
            if order.net_paid() > order.total:
                assert AuditEvent.objects.filter(verb="payment.overpaid", object_id=str(order.pk)).exists(), (
                    f"{order.number} overpaid silently"
                )


def test_order_lifecycle(alice: User, sara: User, programs: None) -> None:
    class Machine(OrderMachine):
        pass

    Machine.user, Machine.staff = alice, sara
    run_state_machine_as_test(Machine, settings=MACHINE_SETTINGS)
