"""Services and culture: places and events (indicators).

INDICATORS.md "Public services …" (facilities by kind, standard coverage,
teachers, medical staff, funding) in the section 服务保障, and "Culture"
(activities by kind, participants, honours by kind, safety trainings and fire
drills) in the section 文化.

Counting rules, written once here and in the indicator descriptions:

* A facility is a stock: it counts on the reference date when it is 在用 and
  opened on or before that date.  It is counted once, at the settlement it
  stands in; the settlements it also serves (always of the same county: the
  admin and the import refuse another county's settlement) do not count it
  again, so a county's or prefecture's total is the number of facilities, not
  facility-settlement pairs.
* Coverage of the service standard is per settlement: a facility serving
  several settlements gives its kind to each of them.  A settlement comes
  under the latest standard (year on or before the reference date's year) of
  its prefecture, else of its province; settlements under no standard are
  left out of the rate.
* Activities count in the period by their date, honours by the date awarded,
  funds by the date allocated (first and last day of the period included).
"""

from django.apps import apps
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Settlement
from relocation.dashboards import bydate, links
from relocation.dashboards.changes import changed, household_settlements, related
from relocation.dashboards.registry import DOWN, NEUTRAL, PERCENT, UP, Indicator, registry

from ..models.places import (
    ACTIVITY_KINDS,
    FACILITY_KINDS,
    HONOUR_KINDS,
    Activity,
    ActivityKind,
    Facility,
    FacilityKind,
    FundedProject,
    FundingSource,
    Honour,
    HonourKind,
    ServiceStandard,
    in_use_q,
    settlement_coverage,
)

FACILITY_CODES = {code for code, _label in FACILITY_KINDS}
ACTIVITY_CODES = {code for code, _label in ACTIVITY_KINDS}
HONOUR_CODES = {code for code, _label in HONOUR_KINDS}

FACILITY_COMPONENTS = tuple(f"facility_{code}" for code, _l in FACILITY_KINDS) + ("facility_other",)
ACTIVITY_COMPONENTS = tuple(f"activity_{code}" for code, _l in ACTIVITY_KINDS) + ("activity_other",)
HONOUR_COMPONENTS = tuple(f"honour_{code}" for code, _l in HONOUR_KINDS) + ("honour_other",)
FUNDING_COMPONENTS = tuple(f"funding_{value}" for value in FundingSource.values)

OTHER = _("其他")


def _component(prefix, code, known):
    return f"{prefix}_{code if code in known else 'other'}"


def _add(figures, settlement_id, component, value):
    row = figures.setdefault(settlement_id, {})
    row[component] = row.get(component, 0) + (value or 0)


# --- facilities and the service standard (stocks) ---------------------------------------


def facility_changes(since):
    facilities = changed(Facility, since)
    ids = related(Facility.history.model, "settlement_id", facilities)
    # Settlements a changed facility serves or served.
    served = Facility.also_serves.through
    ids |= related(served, "settlement_id", facilities, lookup="facility_id")
    # … including those it no longer serves (the history of the link table).
    served_history = apps.get_model("services", "HistoricalFacility_also_serves")
    ids |= related(served_history, "settlement_id", facilities, lookup="facility_id")
    ids |= related(Facility, "settlement_id", changed(FacilityKind, since), lookup="kind_id")
    # A changed standard moves every settlement of its region.
    for code in changed(ServiceStandard, since, "region_id"):
        prefix = code[:2] if code[2:] == "0000" else code[:4]
        ids |= set(
            Settlement.objects.filter(county__code__startswith=prefix).values_list("pk", flat=True)
        )
    ids.discard(None)
    return ids


@registry.source(
    "service_places",
    components=(
        *FACILITY_COMPONENTS,
        "facilities",
        "teachers",
        "medical_staff",
        "standard_settlements",
        "standard_covered",
        "standard_lacking",
    ),
    changes=facility_changes,
    watch=(Facility, FacilityKind, ServiceStandard),
)
def service_places(settlements, window):
    on_date = window.reference_date
    figures = {}
    rows = (
        Facility.objects.filter(in_use_q(on_date), settlement__in=settlements)
        .values("settlement_id", "kind__code")
        .annotate(n=Count("pk"), teachers=Sum("teachers"), medical=Sum("medical_staff"))
        .order_by()
    )
    for row in rows:
        sid = row["settlement_id"]
        _add(figures, sid, _component("facility", row["kind__code"], FACILITY_CODES), row["n"])
        _add(figures, sid, "facilities", row["n"])
        _add(figures, sid, "teachers", row["teachers"])
        _add(figures, sid, "medical_staff", row["medical"])
    counties = dict(settlements.values_list("pk", "county_id"))
    coverage = settlement_coverage(list(counties), on_date, counties)
    for sid, (_standard, required, present) in coverage.items():
        _add(figures, sid, "standard_settlements", 1)
        _add(figures, sid, "standard_covered" if required <= present else "standard_lacking", 1)
    return figures


