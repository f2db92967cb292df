from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "communities"
    verbose_name = _("安置社区")

    def ready(self):
        from .roles import sync_roles_after_migrate

        # Runs after every app's permissions exist, so later apps' models are covered.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="communities_role_groups")
