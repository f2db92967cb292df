from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"
    verbose_name = _("社区治理")
    # The 工作台's and the side menu's order (relocation.admin_site): the daily work
    # first, the reference lists an administrator keeps last.
    admin_menu = (
        "monitoringrecord",
        "earlywarningalert",
        "visit",
        "pairing",
        "cadre",
        "petition",
        "partyorganisation",
        "partymember",
        "residentgroup",
        "stairleader",
        "earlywarningrule",
        "petitioncategory",
    )
