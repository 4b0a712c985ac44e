from __future__ import annotations

from typing import Any

from django import forms

from stormcert.enrollments.models import LicenseType, SelfAssessmentQuestion
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
