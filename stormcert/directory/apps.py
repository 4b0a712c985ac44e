from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "stormcert.directory"
    label = "directory"
    verbose_name = "Qualification Directory"
