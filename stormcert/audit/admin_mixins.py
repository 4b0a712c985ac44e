"""Admin edits are staff actions: each needs a reason and writes an audit event."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.forms.models import model_to_dict
from django.http import HttpRequest

from stormcert.audit.services import record
from stormcert.lib.http import client_ip


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required. Kept in the audit log with what changed.",
    )


class AuditedAdmin(admin.ModelAdmin):
    """Records before/after and the stated reason for every add, change and delete."""

    form: type[forms.ModelForm] = ReasonForm

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        before = model_to_dict(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = model_to_dict(obj)
        diff = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and k != "id"}
        record(
            actor=request.user,
            verb=f"admin.{'changed' if change else 'added'}",
            obj=obj,
            data={"changes": _plain(diff)},
            reason=form.cleaned_data.get("change_reason", ""),
            ip_address=client_ip(request),
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        reason = form.cleaned_data.get("change_reason", "")
        for obj in formset.deleted_objects:
            record(
                actor=request.user,
                verb="admin.deleted",
                obj=obj,
                reason=reason,
                ip_address=client_ip(request),
            )
            obj.delete()
        for obj in instances:
            is_new = obj.pk is None
            obj.save()
            record(
                actor=request.user,
                verb=f"admin.{'added' if is_new else 'changed'}",
                obj=obj,
                data={"values": _plain(model_to_dict(obj))},
                reason=reason,
                ip_address=client_ip(request),
            )
        formset.save_m2m()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record(
            actor=request.user,
            verb="admin.deleted",
            obj=obj,
            data={"values": _plain(model_to_dict(obj))},
            ip_address=client_ip(request),
        )
        super().delete_model(request, obj)


def _plain(value: Any) -> Any:
    """Make admin form values storable as JSON (model instances become their text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    return str(value)
