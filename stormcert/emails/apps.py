from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "stormcert.emails"
    label = "emails"
