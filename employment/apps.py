from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmploymentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "employment"
    verbose_name = _("就业与收入")
    # The 工作台's and the side menu's order (relocation.admin_site): the daily work first.
    admin_menu = (
        "employmentrecord",
        "householdincome",
        "trainingcourse",
        "trainingattendance",
        "jobposting",
        "referral",
        "employer",
        "insuranceclaim",
        "businessloan",
        "monitoringline",
    )

    def ready(self):
        # The labour-force rules stay here; the core's Person and Household
        # QuerySets get them when this app loads (communities imports no satellite).
        from communities.models import Household, Person
        from communities.plugins import add_queryset_methods

        from .querysets import LabourHouseholdQuerySetMixin, LabourPersonQuerySetMixin

        add_queryset_methods(Person, LabourPersonQuerySetMixin)
        add_queryset_methods(Household, LabourHouseholdQuerySetMixin)
