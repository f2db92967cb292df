"""Work lists (工作清单) as list filters on the person and household lists.

The query-string parameters are a contract with the dashboards, which link
straight to the filtered lists:

* 家庭成员 (Person): ``?employment=labour|employed|unemployed|nearby|
  outside_province|public_welfare|self_employed|workshop|farming|ended_30d``,
  optionally ``&on=YYYY-MM-DD`` (default today);
* 搬迁户 (Household): ``?employment=with_labour|employed|zero_employment``
  (with ``&on=``) and ``?below_line=<year>``.

Each choice is the QuerySet rule of ``employment.querysets`` that the
dashboard figure of the same name counts, so a figure and the list behind it
always agree.  Users without 「可以查看完整的身份证号和电话」 see birth dates
only as the year, so for them the date is moved to a period end
(``reference_date_for``): membership of a list on a chosen day (labour is
16–60 by the exact birth date) must not find a birthday.  A bad value or date shows an empty list with a Chinese message
rather than silently falling back to the whole table: a list that is exported
and acted on must never hold rows it was not asked for.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import DateField, PositiveSmallIntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.admin_filters import AppliedWhenGivenMixin
from communities.admin_scope import settlement_choices
from communities.models import Household, Person, Settlement
from communities.scope import get_scope
from communities.worklists import (
    announce_reference_date,
    may_view,
    parse_on_date,
    reference_date_for,
    row,
)
from relocation.dashboards.live import (
    CountedFromFigures,
    difference,
    figure,
    live_part,
    stored_today,
)
from relocation.dashboards.periods import income_year

from .indicators import RECENTLY_ENDED
from .models import MonitoringLine
from .querysets import recently_ended


def _flag(name):
    return lambda qs, d: qs.labour_force(d).with_employment(d).filter(**{name: True})


# value → (label, rule over a PersonQuerySet and a date)
PERSON_LISTS = {
    "labour": (_("劳动力"), lambda qs, d: qs.labour_force(d)),
    "employed": (_("已就业"), lambda qs, d: qs.employed(d)),
    "unemployed": (_("劳动力中未就业"), lambda qs, d: qs.unemployed_labour(d)),
    "nearby": (_("就近就业（县内）"), _flag("is_nearby")),
    "outside_province": (_("省外务工"), _flag("is_outside_province")),
    "public_welfare": (_("公益性岗位"), _flag("is_public_welfare")),
    "self_employed": (_("自主创业"), _flag("is_self_employed")),
    "workshop": (_("帮扶车间就业"), _flag("is_workshop")),
    "farming": (_("务农"), _flag("is_farming")),
    "ended_30d": (_("近30天离岗且未再就业"), recently_ended),
}

HOUSEHOLD_LISTS = {
    "with_labour": (_("有劳动力家庭"), lambda qs, d: qs.with_labour(d)),
    "employed": (_("一户一人以上就业户"), lambda qs, d: qs.with_employed(d)),
    "zero_employment": (_("零就业家庭"), lambda qs, d: qs.zero_employment(d)),
}


class EmploymentListFilter(CountedFromFigures, admin.SimpleListFilter):
    """``?employment=<list>[&on=YYYY-MM-DD]``: one rule of ``lists`` on a date."""

    title = _("就业情况")
    parameter_name = "employment"
    date_parameter = "on"
    lists = {}

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.on_raw = None
        self.chosen_date = self.used_date = timezone.localdate()
        if self.date_parameter in params:
            self.on_raw = params.pop(self.date_parameter)[-1]
            self.used_parameters[self.date_parameter] = self.on_raw
            self.chosen_date = parse_on_date(self.on_raw)
            self.used_date = None
            if self.chosen_date is not None:
                self.used_date = reference_date_for(request.user, self.chosen_date)
                self.title = _("就业情况（%(date)s）") % {"date": self.used_date.isoformat()}

    def expected_parameters(self):
        return [self.parameter_name, self.date_parameter]

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _rule) in self.lists.items()]

    def on_date(self):
        """The date the list is counted on (see ``reference_date_for``); None if invalid."""
        return self.used_date

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        on_date = self.on_date()
        if on_date is None:
            messages.error(
                request,
                _("日期“%(value)s”无效，请按“年-月-日”填写，如 2025-12-31。")
                % {"value": self.on_raw},
            )
            return queryset.none()
        if value not in self.lists:
            messages.error(request, _("没有名为“%(value)s”的清单。") % {"value": value})
            return queryset.none()
        announce_reference_date(request, self.chosen_date, on_date)
        _label, rule = self.lists[value]
        # The date travels with the rows, so that an export states the same date.
        return rule(queryset, on_date).annotate(employment_on=Value(on_date, DateField()))


class PersonEmploymentFilter(EmploymentListFilter):
    lists = PERSON_LISTS
    # The dashboards' cards that link to these lists (``employment.indicators``).
    from_figures = {
        "labour": figure("labour_force"),
        "employed": figure("employed"),
        "unemployed": difference("labour_force", "employed"),
        "ended_30d": figure(RECENTLY_ENDED),
    }


class HouseholdEmploymentFilter(EmploymentListFilter):
    lists = HOUSEHOLD_LISTS
    from_figures = {
        "with_labour": figure("households_with_labour"),
        "employed": figure("households_employed"),
        "zero_employment": figure("zero_employment_households"),
    }


def income_years():
    """Years that have a monitoring line in some province, newest first."""
    return list(MonitoringLine.objects.order_by("-year").values_list("year", flat=True).distinct())


def default_income_year(years=None, today=None):
    """The last complete year with monitoring lines, else the latest year with one."""
    years = income_years() if years is None else years
    this_year = (today or timezone.localdate()).year
    complete = [y for y in years if y < this_year]
    if complete:
        return max(complete)
    return max(years) if years else None


class BelowMonitoringLineFilter(AppliedWhenGivenMixin, admin.SimpleListFilter):
    """``?below_line=<year>``: per-capita net income under the province's line that year
    (a link to a year without lines gives an empty list, not every household)."""

    title = _("人均纯收入低于监测线")
    parameter_name = "below_line"

    def lookups(self, request, model_admin):
        return [(str(y), _("%(year)d年") % {"year": y}) for y in income_years()]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not (value.isdigit() and len(value) == 4):
            messages.error(request, _("年度“%(value)s”无效。") % {"value": value})
            return queryset.none()
        year = int(value)
        # The year travels with the rows, so that an export shows that year's income.
        return queryset.below_monitoring_line(year).annotate(
            income_year=Value(year, PositiveSmallIntegerField())
        )


class CurrentJobFilter(admin.SimpleListFilter):
    """就业台账: records covering today, or not."""

    title = _("当前在岗")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("在岗")), ("no", _("已结束或未开始"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.covering(today)
        if self.value() == "no":
            return queryset.not_covering(today)
        return queryset


class ScopedSettlementFilter(admin.SimpleListFilter):
    """安置点 reached through ``path``; the choices are the user's settlements only."""

    title = _("安置点")
    parameter_name = "settlement"
    path = "person__household__settlement"

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in settlement_choices(request) or ()]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.path}_id": int(value)})
        return queryset


