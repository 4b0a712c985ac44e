from django.urls import path

from stormcert.certificates import views

app_name = "certificates"
urlpatterns = [
    path("certificates/", views.mine, name="mine"),
    path("certificates/<str:number>/certificate.pdf", views.pdf, name="pdf"),
    path("certificates/<str:number>/credential.jwt", views.credential, name="credential"),
    path("credentials/issuers/<str:code>.json", views.issuer, name="issuer"),
    path("credentials/achievements/<str:code>.json", views.achievement, name="achievement"),
    path("credentials/revocations/<str:code>.json", views.revocations, name="revocations"),
    path(".well-known/jwks.json", views.jwks_view, name="jwks"),
    path("staff/certificates/", views.staff_list, name="staff_list"),
    path("staff/certificates/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/certificates/<int:pk>/revoke/", views.staff_revoke, name="staff_revoke"),
    path("staff/certificates/<int:pk>/reinstate/", views.staff_reinstate, name="staff_reinstate"),
]
