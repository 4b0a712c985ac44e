from django.urls import path

from stormcert.backoffice import report_views, rules_views, views

app_name = "backoffice"
urlpatterns = [
    # People: the candidate record and the staff actions on it.
    path("staff/people/", views.people, name="people"),
    path("staff/people/<int:pk>/", views.person, name="person"),
    # Records from the earlier system: imports, and claims staff decide.
    path("staff/imports/", views.imports_home, name="imports"),
    path("staff/imports/sample.csv", views.import_sample, name="import_sample"),
    path("staff/imports/<int:pk>/", views.import_run, name="import_run"),
    path("staff/imports/<int:pk>/columns/", views.import_columns, name="import_columns"),
    path("staff/imports/<int:pk>/check/", views.import_check, name="import_check"),
    path("staff/imports/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("staff/imports/<int:pk>/report.csv", views.import_report, name="import_report"),
    path("staff/claims/", views.claims, name="claims"),
    path("staff/claims/<int:pk>/decide/", views.claim_decide, name="claim_decide"),
    # Reports (report_views.py).
    path("staff/reports/", report_views.index, name="reports"),
    path("staff/reports/<slug:slug>.csv", report_views.download, name="report_csv"),
    # Rules editor (rules_views.py): rule versions and fees, previewed before saving.
    path("staff/programs/", rules_views.programs, name="programs"),
    path("staff/programs/<str:code>/rules/new/", rules_views.rules_new, name="rules_new"),
    path("staff/programs/<str:code>/fees/new/", rules_views.fee_new, name="fee_new"),
]
