"""Governance and monitoring indicators: monitoring (section 防返贫监测).

Components per settlement, one grouped query each whatever the number of settlements:

* **monitored households** on the reference date D: records identified (县级审定
  纳入) on or before D and not removed by D — by category and by risk type (the
  national code's first two digits; a household with two risk types counts under
  both);
* **risk eliminated**: records whose risk was eliminated in the period (flow);
* **open alerts** on D by rule kind: raised on or before D and not yet closed on D
  (closed = reviewed as 纳入监测 / 已排除, or closed by the scan when the cause
  disappeared; 已核实 stays open);
* **overdue identifications**: procedures (identification or removal) still under
  way on D more than 15 days after their lead (as the records stand today: a
  past period counts a procedure closed since then as it was left).
"""

from django.db.models import Count
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from relocation.dashboards import bydate, links
from relocation.dashboards.changes import changed, household_settlements, related
from relocation.dashboards.registry import DOWN, NEUTRAL, UP, Indicator, registry

from ..models.monitoring import (
    EarlyWarningAlert,
    MonitoringCategory,
    MonitoringRecord,
    MonitoringRisk,
    RuleKind,
    monitored_q,
    open_alert_q,
    overdue_q,
)

SECTION = "monitoring"
SETTLEMENT = "household__settlement_id"

CATEGORY_COMPONENTS = {value: f"monitored_{value}" for value in MonitoringCategory.values}
# First two digits of the national code: 02 gathers every natural disaster.
RISK_GROUPS = (
    ("01", _("因病")),
    ("02", _("因自然灾害")),
    ("03", _("因残")),
    ("04", _("因缺劳动力")),
    ("05", _("因意外事故")),
    ("06", _("因产业项目失败")),
    ("07", _("因务工就业不稳")),
    ("09", _("因学")),
    ("99", _("其他")),
)
RISK_COMPONENTS = {code: f"monitored_risk_{code}" for code, _label in RISK_GROUPS}
ALERT_COMPONENTS = {value: f"open_alerts_{value}" for value in RuleKind.values}


def _per_settlement(rows, key, component, figures):
    for row in rows:
        figures.setdefault(row[key], {})[component(row)] = row["n"]


def monitoring_changes(since):
    households = changed(MonitoringRecord, since, "household_id")
    households |= related(
        MonitoringRecord, "household_id", changed(MonitoringRisk, since, "record_id")
    )
    households |= changed(EarlyWarningAlert, since, "household_id")
    return household_settlements(households)


