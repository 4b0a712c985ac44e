"""Staff reports: charts with the figures beside them, and CSV downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from stormcert.backoffice import charts, reports
from stormcert.backoffice.reports import Period, Table
from stormcert.lib import csvsafe
from stormcert.lib.staff import staff_required
from stormcert.lib.wallclock import CalendarDateField
from stormcert.programs.lookup import program_from_query
from stormcert.programs.models import Program

# A longer period is still one query per report, but its monthly charts stop being readable.
MAX_PERIOD_DAYS = 366 * 5


class PeriodForm(forms.Form):
    # The template writes the <input type="date"> itself, with the typed text kept on an error.
    start = CalendarDateField(label="From", required=False, input_formats=["%Y-%m-%d"])
    end = CalendarDateField(label="To", required=False, input_formats=["%Y-%m-%d"])

    def __init__(self, *args: object, default: Period, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.default = default

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start: date = data.get("start") or self.default.start
        end: date = data.get("end") or self.default.end
        if start > end:
            self.add_error("end", "The end date must be on or after the start date.")
        elif (end - start) > timedelta(days=MAX_PERIOD_DAYS):
            self.add_error("start", "Choose a period of five years or less.")
        data["period"] = Period(start, end)
        return data


def _period(request: HttpRequest, now: datetime) -> tuple[PeriodForm, Period | None]:
    default = reports.default_period(now)
    # Unbound when nothing was asked for, so the fields show the default period, not blanks.
    asked = "start" in request.GET or "end" in request.GET
    initial = {"start": default.start.isoformat(), "end": default.end.isoformat()}
    form = PeriodForm(request.GET if asked else None, default=default, initial=initial)
    if not asked:
        return form, default
    if not form.is_valid():
        return form, None
    period: Period = form.cleaned_data["period"]
    return form, period


def _program(request: HttpRequest) -> tuple[Program | None, str]:
    """The `?program=CODE` filter: the program (None: every program) and the query part that
    keeps it on the CSV links. An unknown code is every program, and the page says so."""
    program = program_from_query(request.GET.get("program"))
    return program, (f"program={program.code}" if program is not None else "")


def _join(*parts: str) -> str:
    return "&".join(part for part in parts if part)


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form, period = _period(request, now)
    program, program_query = _program(request)
    asked = (request.GET.get("program") or "").strip()
    context: dict[str, object] = {
        "form": form,
        "period": period,
        "program": program,
        "programs": Program.objects.all(),
        "unknown_program": asked if asked and program is None else "",
        "program_query": program_query,
    }
    if period is not None:
        activity = reports.enrollment_activity(period, program)
        rates = reports.pass_rates(period, program)
        qualify = reports.time_to_qualify(period, program)
        money = reports.revenue(period, program)
        trainers = reports.trainer_activity(period, now, program)
        context.update(
            activity=activity,
            activity_chart=charts.enrollment_chart(activity),
            rates=rates,
            rates_chart=charts.pass_rate_chart(rates),
            qualify=qualify,
            qualify_chart=charts.time_to_qualify_chart(qualify),
            revenue=money,
            revenue_chart=charts.revenue_chart(money),
            trainers=trainers,
            trainers_chart=charts.trainer_chart(trainers),
            query=_join(f"start={period.start.isoformat()}&end={period.end.isoformat()}", program_query),
        )
    expiring = reports.expiring_certificates(now, program)
    context.update(
        expiring=expiring,
        expiring_chart=charts.expiring_chart(expiring),
        expiring_empty=f"No certificates expire in the next {expiring.days} days.",
    )
    return render(request, "backoffice/reports/index.html", context)


# Each CSV: its file name stem and the table it writes (from the period, `now`, the program).
CSV_REPORTS: dict[str, Callable[[Period, datetime, Program | None], Table]] = {
    "enrollments": lambda period, now, program: reports.enrollment_table(period, program),
    "pass-rates": lambda period, now, program: reports.pass_rate_table(period, program),
    "time-to-qualify": lambda period, now, program: reports.time_to_qualify_table(period, program),
    "revenue": lambda period, now, program: reports.revenue_table(period, program),
    "trainers": lambda period, now, program: reports.trainer_table(period, now, program),
}


@staff_required
def download(request: HttpRequest, slug: str) -> HttpResponse:
    now = timezone.now()
    program, _ = _program(request)
    # The file name says which program it covers (none: every program).
    stem = f"{slug}-{program.code}" if program is not None else slug
    if slug == "expiring":
        # The renewal queue runs from today, whatever period the page shows.
        today = timezone.localtime(now, reports.REPORT_ZONE).date()
        header, rows = reports.expiring_table(now, program)
        filename = f"{stem}-{today.isoformat()}.csv"
    elif slug in CSV_REPORTS:
        form, period = _period(request, now)
        if period is None:
            problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
            return HttpResponse(
                f"Cannot make this report: {problems}", status=400, content_type="text/plain; charset=utf-8"
            )
        header, rows = CSV_REPORTS[slug](period, now, program)
        filename = f"{stem}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    else:
        raise Http404("No such report.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csvsafe.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response
