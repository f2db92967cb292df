"""The employment and income rules of INDICATORS.md as QuerySet methods.

Screens, work lists, exports and the dashboards all call these, so a rule
is written once.  Each summary runs as a single aggregate query grouped by
an area expression (settlement, township, county, or a prefix of the county
code for prefecture and province), never one query per person or area.

``communities.models.PersonQuerySet`` and ``HouseholdQuerySet`` get the
methods of the mixins below when this app loads (``EmploymentConfig.ready``),
so the core app does not import this one; the employment models are looked up
lazily because the employment app itself depends on communities.
"""

import datetime
import functools
import operator
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Concat, Substr

from relocation.dashboards.bydate import MASK_DATES, bit, bit_sums, mask


def _model(name):
    return apps.get_model("employment", name)


def rate(numerator, denominator):
    """A ratio, or None ("—") when the denominator is empty."""
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def area_expression(level, settlement_path):
    """Group-by expression for an area level over a path to a settlement.

    ``level`` is one of "settlement", "township", "county", "prefecture",
    "province"; prefecture and province are the 4- and 2-digit prefixes of
    the settlement's county code, padded to a full 6-digit code.
    """
    path = f"{settlement_path}__" if settlement_path else ""
    if level == "settlement":
        return F(f"{settlement_path}_id") if settlement_path else F("pk")
    if level == "township":
        return F(f"{path}township_id")
    if level == "county":
        return F(f"{path}county_id")
    if level == "prefecture":
        return Concat(Substr(f"{path}county_id", 1, 4), Value("00"))
    if level == "province":
        return Concat(Substr(f"{path}county_id", 1, 2), Value("0000"))
    if level == "all":
        return Value("all")
    raise ValueError(f"unknown area level {level!r}")


def _grouped(qs, level, settlement_path, aggregates):
    """Run ``aggregates`` grouped by area: {area key: {name: value}}."""
    if level is None:
        return qs.aggregate(**aggregates)
    rows = qs.annotate(_area=area_expression(level, settlement_path)).values("_area")
    rows = rows.annotate(**aggregates).order_by()
    return {row.pop("_area"): row for row in rows}


def employed_exists(on_date, person_ref="pk", **filters):
    """Exists(a record of an employed kind covering ``on_date``) for the outer person."""
    from . import enums

    records = (
        _model("EmploymentRecord")
        .objects.covering(on_date)
        .filter(person=OuterRef(person_ref), kind__in=enums.EMPLOYED_KINDS, **filters)
    )
    return Exists(records)


RECENT_DAYS = 30


def recently_ended(queryset, on_date, days=RECENT_DAYS):
    """People whose job ended in the ``days`` days before ``on_date`` and who have none on it.

    "A job" is a record of an employed kind (INDICATORS.md; farming is not one);
    it ended on one of the days ``on_date - days`` … ``on_date - 1`` (a record
    ending on ``on_date`` still covers it).  The 工作清单's 近30天离岗 list, and the
    stored per-settlement count it is read from (``recently_ended`` in
    ``employment.indicators``).
    """
    from . import enums

    ended = _model("EmploymentRecord").objects.filter(
        person=OuterRef("pk"),
        kind__in=enums.EMPLOYED_KINDS,
        end_date__gte=on_date - datetime.timedelta(days=days),
        end_date__lt=on_date,
    )
    return queryset.filter(Exists(ended)).exclude(employed_exists(on_date))


