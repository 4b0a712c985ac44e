from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "stormcert.exams"
    label = "exams"
    verbose_name = "Exams"

    def ready(self) -> None:
        # Registers how accommodations settle when two accounts are merged.
        from stormcert.exams import merging  # noqa: F401
