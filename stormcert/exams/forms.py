from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings

from stormcert.exams.accommodations import EXPLANATION_MAX
from stormcert.exams.models import FACTOR_MAX, FACTOR_MIN
from stormcert.lib.uploads import SupportingPdfField

# The factors a candidate can pick (none above FACTOR_MAX); staff may grant any factor from
# FACTOR_MIN to FACTOR_MAX.
FACTOR_CHOICES = [
    (value, label)
    for value, label in [
        ("", "Leave it to staff"),
        ("1.25", "1.25× (a quarter more time)"),
        ("1.50", "1.5× (time and a half)"),
        ("1.75", "1.75×"),
        ("2.00", "2× (double time)"),
        ("2.50", "2.5×"),
        ("3.00", "3× (triple time)"),
    ]
    if not value or Decimal(value) <= FACTOR_MAX
]


class AccommodationRequestForm(forms.Form):
    explanation = forms.CharField(
        label="What do you need, and why?",
        max_length=EXPLANATION_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For example: “I have dyslexia and read slowly; I had 50% extra time in my college exams.”",
        error_messages={"required": "Explain what you need and why: staff decide from what you write here."},
    )
    factor = forms.TypedChoiceField(
        label="Extra time you are asking for",
        choices=FACTOR_CHOICES,
        coerce=Decimal,
        empty_value=None,
        required=False,
    )
    document = SupportingPdfField(
        help_text=(
            f"For example a letter from a doctor or school. A PDF of up to {settings.UPLOAD_MAX_BYTES // 1_048_576} MB; "
            "only program staff can open it."
        ),
    )


# The staff accommodation page's three actions, one form each. Fields are plain text: the views
# say what is wrong in the words the page has always used (the factor is parsed by `_factor`).
class GrantAccommodationForm(forms.Form):
    email = forms.CharField(required=False)
    factor = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)


class EndAccommodationForm(forms.Form):
    reason = forms.CharField(required=False, strip=False)


class DecideRequestForm(forms.Form):
    factor_range = f"{FACTOR_MIN} to {FACTOR_MAX}"  # the help text under the factor
    decision = forms.ChoiceField(choices=[("grant", "Grant"), ("decline", "Decline")], required=False)
    factor = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)


class BankUploadForm(forms.Form):
    """A question file to preview. Every field is checked by the view or the service, which say
    what is wrong in plain words; the form only keeps what staff typed."""

    bank = forms.CharField(required=False)
    file_format = forms.CharField(required=False)
    topic = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)
