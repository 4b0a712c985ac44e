from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from stormcert.lib.wallclock import CalendarDateField, WallClockDateTimeField
from stormcert.trainers.applications import CriterionSpec
from stormcert.trainers.models import Criterion, Delivery


class CycleForm(forms.Form):
    title = forms.CharField(max_length=200)
    rfq_text = forms.CharField(
        label="Request for Qualifications", widget=forms.Textarea(attrs={"rows": 10}), help_text="Markdown."
    )
    rfq_document = forms.FileField(label="RFQ document (PDF)", required=False)
    opens_at = WallClockDateTimeField(
        label="Opens", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Pacific time."
    )
    closes_at = WallClockDateTimeField(
        label="Closes (deadline)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Pacific time. Statements submitted after this moment are refused.",
    )
    notice_on = CalendarDateField(
        label="Selection notice date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Every applicant is emailed their result on this day.",
    )
    soq_fee = forms.DecimalField(
        label="SOQ submittal fee ($)", min_value=Decimal("0"), decimal_places=2, max_digits=8
    )
    resubmittal_fee = forms.DecimalField(
        label="Resubmittal fee ($)",
        min_value=Decimal("0"),
        decimal_places=2,
        max_digits=8,
        help_text="The lower fee for applicants not selected in an earlier cycle.",
    )
    criteria = forms.CharField(
        label="Review criteria",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line: name | weight | highest score. Example: Training experience | 3 | 5",
    )

    def clean_criteria(self) -> list[CriterionSpec]:
        specs = []
        for number, line in enumerate(self.cleaned_data["criteria"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
                raise forms.ValidationError(f"Line {number}: write “name | weight | highest score”.")
            if int(parts[1]) < 1 or int(parts[2]) < 1:
                raise forms.ValidationError(f"Line {number}: weight and highest score are at least 1.")
            specs.append(CriterionSpec(parts[0], int(parts[1]), int(parts[2])))
        if not specs:
            raise forms.ValidationError("Give at least one criterion.")
        return specs


class ApplicationForm(forms.Form):
    experience = forms.CharField(
        label="Industrial stormwater experience",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Years, roles and the kinds of facilities you have worked with.",
    )
    teaching = forms.CharField(
        label="Training and teaching experience", widget=forms.Textarea(attrs={"rows": 5})
    )
    certifications = forms.CharField(
        label="Other certifications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example a professional engineering license or a stormwater certification.",
    )
    regions = forms.CharField(label="Where you would teach", max_length=300, help_text="Cities or regions.")
    delivery = forms.ChoiceField(
        label="How you would teach", choices=Delivery.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, draft: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft

    def full_clean(self) -> None:
        """A draft may be incomplete (submission checks completeness with a full sentence), but
        the fields stay required, so the page marks only the truly optional one "(optional)"."""
        super().full_clean()
        if not self.draft or not hasattr(self, "cleaned_data"):
            return
        errors = self.errors  # set by the full_clean above: no second clean
        for name in list(errors):
            if name in self.fields and all(e.code == "required" for e in errors[name].as_data()):
                del errors[name]
                self.cleaned_data[name] = ""


class DocumentForm(forms.Form):
    label = forms.CharField(
        max_length=120, label="What it is", help_text="For example “Résumé” or “Sample training materials”."
    )
    file = forms.FileField(
        label="PDF file", widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"})
    )


class ConflictForm(forms.Form):
    conflict = forms.ChoiceField(
        label="Do you have a conflict of interest with this applicant?",
        choices=[("no", "No"), ("yes", "Yes")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="If yes, describe it", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScoreForm(forms.Form):
    def __init__(self, *args: Any, criteria: list[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for c in criteria:
            self.fields[f"c{c.pk}"] = forms.IntegerField(
                label=f"{c.name} (0 to {c.max_score}, weight {c.weight})",
                min_value=0,
                max_value=c.max_score,
                help_text=c.description,
            )
        self.fields["comment"] = forms.CharField(
            label="Comment for staff", required=False, widget=forms.Textarea(attrs={"rows": 3})
        )

    def scores(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"c{c.pk}"] for c in self.criteria}


class AssignForm(forms.Form):
    reviewer = forms.ChoiceField(label="Reviewer")

    def __init__(self, *args: Any, reviewers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewer"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type for mypy
        field.choices = [("", "Choose a reviewer"), *((str(r.pk), f"{r} ({r.email})") for r in reviewers)]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("selected", "Select"), ("not_selected", "Do not select")], widget=forms.RadioSelect
    )
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class AgreementForm(forms.Form):
    typed_name = forms.CharField(label="Type your full name to sign", max_length=200)
    confirm = forms.BooleanField(label="I have read the Compliance Agreement and agree to it.")


class HowForm(forms.Form):
    how = forms.ChoiceField(
        label="How did you take part?",
        choices=[("attended", "I attended it"), ("viewed", "I viewed the recording")],
        widget=forms.RadioSelect,
    )


class EndTermForm(forms.Form):
    ended_on = forms.DateField(
        label="Ends on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The term stops counting from this day (empty: today). Later terms end too.",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit log and shown when the ToR certificate is verified.",
    )


class BulkAssignForm(forms.Form):
    method = forms.ChoiceField(
        label="How to choose reviewers",
        choices=[
            ("balanced", "Balanced: reviewers with the fewest assignments in this cycle first"),
            ("random", "Random: a shuffle (the preview's draw is the one made)"),
        ],
        initial="balanced",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))
    # The shuffle's seed, drawn for the preview and sent back with the confirmation, so the
    # assignment made is the one previewed.
    seed = forms.IntegerField(required=False, widget=forms.HiddenInput)
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)


class AttendanceForm(forms.Form):
    email = forms.EmailField(label="Their email address")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))
