"""Governance and monitoring: organisation (indicators).

INDICATORS.md "Governance": grids and grid workers, building heads, party
organisations and members, pairing coverage, visits and petitions.  Two
sources, each a handful of grouped queries per call whatever the number of
settlements: ``governance_org`` (stocks on the reference date) and
``governance_flows`` (counts over the period).  Rates and averages are summed
numerators over summed denominators at every level.
"""

import datetime

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Building, GridUnit, GridWorker, Household, covering_q
from relocation.dashboards import bydate, links
from relocation.dashboards.changes import changed, household_settlements, related
from relocation.dashboards.registry import DOWN, NEUTRAL, PERCENT, UP, Indicator, registry

from ..models.organisation import (
    SATISFIED,
    Cadre,
    MemberOrigin,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionState,
    Visit,
    unvisited_households,
    visit_interval_days,
)

ORG_KIND_COMPONENTS = tuple((kind, f"party_orgs_{kind}") for kind in PartyOrgKind.values)
STOCK_COMPONENTS = (
    "grid_units",
    "grid_workers",
    "building_heads",
    *(component for _kind, component in ORG_KIND_COMPONENTS),
    "party_members",
    "party_members_developed",
    "paired_cadres",
    "paired_households",
    "petitions_overdue",
    # 结对户超过N天未走访 (``unvisited_households``): no indicator shows it; the 工作清单
    # reads it, so that a province's count costs no scan of its visits.
    "pairings_unvisited",
)
FLOW_COMPONENTS = (
    "visits",
    "petitions_received",
    "petitions_resolved",
    "petition_days",
    "petitions_followed_up",
    "petitions_satisfied",
)
RESOLVED = (PetitionState.RESOLVED, PetitionState.FOLLOWED_UP)


def _count_by(qs, path, figures, **components):
    """Add ``{component: Count(...)}`` of ``qs`` grouped by the settlement at ``path``."""
    rows = qs.values(path).annotate(**components).order_by()
    for row in rows:
        settlement_id = row.pop(path)
        figures.setdefault(settlement_id, {}).update(row)


def org_changes(since):
    members = related(PartyMember, "organisation_id", changed(PartyMember, since))
    return (
        changed(GridUnit, since, "settlement_id")
        | changed(Building, since, "settlement_id")
        | changed(PartyOrganisation, since, "settlement_id")
        | related(PartyOrganisation, "settlement_id", members)
        | changed(Cadre, since, "settlement_id")
        | household_settlements(changed(Pairing, since, "household_id"))
        | household_settlements(changed(Visit, since, "household_id"))
        | changed(Petition, since, "settlement_id")
    )