class HouseholdSettlementFilter(ScopedSettlementFilter):
    path = "household__settlement"


class YearFilter(admin.SimpleListFilter):
    title = _("年度")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        this_year = timezone.localdate().year
        return [(str(y), str(y)) for y in range(this_year, 2015, -1)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(year=int(value))
        return queryset


# --- the work-list page -------------------------------------------------------


# The running dashboard figures the work-list counts are read from (FROM_SUMS).
RUNNING_KEYS = (
    "zero_employment_households",
    "labour_force",
    "employed",
    "households_below_line",
    RECENTLY_ENDED,
)


def live_rules(on_date, year):
    """{list key: count(households, people)}: each work list's own rule, counted live."""
    return {
        "zero_employment": lambda hh, pp: hh.zero_employment(on_date).count(),
        "unemployed": lambda hh, pp: pp.unemployed_labour(on_date).count(),
        "below_line": lambda hh, pp: hh.below_monitoring_line(year).count(),
        "ended_30d": lambda hh, pp: recently_ended(pp, on_date).count(),
    }


# Each list's count from today's summed figures, as the list filters count them
# (未就业劳动力 is the labour force less the employed); 低于监测线 for the income
# year of today's figures.
FROM_SUMS = {
    "zero_employment": HouseholdEmploymentFilter.from_figures["zero_employment"][1],
    "unemployed": PersonEmploymentFilter.from_figures["unemployed"][1],
    "below_line": figure("households_below_line")[1],
    "ended_30d": PersonEmploymentFilter.from_figures["ended_30d"][1],
}


def running_counts(user, people, households, rules, on_date, year):
    """Work-list counts in ``user``'s scope, exact, from today's stored figures.

    Counting 零就业家庭 and 未就业劳动力 live reads every labour-force member of
    the scope and their current jobs (1–5 s for a county or province at 2
    million people); 低于监测线 reads every household of a province; 近30天离岗
    finds every job that ended in the last 30 days one by one.  Today's
    dashboard figures hold the same counts per settlement; ``stored_today``
    sums them over the settlements whose data did not change since they were
    computed, and the changed settlements (usually a handful) are counted here
    live by the list's own rule (``rules``, from ``live_rules``), so each count
    equals the linked list's rows.  Returns ``{list key: n}`` for the lists it
    can count so: the three employment lists when ``on_date`` is today,
    低于监测线 when ``year`` is the income year of today's figures; ``{}``
    before today's figures are stored.
    """
    today = timezone.localdate()
    keys = []
    if on_date == today:
        keys += ["zero_employment", "unemployed", "ended_30d"]
    if year is not None and year == income_year(today):
        keys.append("below_line")
    stored = stored_today(Settlement.objects.visible_to(user), RUNNING_KEYS) if keys else None
    if stored is None:
        return {}
    sums, live_ids = stored
    counts = {key: FROM_SUMS[key](sums) for key in keys}
    unrestricted = get_scope(user).unrestricted
    in_households = live_part("settlement", live_ids, unrestricted=unrestricted)
    if in_households is None:
        return counts
    in_people = live_part("household__settlement", live_ids, unrestricted=unrestricted)
    live_households, live_people = households.filter(in_households), people.filter(in_people)
    for key in keys:
        counts[key] += rules[key](live_households, live_people)
    return counts


def employment_work_lists(request, on_date, year):
    """The four lists a community worker acts on every week, with counts in the user's scope
    (employment's rows of the 工作清单 page, ``communities.plugins.work_lists``).

    Returns one dict per list the user may view: key, label, description,
    count (None when there is nothing to count, e.g. no monitoring line),
    url (the filtered change list) and export_url (None without permission).
    Each count is one query over the QuerySet rule the list filter applies,
    or today's stored figures corrected live for the settlements changed since
    (``running_counts``).
    """
    user = request.user
    day = on_date.isoformat()
    people = Person.objects.visible_to(user)
    households = Household.objects.visible_to(user)
    rules = live_rules(on_date, year)
    running = None

    def count_of(key):
        nonlocal running
        if key == "below_line" and not year:
            return None  # no monitoring line: nothing to count
        if running is None:
            running = running_counts(user, people, households, rules, on_date, year)
        return running[key] if key in running else rules[key](households, people)

    specs = [
        (
            "zero_employment",
            Household,
            _("零就业家庭"),
            _("有劳动力、但没有一人就业的搬迁户（务农不计为就业）。"),
            {"employment": "zero_employment", "on": day},
        ),
        (
            "unemployed",
            Person,
            _("未就业劳动力"),
            _("%(low)d–%(high)d岁、有劳动能力、不在校，且当天没有在岗就业记录的人员。")
            % {"low": settings.LABOUR_AGE_MIN, "high": settings.LABOUR_AGE_MAX},
            {"employment": "unemployed", "on": day},
        ),
        (
            "below_line",
            Household,
            _("低于监测线家庭"),
            _("%(year)s年人均纯收入低于本省当年防返贫监测线的搬迁户。")
            % {"year": year if year else "—"},
            {"below_line": year} if year else None,
        ),
        (
            "ended_30d",
            Person,
            _("近30天离岗人员"),
            _("最近30天内工作结束、目前没有在岗就业记录的人员。"),
            {"employment": "ended_30d", "on": day},
        ),
    ]
    rows = []
    for key, model, label, description, params in specs:
        if may_view(user, model):
            rows.append(row(user, model, key, label, description, count_of(key), params))
    return rows
