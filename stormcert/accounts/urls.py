from django.urls import path

from stormcert.accounts import views

app_name = "accounts"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("claim/", views.claim, name="claim"),
    path("claim/confirm/<str:token>/", views.claim_confirm, name="claim_confirm"),
]
