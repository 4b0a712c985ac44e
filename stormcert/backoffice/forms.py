from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from stormcert.enrollments.models import LicenseType
from stormcert.exams.models import FACTOR_MAX, FACTOR_MIN
from stormcert.lib.wallclock import CalendarDateField

REASON_HELP = "Kept in the audit log."


def reason_field() -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP)


class PeopleSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Name, email or certificate number")


class ExtendWindowForm(forms.Form):
    enrollment = forms.TypedChoiceField(coerce=int, label="Enrollment")
    last_day = CalendarDateField(
        label="New last day",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Access runs through this day.",
    )
    reason = reason_field()

    def __init__(self, *args: Any, enrollments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].choices = [(e.pk, str(e.program)) for e in enrollments]  # type: ignore[attr-defined]


class GrantAttemptForm(forms.Form):
    exam = forms.ChoiceField(label="Exam")
    reason = reason_field()

    def __init__(self, *args: Any, exams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exam"].choices = exams  # type: ignore[attr-defined]


class AccommodationForm(forms.Form):
    factor = forms.DecimalField(
        min_value=FACTOR_MIN,
        max_value=FACTOR_MAX,
        decimal_places=2,
        initial=Decimal("1.50"),
        label="Time factor",
        help_text="1.5 is time and a half; applies to every exam started from now on.",
    )
    reason = reason_field()


class SelfDirectedForm(forms.Form):
    """Record a qualification by the self-directed route, in the qualification program chosen
    (the choice is preset when the site runs only one)."""

    program = forms.ChoiceField(label="Program")
    license_type = forms.ChoiceField(choices=LicenseType.choices)
    license_number = forms.CharField(max_length=40)
    reason = reason_field()

    def __init__(self, *args: Any, programs: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {p.code: p for p in programs}
        field = self.fields["program"]
        field.choices = [(p.code, f"{p.name} ({p.short_name})") for p in programs]  # type: ignore[attr-defined]
        if len(programs) == 1:
            field.initial = programs[0].code
        else:
            field.choices = [("", "Choose the program"), *field.choices]  # type: ignore[attr-defined]
        field.error_messages["required"] = "Choose the program the person qualifies in."
        field.error_messages["invalid_choice"] = "Choose one of the qualification programs listed."

    def clean_program(self) -> Any:
        return self.programs[self.cleaned_data["program"]]


class MergeForm(forms.Form):
    other = forms.EmailField(
        label="Email of the duplicate account",
        help_text="Everything it holds moves to this person; it is then closed.",
    )
    reason = reason_field()
    confirm = forms.BooleanField(
        required=False, label="I have checked that both accounts are the same person."
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, email, certificate number, program, issue date, expiry date, status, progress. "
        "UTF-8; dates as YYYY-MM-DD.",
    )


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve: join the record to the account"), ("decline", "Decline")],
        widget=forms.RadioSelect,
    )
    record = forms.CharField(
        required=False,
        max_length=40,
        label="Certificate number to join",
        help_text="Prefilled when the request names a number we hold.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Sent to the person and kept in the audit log."
    )


class SignInForm(forms.Form):
    """Stop or restore sign-in; the button says which."""

    reason = reason_field()