@registry.source(
    "governance_org",
    components=STOCK_COMPONENTS,
    changes=org_changes,
    # Grid workers keep no history: their changes count from the next day's full refresh.
    watch=(GridUnit, Building, PartyOrganisation, PartyMember, Cadre, Pairing, Visit, Petition),
    by_dates=True,
    cost=8,
)
def governance_org(settlements, windows):
    """The stocks on each window's reference date.  Grids, grid workers and building
    heads carry no date: counted once for all.  Party organisations, members and
    pairings are counted for every date in one query each (``bydate``: the demo's and
    ``snapshot_indicators --months``' past periods, 14 dates, paid 14 pairing scans);
    unvisited pairings in one query for several dates (``unvisited_by_dates``); overdue
    petitions, one query per date."""
    shared = {}
    _count_by(
        GridUnit.objects.filter(settlement__in=settlements),
        "settlement_id",
        shared,
        grid_units=Count("pk"),
    )
    _count_by(
        GridWorker.objects.filter(grid__settlement__in=settlements),
        "grid__settlement_id",
        shared,
        grid_workers=Count("pk"),
    )
    _count_by(
        Building.objects.filter(settlement__in=settlements).exclude(head_name=""),
        "settlement_id",
        shared,
        building_heads=Count("pk"),
    )
    last = max(window.reference_date for window in windows)

    def founded(day):
        return Q(founded_on__isnull=True) | Q(founded_on__lte=day)

    def joined(day):
        return Q(joined_on__isnull=True) | Q(joined_on__lte=day)

    def on(day, condition):
        return bydate.per_date_only(windows, condition(day))

    figures = {window.reference_date: {} for window in windows}
    dated = (
        (
            PartyOrganisation.objects.filter(
                bydate.where(windows, founded, founded(last)), settlement__in=settlements
            ),
            "settlement_id",
            lambda day: {
                component: Count("pk", filter=Q(kind=kind) & on(day, founded))
                for kind, component in ORG_KIND_COMPONENTS
            },
        ),
        (
            PartyMember.objects.filter(
                bydate.where(windows, joined, joined(last)),
                active=True,
                organisation__settlement__in=settlements,
            ),
            "organisation__settlement_id",
            lambda day: {
                "party_members": Count("pk", filter=on(day, joined)),
                "party_members_developed": Count(
                    "pk", filter=Q(origin=MemberOrigin.DEVELOPED) & on(day, joined)
                ),
            },
        ),
        (
            Pairing.objects.filter(
                bydate.where(windows, covering_q, Q(start_date__lte=last)),
                household__settlement__in=settlements,
            ),
            "household__settlement_id",
            lambda day: {
                "paired_cadres": Count("cadre", distinct=True, filter=on(day, covering_q)),
                "paired_households": Count("household", distinct=True, filter=on(day, covering_q)),
            },
        ),
    )
    for qs, path, counts in dated:
        rows = qs.values(path).annotate(**bydate.per_date(windows, counts)).order_by()
        bydate.add_rows(figures, rows, path, windows)
    for day, counts in unvisited_by_dates(settlements, list(figures)).items():
        for settlement_id, n in counts.items():
            figures[day].setdefault(settlement_id, {})["pairings_unvisited"] = n
    for window in windows:
        day = window.reference_date
        _count_by(
            Petition.objects.filter(settlement__in=settlements).overdue(day),
            "settlement_id",
            figures[day],
            petitions_overdue=Count("pk"),
        )
        for settlement_id, values in shared.items():
            figures[day].setdefault(settlement_id, {}).update(values)
    return lambda window: figures[window.reference_date]


