from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "relocation.api"
    label = "api"
    verbose_name = _("数据接口")

    def ready(self):
        autodiscover_modules("api")
