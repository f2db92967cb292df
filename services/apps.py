from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "services"
    verbose_name = _("公共服务")
    # The 工作台's and the side menu's order (relocation.admin_site): the daily work
    # first, the reference lists an administrator keeps last.
    admin_menu = (
        "householdright",
        "benefitrecord",
        "temporaryassistance",
        "facility",
        "settlementcoverage",
        "activity",
        "honour",
        "fundedproject",
        "collectiveasset",
        "servicestandard",
        "rightsitem",
        "rightscategory",
        "facilitykind",
        "activitykind",
        "honourkind",
    )
