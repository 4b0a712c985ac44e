from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from stormcert.accounts.models import Profile, User
from stormcert.audit.admin_mixins import AuditedAdmin

REASON = forms.CharField(
    label="Reason for this change",
    widget=forms.Textarea(attrs={"rows": 2}),
    help_text="Required. Kept in the audit log with what changed.",
)


class UserChangeWithReason(UserChangeForm):
    change_reason = REASON

    class Meta:
        model = User
        fields = "__all__"


class UserCreationWithReason(AdminUserCreationForm):
    change_reason = REASON

    class Meta:
        model = User
        fields = ("email",)


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [ProfileInline]
    form = UserChangeWithReason
    add_form = UserCreationWithReason
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Roles and access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
        ("Audit", {"fields": ("change_reason",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2", "change_reason")}),
    )
    readonly_fields = ["last_login", "date_joined"]
