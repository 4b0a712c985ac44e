from django.urls import path

from stormcert.exams import views

app_name = "exams"
urlpatterns = [
    path("exams/attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("exams/attempts/<int:attempt_id>/answer/", views.save, name="save"),
    path("exams/attempts/<int:attempt_id>/submit/", views.submit, name="submit"),
    path("exams/attempts/<int:attempt_id>/result/", views.result, name="result"),
    # After the attempt paths, so /exams/attempts/… is never read as a program code.
    path("exams/<str:code>/<str:step_code>/", views.exam_intro, name="intro"),
    path("exams/<str:code>/<str:step_code>/start/", views.start, name="start"),
    path("qualification/accommodation/", views.accommodation, name="accommodation"),
    path(
        "qualification/accommodation/<int:pk>/withdraw/",
        views.accommodation_withdraw,
        name="accommodation_withdraw",
    ),
    path(
        "qualification/accommodation/<int:pk>/document/",
        views.accommodation_document,
        name="accommodation_document",
    ),
    path("staff/exams/", views.staff_exams, name="staff_exams"),
    path("staff/exams/banks/import/", views.staff_bank_upload, name="staff_bank_upload"),
    path("staff/exams/banks/imports/<int:pk>/", views.staff_bank_import, name="staff_bank_import"),
    path(
        "staff/exams/banks/imports/<int:pk>/import/",
        views.staff_bank_import_confirm,
        name="staff_bank_import_confirm",
    ),
    path(
        "staff/exams/banks/imports/<int:pk>/discard/",
        views.staff_bank_import_discard,
        name="staff_bank_import_discard",
    ),
    path("staff/exams/banks/<int:pk>/export/", views.staff_bank_export, name="staff_bank_export"),
    path("staff/exams/<int:exam_id>/statistics/", views.staff_stats, name="staff_stats"),
    path("staff/exams/accommodations/", views.staff_accommodations, name="staff_accommodations"),
    path(
        "staff/exams/accommodations/grant/",
        views.staff_accommodation_grant,
        name="staff_accommodation_grant",
    ),
    path(
        "staff/exams/accommodations/<int:pk>/end/",
        views.staff_accommodation_end,
        name="staff_accommodation_end",
    ),
    path(
        "staff/exams/accommodations/requests/<int:pk>/decide/",
        views.staff_accommodation_decide,
        name="staff_accommodation_decide",
    ),
]
