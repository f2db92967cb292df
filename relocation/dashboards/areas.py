"""The areas a dashboard can show, and which of them a user may see.

An area is the user's whole scope (the landing page of someone with several
areas, or everything for a superuser), a region at any level, or one
settlement.  ``figure_q`` selects its rows of ``SettlementFigure`` by the
stored county/township codes, so no join is needed.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from communities.enums import RegionLevel
from communities.models import Region, Settlement
from communities.scope import get_scope

from .engine import code_prefix_q

CHILD_LEVEL = {
    RegionLevel.PROVINCE: "prefecture",
    RegionLevel.PREFECTURE: "county",
    RegionLevel.COUNTY: "township",
    RegionLevel.TOWNSHIP: "settlement",
}
CHILD_LABEL = {
    "province": _("省份"),
    "prefecture": _("市（州）"),
    "county": _("县（市、区）"),
    "township": _("乡镇（街道）"),
    "settlement": _("安置点"),
    "scope": _("管辖区域"),
}


def region_q(code):
    if len(code) > 6:
        return Q(township_code=code)
    return code_prefix_q(code, "county_code")


@dataclass
class Area:
    kind: str  # "root", "region" or "settlement"
    name: str
    figure_q: Q
    child_level: str | None
    region: Region | None = None
    settlement: Settlement | None = None
    scope_entries: list = field(default_factory=list)
    breadcrumbs: list = field(default_factory=list)

    @property
    def url(self):
        return area_url(self.region or self.settlement)

    @property
    def child_label(self):
        return CHILD_LABEL.get(self.child_level, "")

    @property
    def is_settlement(self):
        return self.kind == "settlement"


def area_url(obj=None):
    if obj is None:
        return reverse("dashboards:home")
    if isinstance(obj, Settlement):
        return reverse("dashboards:settlement", args=[obj.pk])
    return reverse("dashboards:region", args=[obj.code])


def root_area(user):
    """Everything the user may see: every province, or the user's own areas."""
    scope = get_scope(user)
    if scope.unrestricted:
        return Area("root", _("全部地区"), Q(), "province")
    if scope.empty:
        raise Http404
    q = Q(pk__in=[])
    for prefix in scope.region_prefixes:
        q |= region_q(prefix)
    if scope.settlement_ids:
        q |= Q(settlement_id__in=scope.settlement_ids)
    entries = [("region", code) for code in scope.region_prefixes] + [
        ("settlement", pk) for pk in scope.settlement_ids
    ]
    return Area("root", _("我的管辖范围"), q, "scope", scope_entries=entries)


def _only_area(user):
    """("region", code) or ("settlement", pk) when the user's scope is that one area, else None."""
    scope = get_scope(user)
    if scope.unrestricted or scope.empty:
        return None
    if len(scope.region_prefixes) == 1 and not scope.settlement_ids:
        return "region", scope.region_prefixes[0].ljust(6, "0")
    if len(scope.settlement_ids) == 1 and not scope.region_prefixes:
        return "settlement", scope.settlement_ids[0]
    return None


def home_target(user):
    """Where a user lands: their only area, or the overview of several (None)."""
    only = _only_area(user)
    return reverse(f"dashboards:{only[0]}", args=[only[1]]) if only else None


def home_area(user):
    """The area a user lands on: their only region or settlement (whose figures are
    stored rolled up), or else everything they may see (``root_area``)."""
    only = _only_area(user)
    if only is None:
        return root_area(user)
    kind, key = only
    return region_area(user, key) if kind == "region" else settlement_area(user, key)


def _crumbs(region, scope):
    """Ancestors the user may open, top down (the area itself excluded)."""
    chain = []
    node = region.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    single = not scope.unrestricted and (
        (len(scope.region_prefixes), len(scope.settlement_ids)) in {(1, 0), (0, 1)}
    )
    crumbs = (
        []
        if single
        else [(_("我的管辖范围") if not scope.unrestricted else _("全部地区"), area_url())]
    )
    crumbs += [(r.name, area_url(r)) for r in reversed(chain) if scope.covers_region(r)]
    return crumbs


def region_area(user, code):
    scope = get_scope(user)
    try:
        region = Region.objects.select_related("parent__parent__parent").get(code=code)
    except Region.DoesNotExist:
        raise Http404 from None
    if not scope.covers_region(region):
        raise Http404
    return Area(
        "region",
        region.name,
        region_q(region.prefix),
        CHILD_LEVEL[region.level],
        region=region,
        breadcrumbs=_crumbs(region, scope),
    )


def settlement_area(user, pk):
    settlement = (
        Settlement.objects.visible_to(user)
        .select_related("county__parent__parent", "township__parent__parent__parent")
        .filter(pk=pk)
        .first()
    )
    if settlement is None:
        raise Http404
    scope = get_scope(user)
    anchor = settlement.township or settlement.county
    crumbs = _crumbs(anchor, scope)
    if scope.covers_region(anchor):
        crumbs.append((anchor.name, area_url(anchor)))
    return Area(
        "settlement",
        settlement.name,
        Q(settlement_id=settlement.pk),
        None,
        settlement=settlement,
        breadcrumbs=crumbs,
    )
