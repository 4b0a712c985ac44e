"""The staff reports' figures: pure functions over a period (or `now`), returning typed rows.

Each report takes `program` (None: every program) and counts only what belongs to it. The
figures the reports lean on come from each program's rules in force, never from code: the
expiring list looks ahead each program's renewal window, and the time-to-qualify histogram's
last bucket starts where the enrollment window ends.

Every query aggregates in the database (TruncMonth and friends, in the program's time zone, so
an enrollment at 11 pm on January 31 in California counts for January even though it is
February in UTC). Each report costs a fixed handful of queries, whatever the number of rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from stormcert.certificates.models import Certificate, Source
from stormcert.courses.models import (
    TAKEN_STATUSES,
    CourseSession,
    Seat,
    SeatStatus,
    SessionStatus,
    SurveyAnswer,
    SurveyResponse,
)
from stormcert.enrollments.models import Enrollment, Route
from stormcert.exams.models import Attempt, AttemptQuestion, AttemptStatus, QuestionBank
from stormcert.lib.money import ZERO, money
from stormcert.payments.models import OrderLine, Refund, RefundState
from stormcert.programs.models import Program, ProgramKind, Step, StepKind
from stormcert.programs.rules import RuleMissing, version_in_force

# The reports read in the program office's zone (every program runs in California today; a
# program in another zone would get its own reports before it got mixed months).
REPORT_ZONE = ZoneInfo(settings.TIME_ZONE)
# Time-to-qualify histogram: bucket width (a month, roughly). The last bucket is open-ended and
# starts at the whole buckets that fit in the program's enrollment window (`enrollment.window_years`):
# longer than that took an extension.
QUALIFY_BUCKET_DAYS = 30
RENEWAL_WINDOW = "renewal.opens_days_before_expiry"
ENROLLMENT_WINDOW = "enrollment.window_years"


def _rule_values(programs: list[Program], day: date, key: str) -> dict[Program, Any]:
    """`key` in each program's rules in force on `day`, for the programs that have it (a program
    with no version in force, or whose rules do not use the key, is left out). Two queries per
    program: the reports cost the same whatever the number of rows."""
    found: dict[Program, Any] = {}
    for program in programs:
        try:
            version = version_in_force(program, day)
        except RuleMissing:
            continue
        value = version.values.filter(key=key).values_list("value", flat=True).first()
        if value is not None:
            found[program] = value
    return found


def _programs(program: Program | None, kind: str | None = None) -> list[Program]:
    if program is not None:
        return [program]
    programs = Program.objects.all()
    return list(programs.filter(kind=kind) if kind else programs)


def _only(program: Program | None, field: str = "program") -> Q:
    """A filter to one program's rows, or none (every program)."""
    return Q(**{field: program}) if program is not None else Q()


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the report zone."""

    start: date
    end: date
    zone: ZoneInfo = REPORT_ZONE

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.zone)

    @property
    def until(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.zone)

    def months(self) -> list[date]:
        """The first day of every month the period touches, so a quiet month still gets a bar."""
        first = self.start.replace(day=1)
        months = []
        while first <= self.end:
            months.append(first)
            first = (first + timedelta(days=32)).replace(day=1)
        return months


def default_period(now: datetime) -> Period:
    """The last twelve months: from the first of the month eleven months back, through today."""
    today = now.astimezone(REPORT_ZONE).date()
    month, year = today.month - 11, today.year
    if month < 1:
        month, year = month + 12, year - 1
    return Period(date(year, month, 1), today)


def _as_date(value: datetime | date) -> date:
    """A TruncMonth/TruncWeek result as a plain date (a datetime in the report zone on PostgreSQL and SQLite)."""
    if isinstance(value, datetime):
        return value.astimezone(REPORT_ZONE).date()
    return value


# 1. Enrollments and completions per month -------------------------------------------------


@dataclass(frozen=True)
class MonthActivity:
    month: date
    registrations: int
    completions: int
    new_certificates: int
    renewals: int


def enrollment_activity(period: Period, program: Program | None = None) -> list[MonthActivity]:
    """Registrations (the day the registration was paid and the window opened), completions
    (every step done), and certificates issued per month: new qualifications (completion or the
    self-directed route) apart from renewals. Legacy imports and ToR certificates are not new
    qualifications and are left out."""
    months = TruncMonth("at", tzinfo=period.zone)
    registered = dict(
        Enrollment.objects.filter(
            _only(program), window_start__gte=period.since, window_start__lt=period.until
        )
        .annotate(at=F("window_start"))
        .annotate(m=months)
        .values("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    )
    completed = dict(
        Enrollment.objects.filter(
            _only(program), completed_at__gte=period.since, completed_at__lt=period.until
        )
        .annotate(at=F("completed_at"))
        .annotate(m=months)
        .values("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    )
    certificates: dict[date, dict[str, int]] = defaultdict(dict)
    for m, source, n in (
        Certificate.objects.filter(
            _only(program),
            issued_on__gte=period.start,
            issued_on__lte=period.end,
            source__in=[Source.COMPLETION, Source.SELF_DIRECTED, Source.RENEWAL],
        )
        .annotate(m=TruncMonth("issued_on"))
        .values("m", "source")
        .annotate(n=Count("id"))
        .values_list("m", "source", "n")
    ):
        certificates[_as_date(m)][source] = n
    registered = {_as_date(k): v for k, v in registered.items()}
    completed = {_as_date(k): v for k, v in completed.items()}
    return [
        MonthActivity(
            month=m,
            registrations=registered.get(m, 0),
            completions=completed.get(m, 0),
            new_certificates=certificates[m].get(Source.COMPLETION, 0)
            + certificates[m].get(Source.SELF_DIRECTED, 0),
            renewals=certificates[m].get(Source.RENEWAL, 0),
        )
        for m in period.months()
    ]


# 2. Exam pass rates by attempt number and by exam form -------------------------------------


@dataclass(frozen=True)
class PassRate:
    program: str  # the program's short name
    exam: str  # the exam's step code
    exam_title: str
    form: str  # the question bank's title
    form_code: str
    attempt: int  # 1 for a first attempt in a registration cycle
    taken: int
    passed: int
    timed_out: int

    @property
    def rate(self) -> Decimal | None:
        """Percent passed, one decimal; None when nobody sat it."""
        if not self.taken:
            return None
        return (Decimal(100 * self.passed) / self.taken).quantize(Decimal("0.1"))


def pass_rates(period: Period, program: Program | None = None) -> list[PassRate]:
    """Graded attempts (submitted, or submitted when time ran out) finished in the period.

    "Exam form" is read as the question bank an attempt was drawn from: attempts differ but
    are equivalent draws from one bank by the blueprint, so the bank is the form. The bank is
    taken from the attempt's own questions, not from the exam's current bank, so an attempt
    stays under the form it was sat on after staff move the exam to a new bank; an attempt
    with no questions recorded falls back to the exam's bank. The attempt number counts within
    a registration cycle (a re-registration starts again at 1), as the retake rules do."""
    first_bank = Subquery(
        AttemptQuestion.objects.filter(attempt=OuterRef("pk"))
        .order_by("position")
        .values("question__bank_id")[:1],
        output_field=IntegerField(),
    )
    grouped = (
        Attempt.objects.filter(
            _only(program, "exam__program"),
            status__in=[AttemptStatus.SUBMITTED, AttemptStatus.TIMED_OUT],
            submitted_at__gte=period.since,
            submitted_at__lt=period.until,
        )
        .annotate(form_id=Coalesce(first_bank, F("exam__bank_id"), output_field=IntegerField()))
        .values("exam__program_id", "exam__step_code", "exam__title", "form_id", "number")
        .annotate(
            taken=Count("id"),
            passed_n=Count("id", filter=Q(passed=True)),
            timed_out_n=Count("id", filter=Q(status=AttemptStatus.TIMED_OUT)),
        )
        .order_by("exam__program_id", "exam__step_code", "form_id", "number")
    )
    rows = list(grouped)
    banks = {
        b.pk: b
        for b in QuestionBank.objects.filter(pk__in={r["form_id"] for r in rows}).only("code", "title")
    }
    # Each program's order: programs as listed, then its exam steps by position.
    programs = {p.pk: p for p in Program.objects.filter(pk__in={r["exam__program_id"] for r in rows})}
    positions = {
        (program_id, code): position
        for program_id, code, position in Step.objects.filter(
            program_id__in=list(programs), kind=StepKind.EXAM
        ).values_list("program_id", "code", "position")
    }
    rows.sort(
        key=lambda r: (
            (programs[r["exam__program_id"]].position, programs[r["exam__program_id"]].code),
            positions.get((r["exam__program_id"], r["exam__step_code"]), len(positions)),
            r["exam__step_code"],
            banks[r["form_id"]].title,
            r["number"],
        )
    )
    result = [
        PassRate(
            program=str(programs[r["exam__program_id"]]),
            exam=r["exam__step_code"],
            exam_title=r["exam__title"],
            form=banks[r["form_id"]].title,
            form_code=banks[r["form_id"]].code,
            attempt=r["number"],
            taken=r["taken"],
            passed=r["passed_n"],
            timed_out=r["timed_out_n"],
        )
        for r in rows
    ]
    return result


# 3. Time to qualify -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    low: int  # days, included
    high: int | None  # days, included; None for the open-ended last bucket
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}" if self.high is not None else f"{self.low}+"


@dataclass(frozen=True)
class TimeToQualify:
    count: int
    median: Decimal | None
    p25: Decimal | None
    p75: Decimal | None
    buckets: list[Bucket] = field(default_factory=list)
    open_from: int | None = None  # days: the last bucket's start (the enrollment window), if known


def qualify_open_from(program: Program | None, day: date) -> int | None:
    """Where the time-to-qualify histogram's open-ended last bucket starts: the whole buckets
    that fit in the enrollment window (the longest one of the qualification programs when the
    report covers every program); None when no program has a window in its rules."""
    years = _rule_values(_programs(program, ProgramKind.QUALIFICATION), day, ENROLLMENT_WINDOW)
    if not years:
        return None
    days = max(int(y) for y in years.values()) * 365
    return days // QUALIFY_BUCKET_DAYS * QUALIFY_BUCKET_DAYS


def time_to_qualify(period: Period, program: Program | None = None) -> TimeToQualify:
    """Days from registration (the training window opening) to completion, for standard-route
    enrollments completed in the period. Those qualified by the self-directed route have no
    training to time.

    The subtraction runs in the database; the one column of day counts comes back because
    neither SQLite nor Django has a portable percentile aggregate, and it is bounded by the
    completions in the period (hundreds a year), not by the size of any table."""
    duration = ExpressionWrapper(F("completed_at") - F("window_start"), output_field=DurationField())
    durations = (
        Enrollment.objects.filter(
            _only(program),
            route=Route.STANDARD,
            window_start__isnull=False,
            completed_at__gte=period.since,
            completed_at__lt=period.until,
        )
        .annotate(took=duration)
        .values_list("took", flat=True)
    )
    days = sorted(max(d.days, 0) for d in durations)
    if not days:
        return TimeToQualify(count=0, median=None, p25=None, p75=None)
    if len(days) == 1:
        p25 = median = p75 = Decimal(days[0])
    else:
        q1, q2, q3 = statistics.quantiles(days, n=4, method="inclusive")
        p25, median, p75 = (Decimal(str(q)).quantize(Decimal("0.1")) for q in (q1, q2, q3))
    open_from = qualify_open_from(program, period.end)
    cap = days[-1] if open_from is None else open_from
    counts: dict[int, int] = defaultdict(int)
    for d in days:
        counts[min(d, cap) // QUALIFY_BUCKET_DAYS] += 1
    last = min(days[-1], cap) // QUALIFY_BUCKET_DAYS
    buckets = []
    for i in range(last + 1):
        low = i * QUALIFY_BUCKET_DAYS
        high = None if open_from is not None and low >= open_from else low + QUALIFY_BUCKET_DAYS - 1
        buckets.append(Bucket(low=low, high=high, count=counts[i]))
    return TimeToQualify(
        count=len(days), median=median, p25=p25, p75=p75, buckets=buckets, open_from=open_from
    )


# 4. Revenue by fee type and month -----------------------------------------------------------


@dataclass(frozen=True)
class FeeType:
    key: str  # "<program code>/<fee code>"
    label: str


@dataclass(frozen=True)
class RevenueMonth:
    month: date
    by_fee: dict[str, Decimal]  # FeeType.key -> amount sold that month
    refunds: Decimal  # refunds completed that month, as a positive amount

    @property
    def gross(self) -> Decimal:
        return money(sum(self.by_fee.values(), ZERO))

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds


@dataclass(frozen=True)
class Revenue:
    fees: list[FeeType]
    months: list[RevenueMonth]
    currency: str = "USD"

    @property
    def total_by_fee(self) -> dict[str, Decimal]:
        return {f.key: money(sum((m.by_fee.get(f.key, ZERO) for m in self.months), ZERO)) for f in self.fees}

    @property
    def gross(self) -> Decimal:
        return money(sum((m.gross for m in self.months), ZERO))

    @property
    def refunds(self) -> Decimal:
        return money(sum((m.refunds for m in self.months), ZERO))

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds

    @property
    def is_empty(self) -> bool:
        return not self.fees and not self.refunds

    @property
    def rows(self) -> list[tuple[date, list[Decimal], Decimal, Decimal]]:
        """Per month: the amounts in `fees` order, refunds, net (for the page's table)."""
        return [
            (m.month, [m.by_fee.get(f.key, ZERO) for f in self.fees], m.refunds, m.net) for m in self.months
        ]

    @property
    def totals(self) -> list[Decimal]:
        by_fee = self.total_by_fee
        return [by_fee[f.key] for f in self.fees]


def revenue(period: Period, program: Program | None = None) -> Revenue:
    """Sales by fee in the month the order was paid (its lines, at the amounts charged), and
    refunds in the month they were completed, netted per month.

    Refunds get their own line rather than being charged to a fee: a refund is of a payment on
    an order, and an order may hold several fees, so splitting it by fee would be a guess. The
    net per month is what the office actually kept. Orders that were never paid count nothing."""
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    labels: dict[str, str] = {}
    for m, program_code, code, name, amount in (
        OrderLine.objects.filter(
            _only(program), order__paid_at__gte=period.since, order__paid_at__lt=period.until
        )
        .annotate(m=TruncMonth("order__paid_at", tzinfo=period.zone))
        .values("m", "program__code", "fee_code")
        .annotate(name=Max("fee__name"), amount=Sum("amount"))
        .values_list("m", "program__code", "fee_code", "name", "amount")
    ):
        key = f"{program_code}/{code}"
        labels[key] = f"{name} ({program_code})"
        by_month[_as_date(m)][key] = money(amount)
    refunds = {
        _as_date(m): money(amount)
        for m, amount in Refund.objects.filter(
            # A refund is of an order; with one program asked for, the orders with a line of it.
            Q(order__in=OrderLine.objects.filter(program=program).values("order_id"))
            if program is not None
            else Q(),
            state=RefundState.DONE,
            done_at__gte=period.since,
            done_at__lt=period.until,
        )
        .annotate(m=TruncMonth("done_at", tzinfo=period.zone))
        .values("m")
        .annotate(amount=Sum("amount"))
        .values_list("m", "amount")
    }
    fees = [FeeType(key, labels[key]) for key in sorted(labels, key=lambda k: labels[k])]
    return Revenue(
        fees=fees,
        months=[
            RevenueMonth(month=m, by_fee=by_month.get(m, {}), refunds=refunds.get(m, ZERO))
            for m in period.months()
        ],
    )


# 5. ToR activity and survey ratings ---------------------------------------------------------


@dataclass(frozen=True)
class TrainerActivity:
    trainer_id: int
    name: str
    email: str
    sessions: int  # scheduled to start in the period, not cancelled
    held: int  # of those, started before now
    cancelled: int
    registered: int  # seats that were confirmed (registered, attended or absent)
    attended: int
    surveys: int
    rating: Decimal | None  # average of every rating answer, 1 to 5
    ratings: int  # how many rating answers the average is over


def _sessions_of(program: Program | None, prefix: str = "") -> Q:
    """Sessions of a qualification program, or of the programs a trainer program's trainers teach."""
    if program is None:
        return Q()
    if program.kind == ProgramKind.TRAINER:
        return Q(**{f"{prefix}program__taught_by": program})
    return Q(**{f"{prefix}program": program})


def trainer_activity(period: Period, now: datetime, program: Program | None = None) -> list[TrainerActivity]:
    """Per Trainer of Record, over the sessions that start in the period.

    The average rating is the one the staff survey page (courses:staff_surveys) shows per
    trainer: the mean of every rating answer on the trainer's sessions, here restricted to the
    period's sessions. Three grouped queries rather than one, because joining seats and survey
    answers to sessions in one query would multiply the counts."""
    in_period = Q(starts_at__gte=period.since, starts_at__lt=period.until)
    sessions = {
        r["trainer_id"]: r
        for r in CourseSession.objects.filter(in_period, _sessions_of(program))
        .values("trainer_id", "trainer__first_name", "trainer__last_name", "trainer__email")
        .annotate(
            scheduled=Count("id", filter=~Q(status=SessionStatus.CANCELLED)),
            held=Count("id", filter=~Q(status=SessionStatus.CANCELLED) & Q(starts_at__lt=now)),
            cancelled=Count("id", filter=Q(status=SessionStatus.CANCELLED)),
        )
    }
    seats = {
        r["session__trainer_id"]: r
        for r in Seat.objects.filter(
            _sessions_of(program, "session__"),
            session__starts_at__gte=period.since,
            session__starts_at__lt=period.until,
            status__in=TAKEN_STATUSES,
        )
        .values("session__trainer_id")
        .annotate(registered=Count("id"), attended=Count("id", filter=Q(status=SeatStatus.ATTENDED)))
    }
    surveys = dict(
        SurveyResponse.objects.filter(
            _sessions_of(program, "session__"),
            session__starts_at__gte=period.since,
            session__starts_at__lt=period.until,
        )
        .values("session__trainer_id")
        .annotate(n=Count("id"))
        .values_list("session__trainer_id", "n")
    )
    ratings = {
        r["response__session__trainer_id"]: r
        for r in SurveyAnswer.objects.filter(
            _sessions_of(program, "response__session__"),
            rating__isnull=False,
            response__session__starts_at__gte=period.since,
            response__session__starts_at__lt=period.until,
        )
        .values("response__session__trainer_id")
        .annotate(avg=Avg("rating"), n=Count("id"))
    }
    result = []
    for trainer_id, s in sessions.items():
        seat = seats.get(trainer_id, {})
        rated = ratings.get(trainer_id)
        result.append(
            TrainerActivity(
                trainer_id=trainer_id,
                name=f"{s['trainer__first_name']} {s['trainer__last_name']}".strip() or s["trainer__email"],
                email=s["trainer__email"],
                sessions=s["scheduled"],
                held=s["held"],
                cancelled=s["cancelled"],
                registered=seat.get("registered", 0),
                attended=seat.get("attended", 0),
                surveys=surveys.get(trainer_id, 0),
                rating=Decimal(str(rated["avg"])).quantize(Decimal("0.01")) if rated else None,
                ratings=rated["n"] if rated else 0,
            )
        )
    result.sort(key=lambda t: (-t.sessions, t.name))
    return result


# 6. Certificates expiring within each program's renewal window -----------------------------


@dataclass(frozen=True)
class ExpiringCertificate:
    pk: int
    number: str
    holder_name: str
    program: str
    expires_on: date


@dataclass(frozen=True)
class WeekCount:
    week: date  # the Monday the week starts on
    count: int


@dataclass(frozen=True)
class LookAhead:
    program_id: int
    program: str  # the program's short name
    days: int
    own: bool  # False: the program has no renewal window of its own and borrows the longest


@dataclass(frozen=True)
class Expiring:
    start: date  # today
    end: date  # the last day looked at
    weeks: list[WeekCount]
    certificates: list[ExpiringCertificate]
    windows: list[LookAhead] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def same_window(self) -> bool:
        """Every program looks the same number of days ahead (the page then says it once)."""
        return len({w.days for w in self.windows}) <= 1


def look_ahead(program: Program | None, today: date) -> list[LookAhead]:
    """How far ahead each program's expiring certificates are listed: its renewal window
    (`renewal.opens_days_before_expiry` in its rules in force), the queue staff will meet. A
    program with no renewal window (a trainer program renews by its yearly term) borrows the
    longest window of the qualification programs, so its certificates are still seen coming."""
    every = _programs(None)
    windows = {p: int(days) for p, days in _rule_values(every, today, RENEWAL_WINDOW).items()}
    longest = max(windows.values(), default=0)
    return [
        LookAhead(program_id=p.pk, program=str(p), days=windows.get(p, longest), own=p in windows)
        for p in ([program] if program is not None else every)
    ]


def expiring_certificates(now: datetime, program: Program | None = None) -> Expiring:
    """Certificates in force that expire from today through their program's renewal window
    (not the filter's period: this is the renewal queue). Revoked certificates, and those a
    renewal has already replaced, are not waiting on anyone."""
    today = now.astimezone(REPORT_ZONE).date()
    windows = look_ahead(program, today)
    within = Q(pk__in=[])
    for window in windows:
        within |= Q(program_id=window.program_id, expires_on__lte=today + timedelta(days=window.days))
    end = today + timedelta(days=max((w.days for w in windows), default=0))
    current = Certificate.objects.filter(
        within, expires_on__gte=today, revoked_at__isnull=True, superseded_at__isnull=True
    )
    per_week = dict(
        current.annotate(w=TruncWeek("expires_on")).values("w").annotate(n=Count("id")).values_list("w", "n")
    )
    per_week = {_as_date(k): v for k, v in per_week.items()}
    first_monday = today - timedelta(days=today.weekday())
    weeks = []
    monday = first_monday
    while monday <= end:
        weeks.append(WeekCount(week=monday, count=per_week.get(monday, 0)))
        monday += timedelta(days=7)
    certificates = [
        # expires_on is never empty here: the filter above bounds it.
        ExpiringCertificate(
            pk=pk, number=number, holder_name=name, program=program, expires_on=expires or end
        )
        for pk, number, name, program, expires in current.order_by("expires_on", "sort_name").values_list(
            "pk", "number", "holder_name", "program__short_name", "expires_on"
        )
    ]
    return Expiring(start=today, end=end, weeks=weeks, certificates=certificates, windows=windows)


# CSV tables: the same figures, unformatted (ISO dates, plain decimals), one row per figure ----

Table = tuple[list[str], list[list[object]]]


def enrollment_table(period: Period, program: Program | None = None) -> Table:
    header = ["month", "registrations", "completions", "new_certificates", "renewals"]
    return header, [
        [r.month.isoformat(), r.registrations, r.completions, r.new_certificates, r.renewals]
        for r in enrollment_activity(period, program)
    ]


def pass_rate_table(period: Period, program: Program | None = None) -> Table:
    header = [
        "program",
        "exam",
        "exam_title",
        "form_code",
        "form",
        "attempt",
        "taken",
        "passed",
        "timed_out",
        "pass_rate",
    ]
    return header, [
        [
            r.program,
            r.exam,
            r.exam_title,
            r.form_code,
            r.form,
            r.attempt,
            r.taken,
            r.passed,
            r.timed_out,
            r.rate,
        ]
        for r in pass_rates(period, program)
    ]


def time_to_qualify_table(period: Period, program: Program | None = None) -> Table:
    header = ["days_from", "days_to", "candidates"]
    return header, [
        [b.low, "" if b.high is None else b.high, b.count] for b in time_to_qualify(period, program).buckets
    ]


def revenue_table(period: Period, program: Program | None = None) -> Table:
    """Long form: a row per month and fee, and a refunds row (negative) per month with refunds;
    the sum of the amount column is the net."""
    result = revenue(period, program)
    header = ["month", "program", "fee_code", "fee", "amount"]
    labels = {f.key: f.label for f in result.fees}
    rows: list[list[object]] = []
    for m in result.months:
        for key, amount in sorted(m.by_fee.items()):
            program_code, code = key.split("/", 1)
            rows.append([m.month.isoformat(), program_code, code, labels[key], amount])
        if m.refunds:
            rows.append([m.month.isoformat(), "", "refunds", "Refunds", -m.refunds])
    return header, rows


def trainer_table(period: Period, now: datetime, program: Program | None = None) -> Table:
    header = [
        "trainer_id",
        "name",
        "email",
        "sessions",
        "held",
        "cancelled",
        "seats_registered",
        "attended",
        "surveys",
        "average_rating",
        "ratings",
    ]
    return header, [
        [
            t.trainer_id,
            t.name,
            t.email,
            t.sessions,
            t.held,
            t.cancelled,
            t.registered,
            t.attended,
            t.surveys,
            "" if t.rating is None else t.rating,
            t.ratings,
        ]
        for t in trainer_activity(period, now, program)
    ]


def expiring_table(now: datetime, program: Program | None = None) -> Table:
    header = ["number", "holder", "program", "expires_on"]
    return header, [
        [c.number, c.holder_name, c.program, c.expires_on.isoformat()]
        for c in expiring_certificates(now, program).certificates
    ]
