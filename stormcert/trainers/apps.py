from django.apps import AppConfig


class TrainersConfig(AppConfig):
    name = "stormcert.trainers"
    label = "trainers"
    verbose_name = "Trainers of Record"

    def ready(self) -> None:
        # Registers the payment fulfilments this app provides.
        from stormcert.trainers import integrations  # noqa: F401
