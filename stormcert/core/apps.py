from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "stormcert.core"
    label = "core"

    def ready(self) -> None:
        # The next steps after a paid order and a finished course (core.next_steps).
        from stormcert.core import integrations  # noqa: F401
