from django.urls import path

from stormcert.directory import views

app_name = "directory"
urlpatterns = [
    path("directory/", views.directory, name="search"),
    path("directory/export.csv", views.export_csv, name="export_csv"),
    path("directory/export.json", views.export_json, name="export_json"),
    path("verify/", views.verify_lookup, name="verify_lookup"),
    path("verify/batch/", views.verify_batch, name="verify_batch"),
    path("verify/<str:number>/", views.verify_page, name="verify"),
]
