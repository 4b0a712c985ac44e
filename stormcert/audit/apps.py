from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "stormcert.audit"
    label = "audit"
