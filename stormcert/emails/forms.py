from __future__ import annotations

from django import forms


class SendAgainForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why now, e.g. “the relay's password was renewed”. Kept in the audit log.",
    )