# --- funds, activities and honours (flows) -----------------------------------------------


def flow_changes(since):
    ids = related(FundedProject.history.model, "settlement_id", changed(FundedProject, since))
    ids |= related(Activity.history.model, "settlement_id", changed(Activity, since))
    ids |= related(Activity, "settlement_id", changed(ActivityKind, since), lookup="kind_id")
    households = related(Honour.history.model, "household_id", changed(Honour, since))
    households |= related(Honour, "household_id", changed(HonourKind, since), lookup="kind_id")
    ids |= household_settlements(households)
    ids.discard(None)
    return ids


@registry.source(
    "service_flows",
    components=(
        *FUNDING_COMPONENTS,
        "funding_total",
        "funded_projects",
        *ACTIVITY_COMPONENTS,
        "activities",
        "activity_participants",
        *HONOUR_COMPONENTS,
        "honours",
    ),
    changes=flow_changes,
    flow=True,
    watch=(FundedProject, Activity, ActivityKind, Honour, HonourKind),
)
def service_flows(settlements, window):
    def in_period(model, date_field, path, *group, **aggregates):
        rows = model.objects.filter(
            bydate.within(date_field, window), **{f"{path}__in": settlements}
        )
        return rows.values(f"{path}_id", *group).annotate(**aggregates).order_by()

    figures = {}
    funds = in_period(
        FundedProject, "allocated_on", "settlement", "source", n=Count("pk"), amount=Sum("amount")
    )
    for row in funds:
        sid = row["settlement_id"]
        _add(figures, sid, f"funding_{row['source']}", row["amount"])
        _add(figures, sid, "funding_total", row["amount"])
        _add(figures, sid, "funded_projects", row["n"])
    activities = in_period(
        Activity, "held_on", "settlement", "kind__code", n=Count("pk"), people=Sum("participants")
    )
    for row in activities:
        sid = row["settlement_id"]
        _add(figures, sid, _component("activity", row["kind__code"], ACTIVITY_CODES), row["n"])
        _add(figures, sid, "activities", row["n"])
        _add(figures, sid, "activity_participants", row["people"])
    honours = in_period(Honour, "awarded_on", "household__settlement", "kind__code", n=Count("pk"))
    for row in honours:
        sid = row["household__settlement_id"]
        _add(figures, sid, _component("honour", row["kind__code"], HONOUR_CODES), row["n"])
        _add(figures, sid, "honours", row["n"])
    return figures


# --- links -----------------------------------------------------------------------------


def _label_codes(kinds):
    return {**links.choice_by_label(kinds), str(OTHER): "other"}


def _facilities(area, window, label=None):
    params = {"in_use_on": window.reference_date.isoformat()}
    if label is not None:
        params["kind_code"] = _label_codes(FACILITY_KINDS).get(str(label), "other")
    return links.changelist("services.facility", area, **params)


def _period(model, field, kinds=None, code=None):
    def link(area, window, label=None):
        params = {
            f"{field}__gte": window.start.isoformat(),
            f"{field}__lte": window.reference_date.isoformat(),
        }
        if code:
            params["kind_code"] = code
        elif label is not None and kinds:
            params["kind_code"] = _label_codes(kinds).get(str(label), "other")
        return links.changelist(model, area, **params)

    return link


FUNDING_SOURCES = tuple(FundingSource.choices)


def _funds(area, window, label=None):
    params = {
        "allocated_on__gte": window.start.isoformat(),
        "allocated_on__lte": window.reference_date.isoformat(),
    }
    if label is not None:
        sources = links.choice_by_label(FUNDING_SOURCES)
        if str(label) in sources:
            params["source__exact"] = sources[str(label)]
    return links.changelist("services.fundedproject", area, **params)


def _lacking(area, window):
    return links.changelist("services.settlementcoverage", area, coverage="lacking")


def _breakdown(prefix, kinds):
    return tuple((label, f"{prefix}_{code}") for code, label in kinds) + (
        (OTHER, f"{prefix}_other"),
    )


def _total(key, label, section, unit, description, link, component=None, **kwargs):
    """A summed count or amount (``component`` defaults to the key)."""
    kwargs.setdefault("direction", UP)
    return Indicator(
        key=key,
        label=label,
        section=section,
        unit=unit,
        total=component or key,
        description=description,
        link=link,
        **kwargs,
    )


def _by_kind(key, label, section, unit, breakdown, description, link, **kwargs):
    """A breakdown: a small table and chart, never a headline card or a table column."""
    kwargs.setdefault("direction", UP)
    return Indicator(
        key=key,
        label=label,
        section=section,
        unit=unit,
        breakdown=breakdown,
        headline=False,
        column=False,
        description=description,
        link=link,
        **kwargs,
    )


