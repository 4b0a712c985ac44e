from django.urls import path

from stormcert.backoffice import report_views, views

app_name = "backoffice"
urlpatterns = [
    # People: the candidate record and the staff actions on it.
    path("staff/people/", views.people, name="people"),
    path("staff/people/<int:pk>/", views.person, name="person"),
    # Reports (report_views.py).
    path("staff/reports/", report_views.index, name="reports"),
    path("staff/reports/<slug:slug>.csv", report_views.download, name="report_csv"),
]
