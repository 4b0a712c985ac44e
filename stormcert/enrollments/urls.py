from django.urls import path

from stormcert.enrollments import views

app_name = "enrollments"
urlpatterns = [
    path("qualification/<str:code>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("qualification/<str:code>/self-assessment/", views.self_assessment, name="self_assessment"),
    path("qualification/<str:code>/register/", views.register, name="register"),
    path("qualification/<str:code>/resolve/", views.resolve, name="resolve"),
    path("staff/enrollments/", views.staff_enrollments, name="staff_list"),
    path("staff/enrollments/self-directed/", views.staff_self_directed, name="staff_self_directed"),
    path("staff/enrollments/<int:pk>/", views.staff_detail, name="staff_detail"),
]
