from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "stormcert.certificates"
    label = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        # Completing an enrollment issues the certificate; profile changes refresh the directory.
        from stormcert.certificates import integrations  # noqa: F401
