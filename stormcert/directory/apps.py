from typing import Any

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "stormcert.directory"
    label = "directory"
    verbose_name = "Qualification Directory"

    def ready(self) -> None:
        from django.core.cache import cache
        from django.db.models.signals import post_delete, post_save

        from stormcert.directory.queries import PROGRAMS_KEY
        from stormcert.programs.models import Program

        # The directory caches the program labels; a change to a program clears them (a cache
        # invalidation, not domain flow).
        def forget(**kwargs: Any) -> None:
            cache.delete(PROGRAMS_KEY)

        post_save.connect(forget, sender=Program, dispatch_uid="directory-programs-saved", weak=False)
        post_delete.connect(forget, sender=Program, dispatch_uid="directory-programs-deleted", weak=False)
