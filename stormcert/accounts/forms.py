from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from stormcert.accounts.models import Profile, User
from stormcert.lib.fonts import describe, unprintable


def printable_name(value: str) -> None:
    """A name the certificate can print, or an error naming the characters it cannot (rather than
    a certificate that silently leaves them out)."""
    missing = unprintable(value)
    if missing:
        raise forms.ValidationError(
            "The certificate cannot print %(characters)s. Please write the name without %(them)s, "
            "or with the nearest letters the certificate can print.",
            code="unprintable",
            params={"characters": describe(missing), "them": "them" if len(missing) > 1 else "it"},
        )


def name_field(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        max_length=150,
        label=label,
        validators=[printable_name],
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
    )


class LoginForm(AllauthLoginForm):
    """allauth's sign-in; says when password sign-in is paused so the page can offer a code."""

    @property
    def password_sign_in_paused(self) -> bool:
        if not self.is_bound or self.is_valid():
            return False
        return any(error.code == "password_sign_in_paused" for error in self.non_field_errors().as_data())


class SignupForm(AllauthSignupForm):
    """allauth's sign-up with the name a certificate will carry."""

    first_name = name_field("First name", "given-name")
    last_name = name_field("Last name", "family-name")
    field_order = ["first_name", "last_name", "email", "password1", "password2"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_name"].help_text = "As it should appear on your certificate."

    def try_save(self, request: HttpRequest) -> Any:
        if self.account_already_exists:
            # allauth makes no account here, so skips hashing the password; hash it anyway so the
            # answer takes as long as a real sign-up and its timing does not tell the address is taken.
            make_password(self.cleaned_data.get("password1"))
        return super().try_save(request)


class ProfileForm(forms.ModelForm):
    first_name = name_field("First name", "given-name")
    last_name = name_field("Last name", "family-name")

    class Meta:
        model = Profile
        fields = [
            "company",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "show_contact_in_directory",
        ]
        widgets = {
            "company": forms.TextInput(attrs={"autocomplete": "organization"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "state": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }

    field_order = ["first_name", "last_name"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        kwargs["initial"] = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = "Digits, spaces, dashes and parentheses, e.g. (916) 555-0142."

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        digits = [c for c in phone if c.isdigit()]
        if phone and (len(digits) < 7 or any(c not in "0123456789 +-().x" for c in phone)):
            raise forms.ValidationError("Enter a phone number with at least 7 digits, e.g. (916) 555-0142.")
        return phone

    def clean_postal_code(self) -> str:
        code: str = self.cleaned_data["postal_code"].strip()
        if code and not (len(code) in (5, 10) and code.replace("-", "").isdigit()):
            raise forms.ValidationError("Enter a ZIP code like 95814 or 95814-1234.")
        return code


class ClaimLinkForm(forms.Form):
    certificate_number = forms.CharField(
        max_length=40,
        label="Certificate number",
        help_text="As printed on your earlier certificate, e.g. Q-2019-00123.",
    )
    email_on_file = forms.EmailField(
        label="Email address the earlier system had",
        help_text="We send a link there; opening it proves the record is yours.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class ClaimRequestForm(forms.Form):
    certificate_number = forms.CharField(max_length=40, required=False, label="Certificate number")
    email_on_file = forms.EmailField(required=False, label="Email address the earlier system had")
    explanation = forms.CharField(
        label="Why the link cannot reach you",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: the address was at a former employer. Staff may ask for proof of identity.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("certificate_number") and not data.get("email_on_file"):
            raise forms.ValidationError(
                "Give the certificate number, or the email address the earlier system had."
            )
        return data
