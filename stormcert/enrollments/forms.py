from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from stormcert.enrollments.models import LicenseType, SelfAssessmentQuestion
from stormcert.lib.uploads import UploadRefused, check_pdf
from stormcert.programs.lookup import qualification_programs
from stormcert.programs.models import PolicyVersion, Program


class SelfAssessmentForm(forms.Form):
    def __init__(self, *args: Any, questions: list[SelfAssessmentQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                help_text=question.help,
                choices=[(i, c["label"]) for i, c in enumerate(question.choices)],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose one answer."},
            )

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"q{q.pk}"] for q in self.questions}


class AcknowledgeForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have read the documents listed for this step.",
        error_messages={"required": "Tick the box to confirm you have read them."},
    )


class MigratePolicyForm(forms.Form):
    version = forms.ModelChoiceField(queryset=PolicyVersion.objects.none(), label="Move to the rules")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")

    def __init__(self, *args: Any, program: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = PolicyVersion.objects.filter(program=program)  # type: ignore[attr-defined]


class SelfDirectedForm(forms.Form):
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        label="Program",
        empty_label="Choose a program",
        error_messages={
            "required": "Choose the program.",
            "invalid_choice": "Choose one of the programs listed.",
        },
    )
    email = forms.EmailField(label="Account email", help_text="The person must have an account.")
    license_type = forms.ChoiceField(choices=LicenseType.choices)
    license_number = forms.CharField(max_length=40)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programs = qualification_programs(public_only=False).order_by("name")
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        if len(programs) == 1:
            self.fields["program"].initial = programs[0].pk


OTHER_STATE = "other"


class SelfDirectedApplicationForm(forms.Form):
    """A candidate's application for the self-directed route: the license kinds and the state come
    from the program's rules (`RouteOffer`), never from code."""

    license_type = forms.ChoiceField(
        label="Kind of license",
        error_messages={
            "required": "Choose the kind of license you hold.",
            "invalid_choice": "Choose one of the licenses listed.",
        },
    )
    license_number = forms.CharField(
        label="License number",
        max_length=40,
        error_messages={"required": "Give your license number: staff check it with the licensing board."},
    )
    license_state = forms.ChoiceField(
        label="Where is your license registered?",
        widget=forms.RadioSelect,
        error_messages={"required": "Say where your license is registered."},
    )
    document = forms.FileField(
        label="A document that shows your license (PDF)",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        error_messages={"required": "Attach a PDF that shows your license."},
    )

    def __init__(self, *args: Any, offer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.fields["license_type"].choices = [("", "Choose your license")] + [  # type: ignore[attr-defined]
            (k.code, k.label) for k in offer.kinds
        ]
        self.fields["license_state"].choices = [  # type: ignore[attr-defined]
            (offer.state, offer.state),
            (OTHER_STATE, "Another state or country"),
        ]
        self.fields["license_state"].help_text = f"Only a license registered in {offer.state} qualifies."
        self.fields["document"].help_text = (
            "For example your license certificate or the licensing board's lookup page saved as a PDF, "
            f"up to {settings.UPLOAD_MAX_BYTES // 1_048_576} MB; only you and program staff can open it."
        )

    def clean_license_state(self) -> str:
        state = str(self.cleaned_data["license_state"])
        if state != self.offer.state:
            raise forms.ValidationError(
                f"The self-directed route is open only to professionals registered in {self.offer.state}; "
                "a license from another state does not qualify. You can qualify by the training and exams instead."
            )
        return state

    def clean_document(self) -> Any:
        upload = self.cleaned_data["document"]
        try:
            check_pdf(upload)
        except UploadRefused as exc:
            raise forms.ValidationError(f"{exc} Choose the file again.") from None
        return upload


class DecideApplicationForm(forms.Form):
    """The staff queue's decision: plain text, the service says what is missing."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("refuse", "Refuse")], required=False)
    reason = forms.CharField(required=False, strip=False)
