from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "communities"
    verbose_name = _("安置社区")
    # The 工作台's and the side menu's order (relocation.admin_site): the daily work first.
    admin_menu = (
        "household",
        "person",
        "settlement",
        "building",
        "gridunit",
        "tenhouseholdgroup",
        "region",
        "readauditentry",
    )

    def ready(self):
        from .models import Settlement
        from .roles import sync_roles_after_migrate
        from .scope import forget_visible_settlements

        # A settlement written in a request is in (or out of) its scope at once.
        for signal in (post_save, post_delete):
            signal.connect(
                forget_visible_settlements, sender=Settlement, dispatch_uid="visible_settlements"
            )

        # Runs after every app's permissions exist, so later apps' models are covered.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="communities_role_groups")
