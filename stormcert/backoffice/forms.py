from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from stormcert.backoffice import imports
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
        help_text="UTF-8, with a header line naming the columns; you match them to the fields next. "
        "Dates month first (MM/DD/YYYY) or YYYY-MM-DD.",
    )


class ColumnMappingForm(forms.Form):
    """For each field of an import, the file's column it comes from (or none). Whether the
    choices give what an import needs is the import's rule (imports.mapping_problems): its
    reasons land on the fields they concern, and every choice made is kept."""

    NAME_FIELDS = imports.NAME_FIELDS
    HELP = {
        "name": "One column with the whole name (“Maria Garcia” or “Garcia, Maria”).",
        "first_name": "Or first name and last name columns: they are joined as “First Last”.",
        "email": "The person's address on file; they claim their records with it.",
        "certificate_number": "Kept as it is; empty for a record still in progress.",
        "program": "A program's code, short name or one of its other names.",
        "issued_on": "Month first: MM/DD/YYYY or M/D/YYYY; also YYYY-MM-DD or “Nov 29, 2028”.",
        "expires_on": "Same forms as the issue date; may be empty in a row.",
        "status": "active, expired, revoked or in progress.",
        "progress": "Step codes done in the earlier system, separated by “;”.",
    }

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header = header
        self.mapping: dict[str, int] = {}
        choices = [("", "(not in this file)")] + [
            (str(i), f"{imports.letter(i)}: {name or '(no name)'}") for i, name in enumerate(header)
        ]
        for name in imports.FIELDS:
            self.fields[name] = forms.ChoiceField(
                label=imports.LABELS[name],
                choices=choices,
                required=False,
                help_text=self.HELP.get(name, ""),
            )
            self.fields[name].error_messages["invalid_choice"] = "Choose one of the file's columns."

    def required_fields(self) -> tuple[str, ...]:
        return imports.REQUIRED

    def name_group(self) -> list[forms.BoundField]:
        return [self[name] for name in self.NAME_FIELDS]

    def other_group(self) -> list[tuple[forms.BoundField, bool]]:
        return [(self[n], n in imports.REQUIRED) for n in imports.FIELDS if n not in self.NAME_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        self.mapping = {name: int(data[name]) for name in imports.FIELDS if data.get(name)}
        for name, problem in imports.mapping_problems(self.mapping, self.header).items():
            self.add_error(name or None, problem[0].upper() + problem[1:] + ".")
        return data


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