FLOW = {"basis": "flow"}
#: The measure word 个 of facilities (of settlements it is "settlements" in English).
FACILITIES = pgettext_lazy("facilities", "个")

registry.register(
    _total(
        "facilities",
        _("服务设施数"),
        "services",
        FACILITIES,
        _(
            "统计日在用（状态为“在用”且启用日期不晚于统计日）的服务设施数。"
            "每个设施只计入所在安置点一次；同时服务的本县其他安置点不重复计数。"
        ),
        _facilities,
    ),
    _by_kind(
        "facilities_by_kind",
        _("各类设施数"),
        "services",
        FACILITIES,
        _breakdown("facility", FACILITY_KINDS),
        _("统计日在用的服务设施按种类计数；管理员新增的种类计入“其他”。"),
        _facilities,
    ),
    Indicator(
        key="standard_coverage_rate",
        label=_("基本公共服务达标率"),
        section="services",
        unit=PERCENT,
        numerator="standard_covered",
        denominator="standard_settlements",
        decimals=1,
        direction=UP,
        description=_(
            "有适用服务标准的安置点中，标准要求的每类设施都具备的安置点所占比例。"
            "设施在本安置点或同时服务本安置点均算具备；适用标准为所在市（州）、否则所在省"
            "不晚于统计年度的最新标准。"
        ),
        link=_lacking,
    ),
    _total(
        "settlements_lacking_facilities",
        _("缺少达标设施的安置点"),
        "services",
        _("个"),
        _("有适用服务标准、但缺少其中至少一类设施的安置点数（目标为0）。"),
        _lacking,
        component="standard_lacking",
        direction=DOWN,
    ),
    _total(
        "teachers",
        _("教师数"),
        "services",
        _("人"),
        _("统计日在用设施登记的教师人数之和。"),
        _facilities,
    ),
    _total(
        "medical_staff",
        _("医务人员数"),
        "services",
        _("人"),
        _("统计日在用设施登记的医务人员人数之和。"),
        _facilities,
    ),
    _total(
        "funding_total",
        _("投入资金（万元）"),
        "services",
        _("万元"),
        _("统计期内（期初至统计日，含首尾两日）下达的资金项目金额之和。"),
        _funds,
        decimals=2,
        direction=NEUTRAL,
        **FLOW,
    ),
    _by_kind(
        "funding_by_source",
        _("投入资金按来源（万元）"),
        "services",
        _("万元"),
        tuple((label, f"funding_{value}") for value, label in FundingSource.choices),
        _("统计期内下达的资金按来源：中央衔接资金、东西部协作、省级、市县级、社会帮扶。"),
        _funds,
        decimals=2,
        direction=NEUTRAL,
        **FLOW,
    ),
    _total(
        "activities",
        _("活动场次"),
        "culture",
        _("场"),
        _("统计期内（按活动日期，含首尾两日）举办的社区活动场次。"),
        _period("services.activity", "held_on"),
        **FLOW,
    ),
    _by_kind(
        "activities_by_kind",
        _("各类活动场次"),
        "culture",
        _("场"),
        _breakdown("activity", ACTIVITY_KINDS),
        _("统计期内的社区活动按种类计场次；管理员新增的种类计入“其他”。"),
        _period("services.activity", "held_on", ACTIVITY_KINDS),
        **FLOW,
    ),
    _total(
        "activity_participants",
        _("参与人次"),
        "culture",
        _("人次"),
        _("统计期内社区活动登记的参与人次之和。"),
        _period("services.activity", "held_on"),
        **FLOW,
    ),
    _total(
        "safety_trainings",
        _("安全培训"),
        "culture",
        _("场"),
        _("统计期内种类为“安全培训”的活动场次。"),
        _period("services.activity", "held_on", code="safety_training"),
        component="activity_safety_training",
        **FLOW,
    ),
    _total(
        "fire_drills",
        _("消防演练"),
        "culture",
        _("场"),
        _("统计期内种类为“消防演练”的活动场次。"),
        _period("services.activity", "held_on", code="fire_drill"),
        component="activity_fire_drill",
        **FLOW,
    ),
    _total(
        "honours",
        _("评选表彰"),
        "culture",
        _("项"),
        _("统计期内（按表彰日期）评出的表彰户（人）次。"),
        _period("services.honour", "awarded_on"),
        **FLOW,
    ),
    _by_kind(
        "honours_by_kind",
        _("各类评选表彰"),
        "culture",
        _("项"),
        _breakdown("honour", HONOUR_KINDS),
        _("统计期内的评选表彰按种类计数；管理员新增的种类计入“其他”。"),
        _period("services.honour", "awarded_on", HONOUR_KINDS),
        **FLOW,
    ),
)
