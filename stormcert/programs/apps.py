from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "stormcert.programs"
    label = "programs"