def unvisited_by_dates(settlements, days):
    """{day: {settlement id: 结对户超过N天未走访}}: the rule of ``unvisited_households`` for
    several days in one query per ``MASK_DATES`` days, each day a bit of a mask (``bydate``):
    per household, the days a pairing of it is open and the days it had a visit in the N
    days up to them; a household counts on the days of the first and not of the second.
    At 500,000 households and 14 days, ``governance_org`` took 8.0 s with a query per
    day, 5.2 s so.  A single day (the nightly refresh) is counted by the rule itself,
    faster there: 0.10–0.14 s against 0.47–0.60 s at 100,000 households.  The test
    ``test_unvisited_by_dates_is_the_rule`` holds both to the rule, day by day."""
    days = sorted(set(days))
    if len(days) == 1:
        households = unvisited_households(
            Household.objects.filter(settlement__in=settlements), days[0]
        )
        rows = households.values("settlement_id").annotate(n=Count("pk")).order_by()
        return {days[0]: dict(rows.values_list("settlement_id", "n"))}
    found = {day: {} for day in days}
    since = datetime.timedelta(days=visit_interval_days())
    quote = connection.ops.quote_name
    # Each summed once: PostgreSQL otherwise inlines them and, in a parallel plan, every
    # worker sums them all again (8.0 → 6.7 s instead of 5.2 s at 500,000 households).
    materialized = " MATERIALIZED" if connection.vendor == "postgresql" else ""
    for first in range(0, len(days), bydate.MASK_DATES):
        chunk = days[first : first + bydate.MASK_DATES]
        paired = (
            Pairing.objects.filter(
                Q(end_date__isnull=True) | Q(end_date__gte=chunk[0]),
                household__settlement__in=settlements,
                start_date__lte=chunk[-1],
            )
            .annotate(_days=bydate.mask([covering_q(day) for day in chunk]))
            .values("household_id", "_days")
            .order_by()
        )
        visited = (
            Visit.objects.filter(
                household__settlement__in=settlements,
                visited_on__gt=chunk[0] - since,
                visited_on__lte=chunk[-1],
            )
            .annotate(
                _days=bydate.mask(
                    [Q(visited_on__gt=day - since, visited_on__lte=day) for day in chunk]
                )
            )
            .values("household_id", "_days")
            .order_by()
        )
        paired_sql, paired_params = paired.query.sql_with_params()
        visited_sql, visited_params = visited.query.sql_with_params()
        household = quote(Household._meta.db_table)
        sql = (
            f"WITH p AS{materialized} (SELECT r.household_id, BIT_OR(r._days) AS m FROM ({paired_sql}) r "
            "GROUP BY r.household_id), "
            f"v AS{materialized} (SELECT r.household_id, BIT_OR(r._days) AS m FROM ({visited_sql}) r "
            "GROUP BY r.household_id) "
            f"SELECT h.{quote('settlement_id')}, "
            f"{bydate.bit_sums(['(p.m & ~COALESCE(v.m, 0))'], len(chunk))} "
            f"FROM p JOIN {household} h ON h.{quote('id')} = p.household_id "
            "LEFT JOIN v ON v.household_id = p.household_id "
            f"GROUP BY h.{quote('settlement_id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*paired_params, *visited_params])
            for settlement_id, *counts in cursor.fetchall():
                for day, count in zip(chunk, counts, strict=True):
                    if count:
                        found[day][settlement_id] = count
    return found


def flow_changes(since):
    return household_settlements(changed(Visit, since, "household_id")) | changed(
        Petition, since, "settlement_id"
    )


@registry.source(
    "governance_flows",
    components=FLOW_COMPONENTS,
    changes=flow_changes,
    flow=True,
    watch=(Visit, Petition),
    by_dates=True,
)
def governance_flows(settlements, windows):
    """Visits and petitions dated in each window: one query per kind of date for all the
    windows (``bydate.add_flows``: the demo's and ``snapshot_indicators``' periods)."""
    figures = {bydate.span(window): {} for window in windows}
    petitions = Petition.objects.filter(settlement__in=settlements)
    flows = (
        (
            Visit.objects.filter(household__settlement__in=settlements),
            "household__settlement_id",
            "visited_on",
            lambda on: {"visits": Count("pk", filter=on)},
        ),
        (
            petitions,
            "settlement_id",
            "received_on",
            lambda on: {"petitions_received": Count("pk", filter=on)},
        ),
        (
            petitions.filter(state__in=RESOLVED),
            "settlement_id",
            "closed_on",
            lambda on: {
                "petitions_resolved": Count("pk", filter=on),
                "petition_days": Sum("handling_days", filter=on),
            },
        ),
        (
            petitions.filter(state=PetitionState.FOLLOWED_UP),
            "settlement_id",
            "followed_up_on",
            lambda on: {
                "petitions_followed_up": Count("pk", filter=on),
                "petitions_satisfied": Count("pk", filter=on & Q(satisfaction__in=SATISFIED)),
            },
        ),
    )
    for qs, path, field, aggregates in flows:
        bydate.add_flows(figures, qs, path, field, windows, aggregates)
    return lambda window: figures[bydate.span(window)]


def _list(model, **params):
    return lambda area, window: links.changelist(model, area, **params)


def _period(model, field):
    return lambda area, window: links.changelist(
        model,
        area,
        **{
            f"{field}__gte": window.start.isoformat(),
            f"{field}__lte": window.reference_date.isoformat(),
        },
    )


ORG_KINDS = tuple(PartyOrgKind.choices)


def _org_kind_link(area, window, label=None):
    kind = links.choice_by_label(ORG_KINDS).get(str(label)) if label is not None else None
    params = {"kind__exact": kind} if kind else {}
    return links.changelist("governance.partyorganisation", area, **params)


def _count(key, label, unit, description, *, link=None, direction=NEUTRAL, basis="stock", **kw):
    return Indicator(
        key=key,
        label=label,
        section="governance",
        unit=unit,
        total=key,
        description=description,
        link=link,
        direction=direction,
        basis=basis,
        **kw,
    )


PERSONS, HOUSEHOLDS = _("人"), _("户")
#: The measure word 个, which English says by its noun (of settlements: "settlements").
GRID_UNITS = pgettext_lazy("grid units", "个")
ORGANISATIONS = pgettext_lazy("party organisations", "个")

registry.register(
    _count(
        "grid_units",
        _("网格数"),
        GRID_UNITS,
        _("安置点划分的网格个数。"),
        link=_list("communities.gridunit"),
    ),
    _count(
        "grid_workers",
        _("网格员数"),
        PERSONS,
        _("各网格登记的网格员人数（专职和兼职）。"),
        link=_list("communities.gridunit"),  # workers are edited on their grid
        direction=UP,
    ),
    Indicator(
        key="households_per_grid_worker",
        label=_("户均网格员负担"),
        section="governance",
        unit=_("户/人"),
        numerator="households",
        denominator="grid_workers",
        decimals=1,
        direction=DOWN,
        description=_("搬迁户数 ÷ 网格员数：每名网格员平均服务的户数；没有网格员时为“—”。"),
    ),
    _count(
        "building_heads",
        _("楼栋长数"),
        PERSONS,
        _("已登记楼栋长的楼栋数（每栋一名楼栋长）。"),
        link=_list("communities.building"),
        direction=UP,
    ),
    Indicator(
        key="party_orgs_by_kind",
        label=_("党组织数"),
        section="governance",
        unit=ORGANISATIONS,
        breakdown=tuple((label, f"party_orgs_{kind}") for kind, label in PartyOrgKind.choices),
        headline=False,
        column=False,
        description=_("统计日已成立的党组织，按街道党工委、社区党委、党总支、党支部、党小组分列。"),
        link=_org_kind_link,
    ),
    _count(
        "party_members",
        _("党员数"),
        PERSONS,
        _("统计日在册、入党日期不晚于统计日的党员人数（含随搬迁转入和搬迁后发展）。"),
        link=_list("governance.partymember", active__exact="1"),
    ),
    _count(
        "party_members_developed",
        _("发展党员数"),
        PERSONS,
        _("党员中搬迁后在安置社区发展入党的人数。"),
        link=_list("governance.partymember", active__exact="1", origin__exact="developed"),
        direction=UP,
    ),
    _count(
        "paired_cadres",
        _("结对干部数"),
        PERSONS,
        _("统计日有结对中（已开始、未结束）帮扶关系的干部人数。"),
        link=_list("governance.cadre", active__exact="1"),
        direction=UP,
    ),
    _count(
        "paired_households",
        _("结对户数"),
        HOUSEHOLDS,
        _("统计日至少有一名干部结对帮扶的搬迁户数。"),
        link=_list("governance.pairing", open="yes"),
        direction=UP,
    ),
    Indicator(
        key="pairing_rate",
        label=_("结对覆盖率"),
        section="governance",
        unit=PERCENT,
        numerator="paired_households",
        denominator="households",
        decimals=2,
        direction=UP,
        description=_("结对户数 ÷ 搬迁户数。"),
        link=lambda area, window: links.households(area, pairing="none"),
    ),
    _count(
        "visits",
        _("走访次数"),
        _("次"),
        _("统计期内（期初至统计日）帮扶干部和网格员走访搬迁户的次数。"),
        link=_period("governance.visit", "visited_on"),
        direction=UP,
        basis="flow",
    ),
    _count(
        "petitions_received",
        _("利益诉求受理数"),
        _("件"),
        _("统计期内受理的利益诉求和矛盾纠纷件数。"),
        link=_period("governance.petition", "received_on"),
        basis="flow",
    ),
    _count(
        "petitions_resolved",
        _("利益诉求办结数"),
        _("件"),
        _("统计期内办结（已办结或已回访）的件数，不论受理于何时；不予受理的不计。"),
        direction=UP,
        basis="flow",
    ),
    Indicator(
        key="petition_resolution_rate",
        label=_("利益诉求办结率"),
        section="governance",
        unit=PERCENT,
        numerator="petitions_resolved",
        denominator="petitions_received",
        decimals=2,
        basis="flow",
        direction=UP,
        description=_("统计期内办结件数 ÷ 统计期内受理件数；没有受理时为“—”。"),
    ),
    Indicator(
        key="petition_avg_days",
        label=_("平均办理天数"),
        section="governance",
        unit=_("天"),
        numerator="petition_days",
        denominator="petitions_resolved",
        decimals=1,
        basis="flow",
        direction=DOWN,
        description=_("统计期内办结的诉求，受理日期至办结日期天数之和 ÷ 办结件数。"),
    ),
    _count(
        "petitions_overdue",
        _("超期诉求数"),
        _("件"),
        _("统计日仍在受理或办理中、且已过办结期限（受理日期＋类别办理时限）的件数。"),
        link=_list("governance.petition", overdue="yes"),
        direction=DOWN,
    ),
    Indicator(
        key="petition_satisfaction",
        label=_("回访满意率"),
        section="governance",
        unit=PERCENT,
        numerator="petitions_satisfied",
        denominator="petitions_followed_up",
        decimals=2,
        basis="flow",
        direction=UP,
        description=_("统计期内回访的诉求中，评价为满意或基本满意的件数 ÷ 回访件数。"),
        link=_period("governance.petition", "followed_up_on"),
    ),
)
