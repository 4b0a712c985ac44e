from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from stormcert.certificates.models import Certificate, NameChangeRequest


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    """Read-only: certificates are issued by the workflows and revoked on the staff pages
    (with a reason, audited), never edited here."""

    list_display = ["number", "holder_name", "program", "issued_on", "expires_on", "source", "revoked_at"]
    list_filter = ["program", "source"]
    search_fields = ["number", "holder__email", "holder_name"]
    readonly_fields = [f.name for f in Certificate._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NameChangeRequest)
class NameChangeRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are decided on the staff queue (with a reason, audited, emailed), where
    approval also reissues the certificates; editing a row here would do neither."""

    list_display = ["person", "old_name", "first_name", "last_name", "status", "requested_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["person__email", "old_name", "last_name"]
    # The document is served only through the permission-checked view, never a media URL.
    exclude = ["document"]
    readonly_fields = [f.name for f in NameChangeRequest._meta.fields if f.name != "document"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
