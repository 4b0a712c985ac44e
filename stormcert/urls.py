from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from stormcert.accounts import views as account_views
from stormcert.api import api
from stormcert.core import health, outbox
from stormcert.core import views as core_views
from stormcert.enrollments import urls as enrollment_urls

admin.site.site_header = "stormcert administration"
admin.site.site_title = "stormcert admin"
admin.site.index_title = "Program data"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("programs/<str:code>/", core_views.program_page, name="program"),
    path("dashboard/", core_views.dashboard, name="dashboard"),
    path("help/", core_views.help_page, name="help"),
    path("help/<str:code>/", core_views.help_page, name="help"),
    path("ping/", core_views.ping, name="ping"),
    path("health/", health.health, name="health"),
    # Browsers ask for /favicon.ico whatever the page links; send them to the real one.
    path("favicon.ico", core_views.favicon),
    # The admin signs in through allauth, so two-factor applies there too.
    path("admin/login/", RedirectView.as_view(url=reverse_lazy("account_login"), query_string=True)),
    path("admin/", admin.site.urls),
    # Before allauth's own: turning on the app here also counts as two-factor for the session.
    path("accounts/2fa/totp/activate/", account_views.activate_totp, name="mfa_activate_totp"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("stormcert.accounts.urls")),
    path("staff/", core_views.staff_home, name="staff_home"),
    path("staff/outbox/", include("stormcert.emails.urls")),
    path("staff/outbox/<int:pk>/send-again/", outbox.email_send_again, name="email_send_again"),
    path("staff/audit/", include("stormcert.audit.urls")),
    path("", include("stormcert.payments.urls")),
    path("", include("stormcert.exams.urls")),
    path("", include("stormcert.courses.urls")),
    path("", include("stormcert.trainers.urls")),
    path("training/", include("stormcert.training.urls")),
    path("", include("stormcert.certificates.urls")),
    path("", include("stormcert.directory.urls")),
    path("", include("stormcert.renewals.urls")),
    path("", include("stormcert.backoffice.urls")),
    path("api/", api.urls),
    # A qualification program's page shows every app's step, so its view is core's; it keeps its
    # name in the enrollments namespace, where every redirect and link points. Last, so the fixed
    # paths under /qualification/ (accommodation, renewal) are matched before a program code.
    path(
        "",
        include(
            (
                [
                    path("qualification/", core_views.qualification_list, name="qualification"),
                    path("qualification/<str:code>/", core_views.qualification, name="qualification"),
                    *enrollment_urls.urlpatterns,
                ],
                enrollment_urls.app_name,
            )
        ),
    ),
]
