from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "stormcert.renewals"
    label = "renewals"
    verbose_name = "Renewals and reminders"

    def ready(self) -> None:
        # Registers the renewal payment fulfilment and the review-module training hooks.
        from stormcert.renewals import integrations  # noqa: F401
