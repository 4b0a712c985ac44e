"""The Django admin's door asks the same question as every other staff page.

INSTALLED_APPS names StaffAdminConfig in place of django.contrib.admin; this module is imported
while the app registry loads, so it imports no models at the top."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class StaffAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        from stormcert.lib.staff import has_staff_powers

        # Django's own test is `is_active and is_staff`: without two-factor in this session a
        # staff account is refused here too, not only by StaffMFAMiddleware's /admin/ prefix.
        return has_staff_powers(request)


class StaffAdminConfig(AdminConfig):
    default_site = "stormcert.accounts.admin_site.StaffAdminSite"
