"""The staff reports' figures: pure functions over a period (or `now`), returning typed rows.

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

# The reports read in the program office's zone (every program runs in California today; a
# program in another zone would get its own reports before it got mixed months).
REPORT_ZONE = ZoneInfo(settings.TIME_ZONE)
# "Expiring soon" looks this far ahead of today; the renewal window opens 90 days before expiry.
EXPIRING_DAYS = 90
# Time-to-qualify histogram: bucket width, and the last bucket is open-ended ("720 days or more";
# the training access window is two years, so longer than that is an extension).
QUALIFY_BUCKET_DAYS = 30
QUALIFY_LAST_BUCKET_FROM = 720


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


def enrollment_activity(period: Period) -> list[MonthActivity]:
    """Registrations (the day the registration was paid and the window opened), completions
    (every step done), and certificates issued per month: new qualifications (completion or the
    self-directed route) apart from renewals. Legacy imports and ToR certificates are not new
    qualifications and are left out."""
    months = TruncMonth("at", tzinfo=period.zone)
    registered = dict(
        Enrollment.objects.filter(window_start__gte=period.since, window_start__lt=period.until)
        .annotate(at=F("window_start"))
        .annotate(m=months)
        .values("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    )
    completed = dict(
        Enrollment.objects.filter(completed_at__gte=period.since, completed_at__lt=period.until)
        .annotate(at=F("completed_at"))
        .annotate(m=months)
        .values("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    )
    certificates: dict[date, dict[str, int]] = defaultdict(dict)
    for m, source, n in (
        Certificate.objects.filter(
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
    exam: str  # the exam's step code: midterm, final
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


def pass_rates(period: Period) -> list[PassRate]:
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
            status__in=[AttemptStatus.SUBMITTED, AttemptStatus.TIMED_OUT],
            submitted_at__gte=period.since,
            submitted_at__lt=period.until,
        )
        .annotate(form_id=Coalesce(first_bank, F("exam__bank_id"), output_field=IntegerField()))
        .values("exam__step_code", "exam__title", "form_id", "number")
        .annotate(
            taken=Count("id"),
            passed_n=Count("id", filter=Q(passed=True)),
            timed_out_n=Count("id", filter=Q(status=AttemptStatus.TIMED_OUT)),
        )
        .order_by("exam__step_code", "form_id", "number")
    )
    rows = list(grouped)
    banks = {
        b.pk: b
        for b in QuestionBank.objects.filter(pk__in={r["form_id"] for r in rows}).only("code", "title")
    }
    result = [
        PassRate(
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
    # The program's order (midterm before final), then form and attempt.
    step_order = {"midterm": 0, "final": 1}
    result.sort(key=lambda r: (step_order.get(r.exam, 9), r.exam, r.form, r.attempt))
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


def time_to_qualify(period: Period) -> TimeToQualify:
    """Days from registration (the training window opening) to completion, for standard-route
    enrollments completed in the period. Self-directed QISPs have no training to time.

    The subtraction runs in the database; the one column of day counts comes back because
    neither SQLite nor Django has a portable percentile aggregate, and it is bounded by the
    completions in the period (hundreds a year), not by the size of any table."""
    duration = ExpressionWrapper(F("completed_at") - F("window_start"), output_field=DurationField())
    durations = (
        Enrollment.objects.filter(
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
    counts: dict[int, int] = defaultdict(int)
    for d in days:
        counts[min(d, QUALIFY_LAST_BUCKET_FROM) // QUALIFY_BUCKET_DAYS] += 1
    last = min(days[-1], QUALIFY_LAST_BUCKET_FROM) // QUALIFY_BUCKET_DAYS
    buckets = []
    for i in range(last + 1):
        low = i * QUALIFY_BUCKET_DAYS
        high = None if low >= QUALIFY_LAST_BUCKET_FROM else low + QUALIFY_BUCKET_DAYS - 1
        buckets.append(Bucket(low=low, high=high, count=counts[i]))
    return TimeToQualify(count=len(days), median=median, p25=p25, p75=p75, buckets=buckets)


# 4. Revenue by fee type and month -----------------------------------------------------------


@dataclass(frozen=True)
class FeeType:
    key: str  # "QISP/registration"
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


def revenue(period: Period) -> Revenue:
    """Sales by fee in the month the order was paid (its lines, at the amounts charged), and
    refunds in the month they were completed, netted per month.

    Refunds get their own line rather than being charged to a fee: a refund is of a payment on
    an order, and an order may hold several fees, so splitting it by fee would be a guess. The
    net per month is what the office actually kept. Orders that were never paid count nothing."""
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    labels: dict[str, str] = {}
    for m, program, code, name, amount in (
        OrderLine.objects.filter(order__paid_at__gte=period.since, order__paid_at__lt=period.until)
        .annotate(m=TruncMonth("order__paid_at", tzinfo=period.zone))
        .values("m", "program__code", "fee_code")
        .annotate(name=Max("fee__name"), amount=Sum("amount"))
        .values_list("m", "program__code", "fee_code", "name", "amount")
    ):
        key = f"{program}/{code}"
        labels[key] = f"{name} ({program})"
        by_month[_as_date(m)][key] = money(amount)
    refunds = {
        _as_date(m): money(amount)
        for m, amount in Refund.objects.filter(
            state=RefundState.DONE, done_at__gte=period.since, done_at__lt=period.until
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


def trainer_activity(period: Period, now: datetime) -> list[TrainerActivity]:
    """Per Trainer of Record, over the sessions that start in the period.

    The average rating is the one the staff survey page (courses:staff_surveys) shows per
    trainer: the mean of every rating answer on the trainer's sessions, here restricted to the
    period's sessions. Three grouped queries rather than one, because joining seats and survey
    answers to sessions in one query would multiply the counts."""
    in_period = Q(starts_at__gte=period.since, starts_at__lt=period.until)
    sessions = {
        r["trainer_id"]: r
        for r in CourseSession.objects.filter(in_period)
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
            session__starts_at__gte=period.since,
            session__starts_at__lt=period.until,
            status__in=[SeatStatus.REGISTERED, SeatStatus.ATTENDED, SeatStatus.ABSENT],
        )
        .values("session__trainer_id")
        .annotate(registered=Count("id"), attended=Count("id", filter=Q(status=SeatStatus.ATTENDED)))
    }
    surveys = dict(
        SurveyResponse.objects.filter(
            session__starts_at__gte=period.since, session__starts_at__lt=period.until
        )
        .values("session__trainer_id")
        .annotate(n=Count("id"))
        .values_list("session__trainer_id", "n")
    )
    ratings = {
        r["response__session__trainer_id"]: r
        for r in SurveyAnswer.objects.filter(
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


# 6. Certificates expiring in the next 90 days -----------------------------------------------


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
class Expiring:
    start: date  # today
    end: date  # the last day looked at
    weeks: list[WeekCount]
    certificates: list[ExpiringCertificate]


def expiring_certificates(now: datetime, days: int = EXPIRING_DAYS) -> Expiring:
    """Certificates in force that expire from today through `days` days ahead (not the filter's
    period: this is the renewal queue). Revoked certificates, and those a renewal has already
    replaced, are not waiting on anyone."""
    today = now.astimezone(REPORT_ZONE).date()
    end = today + timedelta(days=days)
    current = Certificate.objects.filter(
        expires_on__gte=today, expires_on__lte=end, revoked_at__isnull=True, superseded_at__isnull=True
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
    return Expiring(start=today, end=end, weeks=weeks, certificates=certificates)


# CSV tables: the same figures, unformatted (ISO dates, plain decimals), one row per figure ----

Table = tuple[list[str], list[list[object]]]


def enrollment_table(period: Period) -> Table:
    header = ["month", "registrations", "completions", "new_certificates", "renewals"]
    return header, [
        [r.month.isoformat(), r.registrations, r.completions, r.new_certificates, r.renewals]
        for r in enrollment_activity(period)
    ]


def pass_rate_table(period: Period) -> Table:
    header = [
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
        [r.exam, r.exam_title, r.form_code, r.form, r.attempt, r.taken, r.passed, r.timed_out, r.rate]
        for r in pass_rates(period)
    ]


def time_to_qualify_table(period: Period) -> Table:
    header = ["days_from", "days_to", "candidates"]
    return header, [
        [b.low, "" if b.high is None else b.high, b.count] for b in time_to_qualify(period).buckets
    ]


def revenue_table(period: Period) -> Table:
    """Long form: a row per month and fee, and a refunds row (negative) per month with refunds;
    the sum of the amount column is the net."""
    result = revenue(period)
    header = ["month", "program", "fee_code", "fee", "amount"]
    labels = {f.key: f.label for f in result.fees}
    rows: list[list[object]] = []
    for m in result.months:
        for key, amount in sorted(m.by_fee.items()):
            program, code = key.split("/", 1)
            rows.append([m.month.isoformat(), program, code, labels[key], amount])
        if m.refunds:
            rows.append([m.month.isoformat(), "", "refunds", "Refunds", -m.refunds])
    return header, rows


def trainer_table(period: Period, now: datetime) -> Table:
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
        for t in trainer_activity(period, now)
    ]


def expiring_table(now: datetime) -> Table:
    header = ["number", "holder", "program", "expires_on"]
    return header, [
        [c.number, c.holder_name, c.program, c.expires_on.isoformat()]
        for c in expiring_certificates(now).certificates
    ]
