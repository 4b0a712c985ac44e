from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "stormcert.exams"
    label = "exams"
    verbose_name = "Exams"
