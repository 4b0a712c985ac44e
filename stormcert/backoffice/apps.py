from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "stormcert.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
