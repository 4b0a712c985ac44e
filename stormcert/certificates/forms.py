from __future__ import annotations

from django import forms


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=300,
        help_text="Kept in the audit log.",
        error_messages={"required": "Give a reason: it is kept in the audit log."},
    )
