from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "stormcert.payments"
    label = "payments"
    verbose_name = "Orders and payments"
