from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "stormcert.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from stormcert.accounts.roles import sync_roles

        # Permissions exist only after migrate has run, so the groups are synced then.
        post_migrate.connect(sync_roles, dispatch_uid="stormcert.sync_roles")
