from django.urls import path

from stormcert.certificates import views

app_name = "certificates"
urlpatterns = [
    path("certificates/", views.mine, name="mine"),
    path("certificates/<str:number>/certificate.pdf", views.pdf, name="pdf"),
    path("certificates/<str:number>/credential.jwt", views.credential, name="credential"),
    path("certificates/name/", views.name_change, name="name_change"),
    path("certificates/name/<int:pk>/withdraw/", views.name_change_withdraw, name="name_change_withdraw"),
    path("certificates/name/<int:pk>/document/", views.name_change_document, name="name_change_document"),
    path("credentials/issuers/<str:code>.json", views.issuer, name="issuer"),
    path("credentials/achievements/<str:code>.json", views.achievement, name="achievement"),
    path("credentials/revocations/<str:code>.json", views.revocations, name="revocations"),
    path(".well-known/jwks.json", views.jwks_view, name="jwks"),
    path("staff/certificates/", views.staff_list, name="staff_list"),
    path("staff/certificates/names/", views.staff_name_changes, name="staff_name_changes"),
    path(
        "staff/certificates/names/<int:pk>/decide/",
        views.staff_name_change_decide,
        name="staff_name_change_decide",
    ),
    path("staff/certificates/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/certificates/<int:pk>/revoke/", views.staff_revoke, name="staff_revoke"),
    path("staff/certificates/<int:pk>/reinstate/", views.staff_reinstate, name="staff_reinstate"),
]
