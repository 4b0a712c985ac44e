from django.urls import path

from stormcert.enrollments import views

app_name = "enrollments"
urlpatterns = [
    path("qualification/<str:code>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("qualification/<str:code>/self-assessment/", views.self_assessment, name="self_assessment"),
    path("qualification/<str:code>/register/", views.register, name="register"),
    path("qualification/<str:code>/resolve/", views.resolve, name="resolve"),
    path("qualification/<str:code>/self-directed/", views.self_directed, name="self_directed"),
    path(
        "qualification/self-directed/<int:pk>/document/",
        views.self_directed_document,
        name="self_directed_document",
    ),
    path(
        "staff/enrollments/self-directed/applications/",
        views.staff_self_directed_queue,
        name="staff_self_directed_queue",
    ),
    path(
        "staff/enrollments/self-directed/applications/<int:pk>/decide/",
        views.staff_self_directed_decide,
        name="staff_self_directed_decide",
    ),
    path("staff/enrollments/", views.staff_enrollments, name="staff_list"),
    path("staff/enrollments/self-directed/", views.staff_self_directed, name="staff_self_directed"),
    path("staff/enrollments/<int:pk>/", views.staff_detail, name="staff_detail"),
]
