"""Hypothesis state machines over the real services: exam attempts, orders, enrollments.

Each machine makes random sequences of the operations people (and retries, replays and the clock)
really perform, and checks the invariants after every step. machines.py holds the savepoint
plumbing and the CI-sized settings.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, multiple, rule, run_state_machine_as_test

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.enrollments.journey import Journey, Overall, StepState
from stormcert.enrollments.journey import last_day as journey_last_day
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import (
    JourneyError,
    extend_window,
    get_enrollment,
    grant_attempt,
    journey_for,
    migrate_policy,
    record_step_done,
    record_step_failure,
    start_registration,
    version_for,
)
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
from stormcert.programs.models import PolicyValue, PolicyVersion, Program
from stormcert.training.models import Course
from tests.enrollments.builders import finish_training, pay, resolve
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


# --- Enrollments: the nine steps, windows, failures and what they cost -----------------------------

STEP_CODES = ["read_guides", "self_assessment", "training", "midterm", "course", "survey", "final"]
EXAMS = ["midterm", "final"]


class EnrollmentMachine(SavepointMachine):
    """alice's QISP journey: steps reported done or failed (in and out of order), registering and
    paying, the clock running past the window, paying what a failure or lapse costs, staff
    extending the window, giving back an attempt, and moving her to other rules."""

    user: User
    staff: User
    program: Program
    versions: list[PolicyVersion]

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.enrollment = get_enrollment(user=self.user, program=self.program, now=self.now)
        self.window_end: datetime | None = None
        self.cycle = self.enrollment.cycle

    def _journey(self) -> Journey:
        self.enrollment.refresh_from_db()
        return journey_for(self.enrollment, self.now)

    @rule(code=st.sampled_from(STEP_CODES))
    def step_done(self, code: str) -> None:
        open_now = self._journey().step(code).state == StepState.CURRENT
        try:
            record_step_done(enrollment=self.enrollment, step_code=code, source="machine", now=self.now)
        except JourneyError:
            assert not open_now, f"{code} was current but refused"
            return
        assert open_now, f"{code} credited while not current"

    @rule(fail=st.booleans())
    def do_the_next_step(self, fail: bool) -> None:
        """What a candidate mostly does: the current step (an exam passed or failed), or pay
        what a blocked journey asks for."""
        current = self._journey().current
        if current is None:
            return
        if current.state == StepState.BLOCKED:
            self.pay_what_the_journey_asks()
        elif current.kind == "payment":
            self.register_and_pay()
        elif current.kind == "exam" and fail:
            self.exam_failed(current.code)
        else:
            self.step_done(current.code)

    @rule(code=st.sampled_from(EXAMS))
    def exam_failed(self, code: str) -> None:
        open_now = self._journey().step(code).state == StepState.CURRENT
        try:
            record_step_failure(enrollment=self.enrollment, step_code=code, source="machine", now=self.now)
        except JourneyError:
            assert not open_now
            return
        assert open_now

    @rule()
    def register_and_pay(self) -> None:
        open_now = self._journey().step("registration").state == StepState.CURRENT
        try:
            order = start_registration(enrollment=self.enrollment, now=self.now)
        except JourneyError:
            assert not open_now
            return
        assert open_now
        pay(order, self.now)

    @rule(days=st.sampled_from([1, 90, 400, 800]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule()
    def pay_what_the_journey_asks(self) -> None:
        """Re-register after failing out, or extend after the window lapsed: pay the fee."""
        action = self._journey().action
        try:
            resolve(self.enrollment, self.now)
        except JourneyError:
            assert action is None
            return
        assert action is not None
        self.enrollment.refresh_from_db()
        if action.consequence.endswith("failed_out") or "window_expired" in action.consequence:
            assert self._journey().action is None, "paid, and still blocked"

    @rule(days=st.sampled_from([-1, 0, 30, 365]))
    def staff_extend(self, days: int) -> None:
        self.enrollment.refresh_from_db()
        if self.enrollment.window_end is None:
            last = self.now.date()
        else:
            last = journey_last_day(self.enrollment.window_end, self.program.zone)
        try:
            extend_window(
                enrollment=self.enrollment,
                last_day=last + timedelta(days=days),
                actor=self.staff,
                reason="illness",
                now=self.now,
            )
        except JourneyError:
            return
        assert days > 0

    @rule(code=st.sampled_from(EXAMS))
    def staff_give_back_an_attempt(self, code: str) -> None:
        try:
            grant_attempt(
                enrollment=self.enrollment, step_code=code, actor=self.staff, reason="power cut", now=self.now
            )
        except JourneyError:
            return

    @rule(index=st.integers(0, 1))
    def staff_move_to_other_rules(self, index: int) -> None:
        migrate_policy(
            enrollment=self.enrollment,
            version=self.versions[index],
            actor=self.staff,
            reason="board decision",
            now=self.now,
        )

    @invariant()
    def credit_in_order_current_first_not_done_completed_only_when_all_done(self) -> None:
        journey = self._journey()
        assert journey.overall in Overall.__members__.values()
        states = [s.state for s in journey.steps]
        assert all(state in StepState.__members__.values() for state in states)
        done = 0
        while done < len(states) and states[done] == StepState.DONE:
            done += 1
        if done == len(states):
            assert journey.current is None and journey.overall == Overall.COMPLETE
        else:
            # The first step not done is the one to act on (or blocked); everything after waits.
            assert states[done] in (StepState.CURRENT, StepState.BLOCKED)
            assert all(state == StepState.LOCKED for state in states[done + 1 :]), states
            assert journey.current is not None and journey.current.code == journey.steps[done].code
            assert journey.overall != Overall.COMPLETE
        # Completed (and the certificate issued) only when every step is done, and then for good.
        assert (self.enrollment.completed_at is not None) == (journey.overall == Overall.COMPLETE)

    @invariant()
    def window_only_moves_forward_and_cycles_only_up(self) -> None:
        self.enrollment.refresh_from_db()
        end = self.enrollment.window_end
        if self.window_end is not None:
            assert end is not None and end >= self.window_end, (self.window_end, end)
        self.window_end = end
        assert self.enrollment.cycle >= self.cycle
        self.cycle = self.enrollment.cycle

    @invariant()
    def failures_within_the_limit(self) -> None:
        values = {v.key: v.value for v in version_for(self.enrollment, self.now).values.all()}
        for code in EXAMS:
            failed = self.enrollment.records.filter(
                step_code=code, outcome="failed", cycle=self.enrollment.cycle, voided_at__isnull=True
            ).count()
            assert failed <= int(values[f"{code}.attempts"]), (code, failed)


def test_enrollment_lifecycle(alice: User, sara: User, programs: None) -> None:
    program = Program.objects.get(code="QISP")
    casqa = program.policy_versions.order_by("-effective_from").first()
    assert casqa is not None
    # The OWP rules as a second version of the same program, to move alice between rule sets
    # mid-way: one midterm attempt, three final attempts, a lapse means redoing everything.
    owp = PolicyVersion.objects.create(program=program, name="OWP-like", effective_from=date(2019, 1, 1))
    overrides = {
        "midterm.attempts": 1,
        "final.attempts": 3,
        "consequence.window_expired": {"fee": "re_registration", "redo": ["*"], "extends_window": False},
    }
    for value in casqa.values.all():
        PolicyValue.objects.create(version=owp, key=value.key, value=overrides.get(value.key, value.value))

    class Machine(EnrollmentMachine):
        pass

    Machine.user, Machine.staff, Machine.program, Machine.versions = alice, sara, program, [casqa, owp]
    # Nine steps to walk: longer runs, so some reach the end, fail out and lapse.
    run_state_machine_as_test(Machine, settings=settings(MACHINE_SETTINGS, stateful_step_count=40))