def recently_ended_counts(queryset, on_dates, group, days=RECENT_DAYS):
    """{date: {``group`` value: n}}: ``recently_ended(queryset, date)`` counted per
    ``group`` (a path from the person, e.g. ``household__settlement_id``) for every date
    of ``on_dates``, in one query; a group with nobody is left out.

    The people with a job that ended in any date's window are read once with their
    jobs; per date, one flag says a job ended in that date's window and another that
    a job covers the date, and each group counts the people with the first and not
    the second.  The dashboards' 14 past dates, one ``recently_ended`` query each,
    took about 12 seconds at 2 million people.  One date (the nightly refresh, a few
    changed settlements) is counted with the list's own query, faster there.
    """
    from communities.models import covering_q

    from . import enums

    on_dates = sorted(set(on_dates))
    if len(on_dates) == 1:
        day = on_dates[0]
        rows = recently_ended(queryset, day, days).values_list(group).annotate(n=Count("pk"))
        return {day: dict(rows.order_by())}
    span = datetime.timedelta(days=days)
    ended_in_any = _model("EmploymentRecord").objects.filter(
        person=OuterRef("pk"),
        kind__in=enums.EMPLOYED_KINDS,
        end_date__gte=on_dates[0] - span,
        end_date__lt=on_dates[-1],
    )
    flags = {}
    for i, day in enumerate(on_dates):
        flags[f"ended_{i}"] = _flag(Q(jobs__end_date__gte=day - span, jobs__end_date__lt=day))
        flags[f"covered_{i}"] = _flag(covering_q(day, "jobs__"))
    # Filtered before the annotations: the flags read the person's jobs of an employed kind.
    people = (
        queryset.filter(Exists(ended_in_any), jobs__kind__in=enums.EMPLOYED_KINDS)
        .values("pk")
        .annotate(_group=F(group), **flags)
        .order_by()
    )
    sql, params = people.query.sql_with_params()
    counts = ", ".join(
        f"SUM(CASE WHEN p.ended_{i} = 1 AND p.covered_{i} = 0 THEN 1 ELSE 0 END)"
        for i in range(len(on_dates))
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p._group, {counts} FROM ({sql}) p GROUP BY p._group", params)
        rows = cursor.fetchall()
    return {
        day: {row[0]: row[1 + i] for row in rows if row[1 + i]} for i, day in enumerate(on_dates)
    }


def _flag(condition):
    """1 when a joined row of the group meets ``condition``, else 0."""
    return Max(Case(When(condition, then=Value(1)), default=Value(0)), output_field=IntegerField())


def labour_q(on_date):
    """Q over Person: 劳动力 on ``on_date`` (age bounds, labour ability and students per settings)."""
    from communities.models import aged_between_q

    q = aged_between_q(settings.LABOUR_AGE_MIN, settings.LABOUR_AGE_MAX, on_date) & ~Q(
        labour_ability__in=settings.LABOUR_EXCLUDED_ABILITIES
    )
    if settings.LABOUR_EXCLUDE_STUDENTS:
        q &= Q(school_stage="")
    return q


class LabourPersonQuerySetMixin:
    """Labour force and employment of people (mixed into PersonQuerySet)."""

    def labour_force(self, on_date):
        """劳动力 on ``on_date``: age bounds, labour ability and students per settings."""
        return self.filter(labour_q(on_date))

    def with_employment(self, on_date):
        """Annotate the employment flags of INDICATORS.md on ``on_date``."""
        from . import enums

        return self.annotate(
            is_employed=employed_exists(on_date),
            is_nearby=employed_exists(on_date, place=enums.WorkPlace.IN_COUNTY),
            is_outside_province=employed_exists(on_date, place=enums.WorkPlace.OUT_OF_PROVINCE),
            is_public_welfare=employed_exists(on_date, kind=enums.EmploymentKind.PUBLIC_WELFARE),
            is_self_employed=employed_exists(on_date, kind=enums.EmploymentKind.SELF_EMPLOYED),
            is_workshop=employed_exists(on_date, employer__kind__in=enums.WORKSHOP_KINDS),
            is_farming=Exists(
                _model("EmploymentRecord")
                .objects.covering(on_date)
                .filter(person=OuterRef("pk"), kind=enums.EmploymentKind.FARMING)
            ),
        )

    def employed(self, on_date):
        """已就业: labour-force members with an employed-kind record covering the date."""
        return self.labour_force(on_date).filter(employed_exists(on_date))

    def unemployed_labour(self, on_date):
        """Labour force without a current job (farming alone does not count as a job)."""
        return self.labour_force(on_date).exclude(employed_exists(on_date))

    def employment_summary(self, on_date, level=None):
        """Employment counts, one query; grouped by area ``level`` when given.

        Keys: labour_force, employed, households_with_labour, households_employed,
        zero_employment_households, employed_nearby, employed_outside_province,
        public_welfare_posts, self_employed, workshop_employed, farming.

        The labour force is joined once to its employment records and every
        figure counts distinct people (or households) under its own filter: a
        person with two current jobs counts once.  At 2 million people this is
        one hash join, several times faster than a correlated EXISTS per flag.
        """
        return self.employment_summaries([on_date], level)[on_date]

    def employment_summaries(self, on_dates, level=None):
        """{date: ``employment_summary(date, level)``} for several dates, in one query
        (one per ``MASK_DATES`` dates).

        The dashboards ask for 14 dates at once.  Counted as distinct people under a
        filter per figure and date (140 ``COUNT(DISTINCT …) FILTER`` over every person's
        jobs), that query took 7.7 s at 100,000 households.  Here each date is a bit:

        1. each person with each of their jobs: the dates the person is in the labour
           force (``lab``, a bit per date) and the dates the job covers (``cov``), with
           one 0/1 per kind of job the figures tell apart;
        2. per person, the dates of each figure: the OR of the masks of the jobs of that
           kind (``BIT_OR``), within the labour force's dates;
        3. per household, the dates it has labour and the dates it has someone employed;
        4. per area, each figure's count on each date: the people (or households) whose
           mask holds that date's bit, read out of each pattern of masks once (the people
           with the same dates of every figure are summed first: at 30,000 households
           62,466 people have 14,405 patterns).

        Nothing is counted twice: a person is one row from step 2 on, however many jobs
        they hold.  At 30,000 households the demo's 14 dates took 3.6 s with a distinct
        count per figure and date, 1.45 s with masks and 0.95 s with the patterns, the
        same figures (``employment/tests/test_employment_masks.py`` checks both ways against
        the rule of each figure, person by person).  One date (the nightly refresh) is
        counted with the distinct counts, which are faster there: 0.46 against 0.77 s
        at 30,000 households, where the masks' three levels of grouping cost more than
        the distinct counts they save.
        """
        on_dates = sorted(set(on_dates))
        if len(on_dates) == 1:
            return {on_dates[0]: self._summary_by_distinct_counts(on_dates[0], level)}
        summaries = {}
        for first in range(0, len(on_dates), MASK_DATES):
            summaries.update(self._summaries_by_mask(on_dates[first : first + MASK_DATES], level))
        return summaries

    def _summary_by_distinct_counts(self, on_date, level):
        """``employment_summary`` of one date: the labour force joined to its jobs, each
        figure counting distinct people (or households) under its own filter."""
        from communities.models import covering_q

        covering = covering_q(on_date, "jobs__")
        kinds = _figure_jobs()
        aggregates = {
            "labour_force": Count("pk", distinct=True),
            "households_with_labour": Count("household_id", distinct=True),
            "households_employed": Count(
                "household_id", distinct=True, filter=covering & kinds["employed"]
            ),
            **{
                figure: Count("pk", distinct=True, filter=covering & jobs)
                for figure, jobs in kinds.items()
            },
        }
        result = _grouped(
            self.filter(labour_q(on_date)), level, "household__settlement", aggregates
        )
        for values in result.values() if level is not None else [result]:
            values["zero_employment_households"] = (
                values["households_with_labour"] - values["households_employed"]
            )
        return result

    def _summaries_by_mask(self, on_dates, level):
        from communities.models import covering_q

        labour = [labour_q(day) for day in on_dates]
        kinds = _figure_jobs()
        rows = (
            self.filter(functools.reduce(operator.or_, labour))
            .annotate(
                _area=area_expression(level or "all", "household__settlement"),
                _lab=mask(labour),
                _cov=mask([covering_q(day, "jobs__") for day in on_dates]),
                **{f"_{i}": bit(kind) for i, kind in enumerate(kinds.values())},
            )
            .values(
                "pk", "household_id", "_area", "_lab", "_cov", *(f"_{i}" for i in range(len(kinds)))
            )
            .order_by()
        )
        sql, params = rows.query.sql_with_params()
        figures = [f"f{i}" for i in range(len(kinds))]
        employed = figures[list(kinds).index("employed")]  # households_employed's people
        people = ", ".join(
            f"BIT_OR(r._cov * r._{i}) & MAX(r._lab) AS {f}" for i, f in enumerate(figures)
        )
        n = len(on_dates)

        masks = ["lab", *figures]
        # The people (and households) with the same dates of every figure are summed as
        # one before each date's bit is read out: most share a few patterns.
        query = (
            f"WITH p AS (SELECT r.household_id, r._area, MAX(r._lab) AS lab, {people} "
            f"FROM ({sql}) r GROUP BY r.pk, r.household_id, r._area), "
            f"h AS (SELECT p._area, BIT_OR(p.lab) AS lab, BIT_OR(p.{employed}) AS employed "
            "FROM p GROUP BY p.household_id, p._area), "
            "hp AS (SELECT h._area, h.lab, h.employed, COUNT(*) AS n FROM h "
            "GROUP BY h._area, h.lab, h.employed), "
            f"hc AS (SELECT hp._area, {bit_sums(['hp.lab', 'hp.employed'], n, 'hp.n')} "
            "FROM hp GROUP BY hp._area), "
            f"pp AS (SELECT p._area, {', '.join(f'p.{m}' for m in masks)}, COUNT(*) AS n FROM p "
            f"GROUP BY p._area, {', '.join(f'p.{m}' for m in masks)}) "
            f"SELECT pc.*, hc.* FROM (SELECT pp._area, "
            f"{bit_sums([f'pp.{m}' for m in masks], n, 'pp.n')} "
            "FROM pp GROUP BY pp._area) pc JOIN hc ON hc._area = pc._area"
        )
        with connections[self.db].cursor() as cursor:
            cursor.execute(query, params)
            found = cursor.fetchall()
        person_keys = ["labour_force", *kinds]
        summaries = {day: {} for day in on_dates}
        for row in found:
            area, people_counts, household_counts = (
                row[0],
                row[1 : 1 + len(person_keys) * n],
                row[2 + len(person_keys) * n :],
            )
            for i, day in enumerate(on_dates):
                values = {key: people_counts[k * n + i] for k, key in enumerate(person_keys)}
                values["households_with_labour"] = household_counts[i]
                values["households_employed"] = household_counts[n + i]
                values["zero_employment_households"] = (
                    values["households_with_labour"] - values["households_employed"]
                )
                # An area with nobody in the date's labour force has no row.
                if values["labour_force"]:
                    summaries[day][area] = values
        if level is None:
            return {
                day: by_area.get("all", dict(_NO_EMPLOYMENT)) for day, by_area in summaries.items()
            }
        return summaries


def _figure_jobs():
    """{figure: Q over a person's ``jobs``}: the kind of job each of ``employment_summary``'s
    people figures counts, when it covers the date (the labour force aside)."""
    from . import enums

    employed = Q(jobs__kind__in=enums.EMPLOYED_KINDS)
    return {
        "employed": employed,
        "employed_nearby": employed & Q(jobs__place=enums.WorkPlace.IN_COUNTY),
        "employed_outside_province": employed & Q(jobs__place=enums.WorkPlace.OUT_OF_PROVINCE),
        "public_welfare_posts": Q(jobs__kind=enums.EmploymentKind.PUBLIC_WELFARE),
        "self_employed": Q(jobs__kind=enums.EmploymentKind.SELF_EMPLOYED),
        "workshop_employed": employed & Q(jobs__employer__kind__in=enums.WORKSHOP_KINDS),
        "farming": Q(jobs__kind=enums.EmploymentKind.FARMING),
    }


#: The figures of ``employment_summary``, in the dashboards' order.
EMPLOYMENT_SUMMARY_KEYS = (
    "labour_force",
    "employed",
    "households_with_labour",
    "households_employed",
    "zero_employment_households",
    "employed_nearby",
    "employed_outside_province",
    "public_welfare_posts",
    "self_employed",
    "workshop_employed",
    "farming",
)

_NO_EMPLOYMENT = dict.fromkeys(EMPLOYMENT_SUMMARY_KEYS, 0)


class LabourHouseholdQuerySetMixin:
    """Household-level employment and income rules (mixed into HouseholdQuerySet)."""

    def _labour_members(self, on_date):
        from communities.models import Person

        return Person.objects.labour_force(on_date).filter(household=OuterRef("pk"))

    def with_labour(self, on_date):
        """有劳动力家庭: at least one labour-force member on the date."""
        return self.filter(Exists(self._labour_members(on_date)))

    def with_employed(self, on_date):
        """一户一人以上就业: at least one labour-force member employed on the date."""
        return self.filter(Exists(self._labour_members(on_date).filter(employed_exists(on_date))))

    def zero_employment(self, on_date):
        """零就业家庭: households with labour and nobody employed on the date."""
        return self.with_labour(on_date).exclude(
            Exists(self._labour_members(on_date).filter(employed_exists(on_date)))
        )

    def below_monitoring_line(self, year):
        """Households whose per-capita net income for ``year`` is under their province's line.

        The same rule as ``monitoring_line_q``, with the province tested on the
        household itself: one term per province with a line, "in that province
        and an income of the year under its amount".  Tested inside the EXISTS
        (through the income's household again), PostgreSQL walked every household
        of the province to probe its income (2.6 s for a county's work list at 2
        million people); so it reads the few incomes under the line from the index
        ``income_year_per_capita`` and keeps those in scope.
        """
        q = Q(pk__in=[])
        lines = (
            _model("MonitoringLine").objects.filter(year=year).values_list("province_id", "amount")
        )
        for province, amount in lines:
            incomes = _model("HouseholdIncome").objects.filter(
                household=OuterRef("pk"), year=year, per_capita_net__lt=amount
            )
            q |= Q(settlement__county__code__startswith=province[:2]) & Q(Exists(incomes))
        return self.filter(q)


def monitoring_line_q(year, prefix="household__"):
    """Q over HouseholdIncome: per-capita net under the line of the household's province.

    One term per province with a line for the year (a handful), so the test
    stays an index-friendly prefix match on the county code.
    """
    q = Q(pk__in=[])
    lines = _model("MonitoringLine").objects.filter(year=year).values_list("province_id", "amount")
    for province, amount in lines:
        q |= Q(
            **{
                f"{prefix}settlement__county__code__startswith": province[:2],
                "per_capita_net__lt": amount,
            }
        )
    return q


INCOME_PARTS = ("wage_income", "business_income", "transfer_income", "property_income")


class IncomeQuerySetMixin:
    """Income roll-ups over HouseholdIncome rows."""

    def income_summary(self, year, level=None):
        """Income of ``year`` and ``year - 1`` in one query, grouped by area ``level``.

        Keys: households (with a record for the year), persons (Σ household size),
        net_income, wage_income, business_income, transfer_income, property_income, costs,
        gross_income,
        households_below_line, and the same ``prev_`` totals of the year before
        (households, persons, net_income) for the growth rate.
        """
        this, prev = Q(year=year), Q(year=year - 1)
        # Aggregate aliases may not shadow the model's field names: "t_" + key.
        sums = {
            "persons": Sum("household_size", filter=this),
            "net_income": Sum("net_income", filter=this),
            **{part: Sum(part, filter=this) for part in INCOME_PARTS},
            "costs": Sum("costs", filter=this),
            "prev_persons": Sum("household_size", filter=prev),
            "prev_net_income": Sum("net_income", filter=prev),
        }
        aggregates = {
            "t_households": Count("pk", filter=this),
            "t_households_below_line": Count("pk", filter=this & monitoring_line_q(year)),
            "t_prev_households": Count("pk", filter=prev),
            **{f"t_{key}": value for key, value in sums.items()},
        }
        qs = self.filter(year__in=[year - 1, year])
        result = _grouped(qs, level, "household__settlement", aggregates)
        rows = result.values() if level is not None else [result]
        for row in rows:
            for key in list(row):
                row[key.removeprefix("t_")] = row.pop(key) or 0
            row["gross_income"] = sum(row[part] for part in INCOME_PARTS)
        return result


def income_figures(row):
    """Per-capita net income, growth and structure from an ``income_summary`` row."""
    per_capita = rate(row["net_income"], row["persons"])
    prev_per_capita = rate(row["prev_net_income"], row["prev_persons"])
    growth = None
    if per_capita is not None and prev_per_capita:
        growth = per_capita / prev_per_capita - 1
    gross = row["gross_income"]
    shares = {
        f"income_share_{part.removesuffix('_income')}": rate(row[part], gross)
        for part in INCOME_PARTS
    }
    return {
        "per_capita_net_income": per_capita,
        "per_capita_income_growth": growth,
        **shares,
        "households_below_monitoring_line": row["households_below_line"],
    }


def employment_figures(row):
    """Rates of INDICATORS.md from an ``employment_summary`` row."""
    return {
        **row,
        "employment_rate": rate(row["employed"], row["labour_force"]),
        "one_per_household_rate": rate(row["households_employed"], row["households_with_labour"]),
    }