@registry.source(
    "monitoring",
    components=(
        *CATEGORY_COMPONENTS.values(),
        *RISK_COMPONENTS.values(),
        *ALERT_COMPONENTS.values(),
        "monitored_households",
        "open_alerts",
        "overdue_identifications",
    ),
    changes=monitoring_changes,
    watch=(MonitoringRecord, MonitoringRisk, EarlyWarningAlert),
)
def monitoring(settlements, window):
    day = window.reference_date
    figures = {}
    records = MonitoringRecord.objects.filter(household__settlement__in=settlements)
    by_category = (
        records.filter(monitored_q(day)).values(SETTLEMENT, "category").annotate(n=Count("pk"))
    )
    _per_settlement(
        by_category.order_by(), SETTLEMENT, lambda r: CATEGORY_COMPONENTS[r["category"]], figures
    )
    by_risk = (
        MonitoringRisk.objects.filter(
            monitored_q(day, "record__"), record__household__settlement__in=settlements
        )
        .annotate(group=Substr("code", 1, 2))
        .values("record__household__settlement_id", "group")
        .annotate(n=Count("record_id", distinct=True))
        .order_by()
    )
    _per_settlement(
        by_risk, "record__household__settlement_id", lambda r: RISK_COMPONENTS[r["group"]], figures
    )
    alerts = (
        EarlyWarningAlert.objects.filter(open_alert_q(day), household__settlement__in=settlements)
        .values(SETTLEMENT, "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    _per_settlement(alerts, SETTLEMENT, lambda r: ALERT_COMPONENTS[r["kind"]], figures)
    overdue = records.filter(overdue_q(day)).values(SETTLEMENT).annotate(n=Count("pk")).order_by()
    _per_settlement(overdue, SETTLEMENT, lambda r: "overdue_identifications", figures)
    for values in figures.values():
        values["monitored_households"] = sum(values.get(c, 0) for c in CATEGORY_COMPONENTS.values())
        values["open_alerts"] = sum(values.get(c, 0) for c in ALERT_COMPONENTS.values())
    return figures


def removal_changes(since):
    return household_settlements(changed(MonitoringRecord, since, "household_id"))


@registry.source(
    "monitoring_flows",
    components=("risk_eliminated",),
    changes=removal_changes,
    flow=True,
    watch=(MonitoringRecord,),
    by_dates=True,
)
def monitoring_flows(settlements, windows):
    figures = {bydate.span(window): {} for window in windows}
    bydate.add_flows(
        figures,
        MonitoringRecord.objects.filter(
            household__settlement__in=settlements, risk_eliminated=True
        ),
        SETTLEMENT,
        "removed_on",
        windows,
        lambda on: {"risk_eliminated": Count("pk", filter=on)},
    )
    return lambda window: figures[bydate.span(window)]


# --- drill-down links ----------------------------------------------------------------------


def _records(area, **params):
    return links.changelist(RECORDS, area, **params)


def _dated_link(model, date_param, choices=(), item_param=None):
    """Link to ``model``'s list on the reference date; a breakdown item adds its own filter."""

    def link(area, window, label=None):
        params = {date_param: window.reference_date.isoformat()}
        value = links.choice_by_label(choices).get(str(label)) if label else None
        if value:
            params[item_param] = value
        return links.changelist(model, area, **params)

    return link


RECORDS = "governance.monitoringrecord"
_monitored_link = _dated_link(
    RECORDS, "monitored_on", MonitoringCategory.choices, "category__exact"
)
_risk_link = _dated_link(RECORDS, "monitored_on", RISK_GROUPS, "risk_group")
_alerts_link = _dated_link(
    "governance.earlywarningalert", "open_on", RuleKind.choices, "kind__exact"
)


registry.register(
    Indicator(
        key="monitored_households",
        label=_("监测对象户数"),
        section=SECTION,
        unit=_("户"),
        total="monitored_households",
        direction=NEUTRAL,
        description=_("统计日已经县级审定纳入监测、尚未风险消除的户数。"),
        link=_monitored_link,
    ),
    Indicator(
        key="monitored_households_by_kind",
        label=_("监测对象户数（按类别）"),
        section=SECTION,
        unit=_("户"),
        breakdown=tuple(
            (label, CATEGORY_COMPONENTS[value]) for value, label in MonitoringCategory.choices
        ),
        direction=NEUTRAL,
        headline=False,
        column=False,
        description=_("统计日在监测中的户数，按脱贫不稳定户、边缘易致贫户、突发严重困难户分列。"),
        link=_monitored_link,
    ),
    Indicator(
        key="monitored_households_by_risk",
        label=_("监测对象户数（按风险类型）"),
        section=SECTION,
        unit=_("户"),
        breakdown=tuple((label, RISK_COMPONENTS[code]) for code, label in RISK_GROUPS),
        direction=NEUTRAL,
        headline=False,
        column=False,
        description=_(
            "统计日在监测中的户数，按风险类型（国家编码前两位，02含各类自然灾害）分列；"
            "一户有多种风险的分别计入。"
        ),
        link=_risk_link,
    ),
    Indicator(
        key="risk_eliminated",
        label=_("风险消除户数"),
        section=SECTION,
        unit=_("户"),
        total="risk_eliminated",
        basis="flow",
        direction=UP,
        description=_("统计期内（期初至统计日）经县级审定风险消除的户数。"),
        link=lambda area, window: _records(
            area,
            removed_on__gte=window.start.isoformat(),
            removed_on__lte=window.reference_date.isoformat(),
        ),
    ),
    Indicator(
        key="open_alerts",
        label=_("待处理预警"),
        section=SECTION,
        unit=_("条"),
        total="open_alerts",
        direction=DOWN,
        description=_("统计日尚未处理完毕（新预警、已核实）的预警条数。"),
        link=_alerts_link,
    ),
    Indicator(
        key="open_alerts_by_rule",
        label=_("待处理预警（按规则类型）"),
        section=SECTION,
        unit=_("条"),
        breakdown=tuple((label, ALERT_COMPONENTS[value]) for value, label in RuleKind.choices),
        direction=DOWN,
        headline=False,
        column=False,
        description=_("统计日尚未处理完毕的预警，按预警规则类型分列。"),
        link=_alerts_link,
    ),
    Indicator(
        key="overdue_identifications",
        label=_("逾期未办结的识别和风险消除"),
        section=SECTION,
        unit=_("户"),
        total="overdue_identifications",
        direction=DOWN,
        description=_(
            "识别纳入或风险消除程序自线索登记起超过15天仍未办结的户数（按记录当前状态）。"
        ),
        link=lambda area, window: _records(area, overdue=window.reference_date.isoformat()),
    ),
)
