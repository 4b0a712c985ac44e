from __future__ import annotations

from django import forms
from django.conf import settings

from stormcert.accounts.forms import printable_name
from stormcert.lib.uploads import SupportingPdfField


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=300,
        help_text="Kept in the audit log.",
        error_messages={"required": "Give a reason: it is kept in the audit log."},
    )


class NameChangeForm(forms.Form):
    first_name = forms.CharField(
        label="First name",
        max_length=150,
        # The same check as the profile: the reissued certificate must print every character.
        validators=[printable_name],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Give the first name as it should appear on your certificates."},
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=150,
        # The same check as the profile: the reissued certificate must print every character.
        validators=[printable_name],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": "Give the last name as it should appear on your certificates."},
    )
    reason = forms.CharField(
        label="Why should the name change?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: “I married and took my spouse’s name” or “My last name was misspelled.”",
        error_messages={"required": "Say why the name should change: staff decide from what you write here."},
    )
    document = SupportingPdfField(
        help_text=(
            "For example a marriage certificate or an ID showing the name. A PDF of up to "
            f"{settings.UPLOAD_MAX_BYTES // 1_048_576} MB; only you and program staff can open it."
        ),
    )


class NameDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("refuse", "Refuse")])
    reason = forms.CharField(
        max_length=1000,
        error_messages={
            "required": "Give the reason for the decision: the holder is told it, and it is kept in the audit log."
        },
    )
