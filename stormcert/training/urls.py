from django.urls import path

from stormcert.training import views

app_name = "training"
urlpatterns = [
    path("<slug:code>/", views.course, name="course"),
    path("<slug:code>/lessons/<int:lesson_id>/", views.lesson, name="lesson"),
    path("<slug:code>/lessons/<int:lesson_id>/complete/", views.complete, name="complete"),
    path("<slug:code>/lessons/<int:lesson_id>/document/", views.lesson_file, name="file"),
    path("<slug:code>/lessons/<int:lesson_id>/progress/", views.report, name="progress"),
]
