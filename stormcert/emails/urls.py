from django.urls import path

from stormcert.emails import views

app_name = "emails"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:pk>/", views.message_detail, name="message"),
]
