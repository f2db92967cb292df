"""Spreadsheet layouts of governance lists that have no import kind, with Chinese headers.

The 预警信息 list (and the 工作清单's 待处理预警) exports what its page shows: the
admin hands over its scoped, filtered queryset, and the member, detail and exclusion
reason of an alert about a member's health are masked unless the exporting user may see
personal data (``EarlyWarningAlert.told``), as on the list, the alert's page and its history;
shown in clear, the member's health is recorded in the read audit.
"""

from django.utils.translation import gettext_lazy as _
from import_export import fields

from communities.resources import MaskingResource
from relocation.accounts.names import display_name

from .models import EarlyWarningAlert


class AlertResource(MaskingResource):
    household = fields.Field(attribute="household__number", column_name=_("户编号"))
    settlement = fields.Field(attribute="household__settlement__name", column_name=_("安置点"))
    kind = fields.Field(column_name=_("预警类型"))
    person = fields.Field(column_name=_("涉及成员"))
    detail = fields.Field(column_name=_("预警内容"))
    state = fields.Field(column_name=_("状态"))
    raised_on = fields.Field(attribute="raised_on", column_name=_("预警日期"))
    days_open = fields.Field(column_name=_("已等待天数"))
    cause_gone_on = fields.Field(attribute="cause_gone_on", column_name=_("原因消失日期"))
    reviewed_by = fields.Field(column_name=_("处理人"))
    reviewed_on = fields.Field(attribute="reviewed_on", column_name=_("处理日期"))
    reason = fields.Field(column_name=_("排除理由"))

    class Meta:
        model = EarlyWarningAlert
        name = _("预警信息")
        fields = (
            "household",
            "settlement",
            "kind",
            "person",
            "detail",
            "state",
            "raised_on",
            "days_open",
            "cause_gone_on",
            "reviewed_by",
            "reviewed_on",
            "reason",
        )

    def audited_reads(self, obj):
        return obj.health_reads()

    def _told(self, obj, value):
        return obj.told(value, self.reveal_sensitive) or ""

    def dehydrate_kind(self, obj):
        return self._choice(obj, "kind")

    def dehydrate_state(self, obj):
        return self._choice(obj, "state")

    def dehydrate_person(self, obj):
        return self._told(obj, obj.person.name if obj.person_id else "")

    def dehydrate_detail(self, obj):
        return self._told(obj, obj.detail)

    def dehydrate_reason(self, obj):
        return self._told(obj, obj.reason)

    def dehydrate_days_open(self, obj):
        """Days since it was raised, for an alert still waiting (新预警、已核实); else empty."""
        return obj.age_days() if obj.is_open else ""

    def dehydrate_reviewed_by(self, obj):
        return display_name(obj.reviewed_by)

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("household__settlement", "person", "reviewed_by")
