from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "stormcert.core"
    label = "core"
