from django.urls import path

from stormcert.courses import views

app_name = "courses"

urlpatterns = [
    path("courses/", views.calendar, name="calendar"),
    path("courses/calendar.json", views.calendar_json, name="calendar_json"),
    path("courses/calendar.ics", views.calendar_ics, name="calendar_ics"),
    path("courses/<int:pk>/", views.session_detail, name="session"),
    path("courses/<int:pk>/event.ics", views.session_ics, name="session_ics"),
    path("courses/<int:pk>/register/", views.register, name="register"),
    path("courses/<int:pk>/take-seat/", views.switch, name="switch"),
    path("courses/seats/<int:seat_id>/accept/", views.accept_offer, name="accept_offer"),
    path("courses/seats/<int:seat_id>/cancel/", views.cancel_seat, name="cancel_seat"),
    path("courses/seats/<int:seat_id>/survey/", views.survey, name="survey"),
    path("teach/", views.mine, name="mine"),
    path("teach/new/", views.new_session, name="new"),
    path("teach/<int:pk>/edit/", views.edit_session, name="edit"),
    path("teach/<int:pk>/cancel/", views.cancel_session, name="cancel"),
    path("teach/<int:pk>/plan/", views.plan, name="plan"),
    path("teach/<int:pk>/roster/", views.roster, name="roster"),
    path("teach/<int:pk>/sign-in.pdf", views.sign_in_pdf, name="sign_in_pdf"),
    path("staff/courses/plans/", views.staff_plans, name="staff_plans"),
    path("staff/courses/plans/<int:pk>/", views.staff_decide, name="staff_decide"),
    path("staff/courses/surveys/", views.staff_surveys, name="staff_surveys"),
    # Sessions whose trainer lost standing: reassign or cancel.
    path("staff/courses/trainer-queue/", views.staff_queue, name="staff_queue"),
    path("staff/courses/trainer-queue/<int:pk>/", views.staff_queue_session, name="staff_queue_session"),
    path(
        "staff/courses/trainer-queue/<int:pk>/reassign/",
        views.staff_queue_reassign,
        name="staff_queue_reassign",
    ),
    path(
        "staff/courses/trainer-queue/<int:pk>/cancel/",
        views.staff_queue_cancel,
        name="staff_queue_cancel",
    ),
]
