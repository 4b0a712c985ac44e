from django.urls import path

from stormcert.trainers import views

app_name = "trainers"

# `/tor/` lists the person's trainer programs; everything about one program is under its code
# (`trainers:home` reverses to either, by whether a code is given).
urlpatterns = [
    path("tor/", views.programs, name="home"),
    path("tor/<str:code>/", views.home, name="home"),
    path("tor/<str:code>/cycles/<int:pk>/rfq.pdf", views.rfq_document, name="rfq_document"),
    path("tor/<str:code>/apply/", views.apply, name="apply"),
    path("tor/<str:code>/application/", views.application, name="application"),
    path("tor/<str:code>/application/pay/", views.pay, name="pay"),
    path("tor/<str:code>/application/documents/", views.upload, name="upload"),
    path(
        "tor/<str:code>/application/documents/<int:pk>/delete/",
        views.remove_document,
        name="remove_document",
    ),
    path("tor/<str:code>/documents/<int:pk>/", views.document, name="document"),
    path("tor/<str:code>/orientation/", views.orientation, name="orientation"),
    path("tor/<str:code>/course-information/", views.course_info, name="course_info"),
    path("tor/<str:code>/agreement/", views.agreement, name="agreement"),
    path("tor/<str:code>/content/<int:pk>/", views.content_page, name="content"),
    path("tor/<str:code>/content/<int:pk>/document.pdf", views.content_document, name="content_document"),
    path("tor/<str:code>/content/<int:pk>/attended/", views.content_attended, name="content_attended"),
    path("tor/<str:code>/renewal/meeting/", views.renewal_meeting, name="renewal_meeting"),
    path("tor/<str:code>/renewal/pay/", views.renewal_pay, name="renewal_pay"),
    path("trainers/", views.public_list, name="public_list"),
    path("review/", views.reviews, name="reviews"),
    path("review/<int:pk>/", views.review, name="review"),
    path("staff/tor/", views.staff_home, name="staff_home"),
    path("staff/tor/cycles/new/", views.staff_new_cycle, name="staff_new_cycle"),
    path("staff/tor/cycles/<int:pk>/", views.staff_cycle, name="staff_cycle"),
    path("staff/tor/cycles/<int:pk>/assign/", views.staff_assign, name="staff_assign"),
    path("staff/tor/applications/<int:pk>/", views.staff_application, name="staff_application"),
    path("staff/tor/content/<int:pk>/", views.staff_content, name="staff_content"),
    path("staff/tor/terms/<int:pk>/end/", views.staff_end_term, name="staff_end_term"),
    path("staff/tor/terms/<int:pk>/fee-notice/", views.staff_send_fee_notice, name="staff_send_fee_notice"),
    path("staff/tor/renewals/<int:pk>/confirm/", views.staff_confirm_renewal, name="staff_confirm_renewal"),
]
