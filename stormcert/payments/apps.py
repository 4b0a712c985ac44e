from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "stormcert.payments"
    label = "payments"
    verbose_name = "Orders and payments"

    def ready(self) -> None:
        from stormcert.emails.attachments import register
        from stormcert.payments.receipts import receipt_for_number

        # The payment confirmation email carries the receipt, made when the email is sent.
        register("receipt", receipt_for_number)
