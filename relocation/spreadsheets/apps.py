from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SpreadsheetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "relocation.spreadsheets"
    label = "spreadsheets"
    verbose_name = _("表格导入导出")

    def ready(self):
        from .permissions import create_extra_permissions

        post_migrate.connect(create_extra_permissions, dispatch_uid="spreadsheets_permissions")
        # Each app declares its file kinds in ``<app>/spreadsheets.py``.
        from .kinds import discover

        discover()
