from django.apps import AppConfig


class TrainersConfig(AppConfig):
    name = "stormcert.trainers"
    label = "trainers"
    verbose_name = "Trainers of Record"
