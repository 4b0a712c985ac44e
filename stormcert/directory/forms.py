from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from stormcert.certificates.models import Status
from stormcert.directory.queries import public_program_choices
from stormcert.lib.csvread import CsvLineError, csv_rows
from stormcert.lib.numbers import canonical_number, number_problem


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Name, certificate number, company or city",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    program = forms.ChoiceField(label="Program", required=False)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Status.choices])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [  # type: ignore[attr-defined]
            ("", "All programs"),
            *public_program_choices(),
        ]


class VerifyForm(forms.Form):
    number = forms.CharField(label="Certificate number", max_length=40)

    def clean_number(self) -> str:
        number = canonical_number(self.cleaned_data["number"])
        if not number:  # only invisible characters (a zero-width space, say)
            raise forms.ValidationError("Type the certificate number.")
        # "/" cannot go into the /verify/<number>/ URL (a NoReverseMatch, a 500, found by the fuzz test).
        if problem := number_problem(number):
            raise forms.ValidationError(f"No certificate is numbered like that: {problem}.")
        return number


class BatchVerifyForm(forms.Form):
    file = forms.FileField(
        label="CSV file of certificate numbers",
        help_text="One number per row, in the first column; a header row is fine.",
        error_messages={"required": "Choose a CSV file to upload."},
    )

    def clean_file(self) -> list[str]:
        upload = self.cleaned_data["file"]
        if upload.size > 1_000_000:
            raise forms.ValidationError("The file is larger than 1 MB; split it into smaller files.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text; save it as CSV (UTF-8).") from None
        numbers: list[str] = []
        try:
            for index, (_, row) in enumerate(csv_rows(text)):
                cell = canonical_number(row[0]) if row else ""
                if not cell or (index == 0 and not any(ch.isdigit() for ch in cell)):
                    continue  # blank lines and a header such as "certificate_number"
                numbers.append(cell)
        except CsvLineError as exc:
            raise forms.ValidationError(f"The file cannot be read. {exc}") from None
        if not numbers:
            raise forms.ValidationError("No certificate numbers found in the first column.")
        limit = settings.VERIFY_BATCH_MAX
        if len(numbers) > limit:
            raise forms.ValidationError(
                f"The file has {len(numbers):,} numbers; at most {limit:,} can be checked at once."
            )
        return numbers
