from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "stormcert.training"
    label = "training"
    verbose_name = "Online training"
