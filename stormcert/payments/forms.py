from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from stormcert.lib.wallclock import CalendarDateField
from stormcert.payments.models import OrderStatus, Payment


class ManualPaymentForm(forms.Form):
    reference = forms.CharField(label="Check number or PO reference", max_length=100)
    amount = forms.DecimalField(
        label="Amount received ($)", max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    received_on = CalendarDateField(label="Received on", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label="Reason / note", widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log."
    )


class PaymentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Payment) -> str:
        reference = f" {obj.provider_id}" if obj.provider_id else ""
        return f"{obj.get_provider_display()}{reference}: ${obj.amount} (up to ${obj.refundable_amount()} refundable)"


class RefundForm(forms.Form):
    payment = PaymentChoiceField(queryset=Payment.objects.none(), label="Payment to refund", empty_label=None)
    amount = forms.DecimalField(
        label="Amount to refund ($)", max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")
    override_nonrefundable = forms.BooleanField(
        required=False, label="Refund although the fee is non-refundable (the reason must say why)"
    )

    def __init__(self, *args: Any, payments: list[Payment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payment"].queryset = Payment.objects.filter(pk__in=[p.pk for p in payments])  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *OrderStatus.choices], required=False)
    item = forms.CharField(label="Item (fee code)", required=False)
    since = CalendarDateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = CalendarDateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label="Order number or email", required=False)
