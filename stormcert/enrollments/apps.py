from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "stormcert.enrollments"
    label = "enrollments"
    verbose_name = "Enrollments (the candidate's journey)"

    def ready(self) -> None:
        # Registers the payment fulfilments and the training hooks this app provides.
        from stormcert.enrollments import integrations  # noqa: F401
