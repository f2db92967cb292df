from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "relocation.dashboards"
    label = "dashboards"
    verbose_name = _("数据看板")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Each app declares its figures once in ``<app>/indicators.py``; importing
        # them registers them, like ``admin.py`` modules with the admin site.
        autodiscover_modules("indicators")
        from .registry import registry

        registry.check()
