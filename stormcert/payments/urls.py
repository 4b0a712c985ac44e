from django.urls import path

from stormcert.payments import views, webhooks

app_name = "payments"
urlpatterns = [
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/pay/", views.pay, name="pay"),
    path("orders/<str:number>/card-return/", views.stripe_return, name="stripe_return"),
    path("orders/<str:number>/receipt/", views.receipt, name="receipt"),
    path("orders/<str:number>/receipt.pdf", views.receipt_download, name="receipt_pdf"),
    path("pay/test/<int:payment_id>/", views.testmode_checkout, name="testmode_checkout"),
    path("payments/stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("staff/orders/", views.staff_orders, name="staff_orders"),
    path("staff/orders/<str:number>/", views.staff_order, name="staff_order"),
    path(
        "staff/orders/<str:number>/record-payment/",
        views.staff_order_record_payment,
        name="staff_order_record_payment",
    ),
    path("staff/orders/<str:number>/refund/", views.staff_order_refund, name="staff_order_refund"),
    path("staff/orders/<str:number>/cancel/", views.staff_order_cancel, name="staff_order_cancel"),
]
