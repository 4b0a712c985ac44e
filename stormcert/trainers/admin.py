from __future__ import annotations

from django.contrib import admin

from stormcert.audit.admin_mixins import AuditedAdmin
from stormcert.trainers.models import AgreementVersion, ApplicationCycle, TrainerContent, TrainerTerm


@admin.register(TrainerTerm)
class TrainerTermAdmin(AuditedAdmin):
    list_display = ["user", "program", "starts_on", "ends_on", "ended_on", "source"]
    list_filter = ["program", "starts_on"]
    search_fields = ["user__email", "user__last_name"]
    raw_id_fields = ["user"]
    # Ending a term goes through Staff → Trainers of Record → End term (trainers.services.end_term)
    # so the ToR certificate and later terms end with it; the admin only shows the result.
    readonly_fields = ["ended_on", "end_reason", "certificate"]


@admin.register(AgreementVersion)
class AgreementVersionAdmin(AuditedAdmin):
    list_display = ["title", "version", "effective_from", "program"]


@admin.register(ApplicationCycle)
class ApplicationCycleAdmin(AuditedAdmin):
    list_display = ["title", "program", "opens_at", "closes_at", "notice_on"]
    list_filter = ["program"]


@admin.register(TrainerContent)
class TrainerContentAdmin(AuditedAdmin):
    """Course information, orientations and renewal meetings, per trainer program and year:
    a new row for each year's item (its `effective_from`); who completed it is on its staff page."""

    list_display = ["title", "kind", "program", "effective_from", "meeting_at"]
    list_filter = ["program", "kind"]
