from django.urls import path

from stormcert.renewals import views

app_name = "renewals"
urlpatterns = [
    # Under /qualification/ so the main navigation marks "Qualification" as the current page.
    path("qualification/renewal/", views.renewal, name="renewal"),
    path("qualification/renewal/<str:number>/renew/", views.start, name="start"),
]
