"""Report charts lay out their legends and labels so nothing overlaps: long fee names get fewer
legend columns (pygal gives every column the same width and lets a long name run into the next),
and exam labels name the form only when an exam has several."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from stormcert.backoffice.charts import _legend, pass_rate_chart, revenue_chart
from stormcert.backoffice.reports import FeeType, PassRate, Revenue, RevenueMonth


def _legend_entries(svg: str) -> list[tuple[float, str]]:
    """(x, name) of each legend entry as pygal draws it."""
    part = svg.split('class="legends"', 1)[1]
    return [(float(x), name) for x, name in re.findall(r'<text x="([\d.]+)" y="[\d.]+">([^<]*)</text>', part)]


def test_long_fee_names_get_fewer_legend_columns() -> None:
    assert _legend(["Registrations", "Completions"])["legend_at_bottom_columns"] == 2
    assert (
        _legend(["Sessions held", "Seats registered", "Attended", "Surveys answered"])[
            "legend_at_bottom_columns"
        ]
        == 4
    )
    long_names = [
        "QISP online training registration (QISP)",
        "QISP re-registration (QISP)",
        "QSD program registration (QSD)",
        "Refunds",
    ]
    assert _legend(long_names)["legend_at_bottom_columns"] == 2
    assert (
        _legend(["A fee with a name so long that it needs the whole width of the chart to itself"])[
            "legend_at_bottom_columns"
        ]
        == 1
    )


def test_the_revenue_chart_draws_its_legend_in_columns_that_fit() -> None:
    fees = [
        FeeType("QISP/registration", "QISP online training registration (QISP)"),
        FeeType("QISP/reregistration", "QISP re-registration (QISP)"),
        FeeType("QSD/registration", "QSD program registration (QSD)"),
    ]
    month = RevenueMonth(
        month=date(2026, 11, 1),
        by_fee={"QISP/registration": Decimal("505"), "QSD/registration": Decimal("790")},
        refunds=Decimal("0"),
    )
    chart = revenue_chart(Revenue(fees=fees, months=[month]))
    assert chart is not None
    entries = _legend_entries(str(chart.svg))
    assert [name for _, name in entries] == [*(f.label for f in fees), "Refunds"]
    columns = sorted({x for x, _ in entries})
    assert len(columns) == 2
    # The longest name ends before the next column starts (about 0.55 em per character at 14 px
    # in the fonts the page names; the layout itself allows 0.62).
    assert columns[0] + len(fees[0].label) * 14 * 0.55 < columns[1]


def _rate(exam_title: str, form: str, attempt: int = 1) -> PassRate:
    return PassRate(
        program="QISP",
        exam="x",
        exam_title=exam_title,
        form=form,
        form_code=form,
        attempt=attempt,
        taken=4,
        passed=3,
        timed_out=0,
    )


def test_exam_labels_name_the_form_only_when_an_exam_has_several() -> None:
    one_form = pass_rate_chart(
        [_rate("Midterm exam", "QISP sample questions"), _rate("Final exam", "QISP sample questions")]
    )
    assert one_form is not None
    svg = str(one_form.svg)
    assert ">Midterm exam<" in svg and "sample questions<" not in svg
    two_forms = pass_rate_chart([_rate("Final exam", "Form A"), _rate("Final exam", "Form B")])
    assert two_forms is not None
    assert ">Final exam · Form A<" in str(two_forms.svg)
