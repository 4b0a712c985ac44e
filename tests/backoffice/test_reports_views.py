"""The reports page and its CSV downloads over HTTP: who may see them, the period filter,
the empty state, the CSV format, and a query count that does not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.certificates.models import Source
from stormcert.programs.models import Program
from tests.backoffice.test_reports import NOW, _paid_order, certificate, enrollment, pt

URL = "/staff/reports/"


@pytest.fixture
def dataset(programs: None, sara: User) -> None:
    qisp = Program.objects.get(code="QISP")
    for i in range(3):
        enr = enrollment(qisp, f"c{i}@example.com", pt(2026, 3, 1 + i, 10), done=pt(2026, 5, 1 + i, 10))
        _paid_order(qisp, enr.user, "registration", pt(2026, 3, 1 + i, 10))
        certificate(
            qisp, enr.user, f"QISP-{i}", date(2026, 12, 1) + timedelta(days=i), source=Source.COMPLETION
        )


@pytest.fixture(autouse=True)
def _today() -> object:
    with time_machine.travel(NOW, tick=False):
        yield


def test_reports_are_for_staff_only(programs: None, alice_client: Client) -> None:
    assert reverse("backoffice:reports") == URL
    assert alice_client.get(URL).status_code == 403
    assert alice_client.get(URL + "revenue.csv").status_code == 403
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_page_shows_a_chart_and_a_table_per_report(dataset: None, sara_client: Client) -> None:
    response = sara_client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    # The default period: the last twelve months, from the first of the month, through today.
    assert 'value="2025-12-01"' in body and 'value="2026-11-22"' in body
    for section in ("enrollments", "pass-rates", "time-to-qualify", "revenue", "trainers", "expiring"):
        assert f'id="{section}"' in body
    # Reports with data draw a named SVG and no script; the others say so plainly.
    assert body.count('<svg role="img" aria-label="') == 4
    assert "<script" not in body.split("<main", 1)[1].split("</main>", 1)[0]
    assert body.count("No data in this period.") == 2  # no exam attempts, no course sessions
    assert "Registrations and completions per month, Dec 2025 to Nov 2026: 3 registrations" in body
    assert "$1,515.00" in body  # three registrations, net
    assert 'href="/staff/certificates/' in body and "QISP-0" in body
    assert reverse("backoffice:report_csv", args=["revenue"]) + "?start=2025-12-01&amp;end=2026-11-22" in body


def test_invalid_dates_show_an_error_and_keep_what_was_typed(dataset: None, sara_client: Client) -> None:
    body = sara_client.get(URL, {"start": "2026-02-30", "end": "2026-05-31"}).content.decode()
    assert "Enter a valid date." in body and 'value="2026-02-30"' in body
    assert 'aria-invalid="true" aria-describedby="id_start_error"' in body
    assert "Correct the period above to see the reports for it." in body
    assert 'id="revenue"' not in body and 'id="expiring"' in body

    backwards = sara_client.get(URL, {"start": "2026-06-01", "end": "2026-05-01"}).content.decode()
    assert "The end date must be on or after the start date." in backwards
    assert 'value="2026-06-01"' in backwards and 'value="2026-05-01"' in backwards

    csv_response = sara_client.get(URL + "revenue.csv", {"start": "nonsense"})
    assert csv_response.status_code == 400 and "Enter a valid date." in csv_response.content.decode()


def test_a_period_at_the_end_of_the_calendar_is_refused_not_a_500(dataset: None, sara_client: Client) -> None:
    # end=9999-12-31: the day after it overflowed (OverflowError, a 500, found by the fuzz test).
    body = sara_client.get(URL, {"start": "9999-12-31", "end": "9999-12-31"}).content.decode()
    assert "Enter a date between 1900 and 2199." in body
    csv_response = sara_client.get(URL + "revenue.csv", {"start": "2026-01-01", "end": "9999-12-31"})
    assert (
        csv_response.status_code == 400
        and "Enter a date between 1900 and 2199." in csv_response.content.decode()
    )


def test_an_empty_period_says_so(dataset: None, sara_client: Client) -> None:
    body = sara_client.get(URL, {"start": "2020-01-01", "end": "2020-03-31"}).content.decode()
    assert body.count("No data in this period.") == 5
    assert body.count('<svg role="img"') == 1  # only the expiring certificates, counted from today


def test_csv_download(dataset: None, sara_client: Client) -> None:
    response = sara_client.get(URL + "revenue.csv", {"start": "2026-03-01", "end": "2026-04-30"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="revenue-2026-03-01-to-2026-04-30.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["month", "program", "fee_code", "fee", "amount"]
    assert rows[1][:3] == ["2026-03-01", "QISP", "registration"] and rows[1][4] == "1515.00"
    assert len(rows) == 2

    enrollments = list(csv.reader(io.StringIO(sara_client.get(URL + "enrollments.csv").content.decode())))
    assert enrollments[0] == ["month", "registrations", "completions", "new_certificates", "renewals"]
    assert ["2026-03-01", "3", "0", "0", "0"] in enrollments and [
        "2026-05-01",
        "0",
        "3",
        "0",
        "0",
    ] in enrollments

    expiring = list(csv.reader(io.StringIO(sara_client.get(URL + "expiring.csv").content.decode())))
    assert expiring[0] == ["number", "holder", "program", "expires_on"]
    assert [row[0] for row in expiring[1:]] == ["QISP-0", "QISP-1", "QISP-2"] and expiring[1][
        3
    ] == "2026-12-01"

    assert sara_client.get(URL + "nothing.csv").status_code == 404


def test_csv_cells_cannot_become_spreadsheet_formulas(programs: None, sara: User) -> None:
    qisp = Program.objects.get(code="QISP")
    holder = make_person("x@example.com", first_name="=HYPERLINK(1)", last_name="Evil")
    certificate(qisp, holder, "QISP-9", date(2026, 12, 5))
    body = client_for(sara, mfa=True).get(URL + "expiring.csv").content.decode()
    assert "'=HYPERLINK(1) Evil" in body


def test_page_queries_do_not_grow_with_the_data(
    dataset: None, sara: User, django_assert_max_num_queries: object
) -> None:
    client = client_for(sara, mfa=True)
    client.get(URL)  # warm up (session, sites)
    with django_assert_max_num_queries(30) as small:  # type: ignore[operator]
        client.get(URL)
    qisp = Program.objects.get(code="QISP")
    for i in range(10, 25):
        enr = enrollment(qisp, f"more{i}@example.com", pt(2026, 4, 1, 10), done=pt(2026, 6, 1, 10))
        _paid_order(qisp, enr.user, "registration", pt(2026, 4, 1, 10))
        certificate(qisp, enr.user, f"QISP-{i}", date(2026, 12, 10), source=Source.COMPLETION)
    with django_assert_max_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        client.get(URL)
