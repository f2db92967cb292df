"""Employment and income figures (INDICATORS.md, "Employment" and "Income").

The counting rules are the QuerySet methods of ``employment.querysets``
(``employment_summary``, ``income_summary``); this module only names their
results as dashboard components, grouped per settlement, and declares the
indicators built from them.
"""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from communities.models import Person, Settlement
from relocation.dashboards import bydate, links
from relocation.dashboards.changes import (
    changed,
    dated_by_owner,
    household_settlement_map,
    household_settlements,
    person_settlement_map,
    person_settlements,
    related,
    versions,
)
from relocation.dashboards.registry import (
    DOWN,
    FROM,
    INCOME,
    NEUTRAL,
    ON,
    PERCENT,
    UP,
    Indicator,
    registry,
)

from .models import (
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    MonitoringLine,
    Referral,
    TrainingAttendance,
    TrainingCourse,
)
from .querysets import EMPLOYMENT_SUMMARY_KEYS, recently_ended_counts

registry.section("employment", _("就业"), theme=_("有就业"), order=20)
registry.section("income", _("收入"), theme=_("能致富"), order=30)

EMPLOYMENT_KEYS = EMPLOYMENT_SUMMARY_KEYS
# income_summary key -> component name
INCOME_KEYS = {
    "households": "income_households",
    "persons": "income_persons",
    "net_income": "net_income",
    "wage_income": "wage_income",
    "business_income": "business_income",
    "transfer_income": "transfer_income",
    "property_income": "property_income",
    "gross_income": "gross_income",
    "households_below_line": "households_below_line",
    "prev_persons": "prev_income_persons",
    "prev_net_income": "prev_net_income",
}


def employment_changes(since):
    # A person's age, labour ability or schooling, their jobs, or the kind of
    # their employer (帮扶车间) can change their figures.
    jobs_at_changed_employers = related(
        EmploymentRecord, "person_id", changed(Employer, since), lookup="employer_id"
    )
    return (
        person_settlements(changed(Person, since))
        | person_settlements(changed(EmploymentRecord, since, "person_id"))
        | person_settlements(jobs_at_changed_employers)
    )


def employment_corrections(since):
    # A job record (added, corrected or deleted) changes who was employed from
    # its earliest start date on, in every version of it.  A person's details
    # and an employer's kind have no date: they count as they are now.
    rows = versions(EmploymentRecord, since, ("person_id", "start_date"))
    owners = person_settlement_map({person for person, _day in rows})
    return dated_by_owner(rows, owners, FROM, earliest=True)


# People whose job ended in the 30 days before the reference date and who have none
# on it: no dashboard card, but stored so that the 工作清单's 近30天离岗 count is read
# from today's figures as its other counts are (employment.admin_filters.running_counts).
RECENTLY_ENDED = "recently_ended"


@registry.source(
    "employment",
    components=(*EMPLOYMENT_KEYS, RECENTLY_ENDED),
    changes=employment_changes,
    watch=(Person, EmploymentRecord, Employer),
    corrections=employment_corrections,
    by_dates=True,
    cost=18,
)
def employment(settlements, windows):
    """The employment summary of every date in one query (``employment_summaries``),
    and the people whose job ended recently in another (``recently_ended_counts``)."""
    people = Person.objects.filter(household__settlement__in=settlements)
    days = [window.reference_date for window in windows]
    summaries = people.employment_summaries(days, "settlement")
    ended = recently_ended_counts(people, days, "household__settlement_id")

    def figures_for(window):
        figures = {
            settlement_id: {key: row[key] for key in EMPLOYMENT_KEYS}
            for settlement_id, row in summaries[window.reference_date].items()
        }
        for settlement_id, n in ended[window.reference_date].items():
            figures.setdefault(settlement_id, {})[RECENTLY_ENDED] = n
        return figures

    return figures_for


def employment_flow_changes(since):
    attendances_of_changed_courses = related(
        TrainingAttendance, "person_id", changed(TrainingCourse, since), lookup="course_id"
    )
    return (
        person_settlements(changed(Referral, since, "person_id"))
        | person_settlements(changed(TrainingAttendance, since, "person_id"))
        | person_settlements(attendances_of_changed_courses)
    )


def employment_flow_corrections(since):
    # A referral counts on its date; an attendance on its course's start date
    # (every version of either, so a moved date marks both periods).
    referrals = versions(Referral, since, ("person_id", "referred_on"))
    attendance_courses = versions(TrainingAttendance, since, ("person_id", "course_id"))
    changed_courses = versions(TrainingCourse, since, ("id", "start_date"))
    course_ids = {c for _p, c in attendance_courses} | {c for c, _d in changed_courses}
    starts = {}
    for course, day in changed_courses | set(
        TrainingCourse.objects.filter(pk__in=sorted(course_ids)).values_list("pk", "start_date")
    ):
        starts.setdefault(course, set()).add(day)
    attendees = set(attendance_courses) | set(
        TrainingAttendance.objects.filter(course_id__in=sorted(c for c, _d in changed_courses))
        .values_list("person_id", "course_id")
        .order_by()
    )
    rows = referrals | {(p, day) for p, c in attendees for day in starts.get(c, ())}
    owners = person_settlement_map({person for person, _day in rows})
    return dated_by_owner(rows, owners, ON)


@registry.source(
    "employment_flows",
    components=("referrals", "training_attendances"),
    changes=employment_flow_changes,
    flow=True,
    watch=(Referral, TrainingAttendance, TrainingCourse),
    corrections=employment_flow_corrections,
    by_dates=True,
)
def employment_flows(settlements, windows):
    """Referrals and training attendances in each window, one query each for all the
    windows (``bydate.add_flows``)."""
    figures = {bydate.span(window): {} for window in windows}
    flows = (
        (Referral, "referred_on", "referrals"),
        # Attendances of courses that began in the period.
        (TrainingAttendance, "course__start_date", "training_attendances"),
    )
    for model, field, component in flows:
        bydate.add_flows(
            figures,
            model.objects.filter(person__household__settlement__in=settlements),
            "person__household__settlement_id",
            field,
            windows,
            lambda on, component=component: {component: Count("pk", filter=on)},
        )
    return lambda window: figures[bydate.span(window)]


def income_changes(since):
    ids = household_settlements(changed(HouseholdIncome, since, "household_id"))
    # A changed monitoring line moves every household of its province.
    provinces = changed(MonitoringLine, since, "province_id")
    for province in provinces:
        ids |= set(
            Settlement.objects.filter(county__code__startswith=province[:2]).values_list(
                "pk", flat=True
            )
        )
    return ids


def income_corrections(since):
    # The income of a year (every version: a record moved to another year marks
    # both), and a changed monitoring line for every household of its province.
    rows = versions(HouseholdIncome, since, ("household_id", "year"))
    found = dated_by_owner(rows, household_settlement_map({h for h, _y in rows}), INCOME)
    for province, year in versions(MonitoringLine, since, ("province_id", "year")):
        settlements = Settlement.objects.filter(county__code__startswith=province[:2])
        found += [(pk, INCOME, year) for pk in settlements.values_list("pk", flat=True)]
    return found


@registry.source(
    "income",
    components=tuple(INCOME_KEYS.values()),
    changes=income_changes,
    watch=(HouseholdIncome, MonitoringLine),
    corrections=income_corrections,
    by_dates=True,
)
def income(settlements, windows):
    """Income depends on the income year only: one query per distinct year of ``windows``."""
    incomes = HouseholdIncome.objects.filter(household__settlement__in=settlements)
    by_year = {}
    for year in sorted({window.income_year for window in windows}):
        by_year[year] = {
            settlement_id: {component: row[key] for key, component in INCOME_KEYS.items()}
            for settlement_id, row in incomes.income_summary(year, "settlement").items()
        }
    return lambda window: by_year[window.income_year]


def _people(filter_value):
    def link(area, window):
        return links.persons(area, employment=filter_value, on=window.reference_date.isoformat())

    return link


def _households(filter_value):
    def link(area, window):
        return links.households(area, employment=filter_value, on=window.reference_date.isoformat())

    return link


def _count(key, label, description, link, direction, unit=None, basis="stock", headline=True):
    return Indicator(
        key=key,
        label=label,
        section="employment",
        unit=unit or _("人"),
        total=key,
        description=description,
        link=link,
        direction=direction,
        basis=basis,
        headline=headline,
    )


registry.register(
    _count(
        "labour_force",
        _("劳动力人数"),
        _(
            "统计日年满16至60周岁（含）、劳动技能不是丧失劳动力或无劳动力、且不是全日制在校生的人数。"
        ),
        _people("labour"),
        NEUTRAL,
    ),
    _count(
        "employed",
        _("已就业人数"),
        _("劳动力中，有覆盖统计日的务工、自主创业、公益性岗位或灵活就业记录的人数（务农单列）。"),
        _people("employed"),
        UP,
    ),
    Indicator(
        key="employment_rate",
        label=_("就业率"),
        section="employment",
        direction=UP,
        unit=PERCENT,
        numerator="employed",
        denominator="labour_force",
        decimals=2,
        description=_("已就业人数 ÷ 劳动力人数。"),
    ),
    _count(
        "households_with_labour",
        _("有劳动力家庭"),
        _("至少有1名劳动力的搬迁户数。"),
        _households("with_labour"),
        NEUTRAL,
        unit=_("户"),
    ),
    _count(
        "households_employed",
        _("一户一人以上就业户"),
        _("至少有1名劳动力已就业的搬迁户数。"),
        _households("employed"),
        UP,
        unit=_("户"),
    ),
    Indicator(
        key="one_per_household_rate",
        label=_("一户一人以上就业率"),
        section="employment",
        direction=UP,
        unit=PERCENT,
        numerator="households_employed",
        denominator="households_with_labour",
        decimals=2,
        description=_("一户一人以上就业户 ÷ 有劳动力家庭。"),
    ),
    _count(
        "zero_employment_households",
        _("零就业家庭"),
        _("有劳动力但无人就业的搬迁户数（目标为0）。"),
        _households("zero_employment"),
        DOWN,
        unit=_("户"),
    ),
    _count(
        "employed_nearby",
        _("就近就业人数"),
        _("已就业且就业地点在县内的人数。"),
        _people("nearby"),
        UP,
    ),
    _count(
        "employed_outside_province",
        _("省外务工人数"),
        _("已就业且就业地点在省外的人数。"),
        _people("outside_province"),
        NEUTRAL,
    ),
    _count(
        "public_welfare_posts",
        _("公益性岗位人数"),
        _("在公益性岗位就业的人数。"),
        _people("public_welfare"),
        NEUTRAL,
    ),
    _count("self_employed", _("自主创业人数"), _("自主创业的人数。"), _people("self_employed"), UP),
    _count(
        "workshop_employed",
        _("帮扶车间就业人数"),
        _("在帮扶车间或集体经济组织就业的人数。"),
        _people("workshop"),
        UP,
    ),
    _count(
        "farming",
        _("务农人数"),
        _("劳动力中有覆盖统计日的务农记录的人数（不计入已就业）。"),
        _people("farming"),
        NEUTRAL,
        headline=False,
    ),
    _count(
        "referrals",
        _("岗位推送人次"),
        _("统计期内（期初至统计日）推送岗位的人次。"),
        lambda area, window: links.changelist(
            "employment.referral",
            area,
            referred_on__gte=window.start.isoformat(),
            referred_on__lte=window.reference_date.isoformat(),
        ),
        UP,
        basis="flow",
        headline=False,
    ),
    _count(
        "training_attendances",
        _("培训人次"),
        _("统计期内开班的培训班的参训人次。"),
        None,
        UP,
        basis="flow",
        headline=False,
    ),
    Indicator(
        key="per_capita_net_income",
        label=_("人均纯收入"),
        section="income",
        direction=UP,
        unit=_("元"),
        numerator="net_income",
        denominator="income_persons",
        decimals=0,
        basis="income",
        description=_("有当年收入记录的搬迁户：纯收入合计 ÷ 家庭人口合计（收入年度见标题）。"),
    ),
    Indicator(
        key="per_capita_income_growth",
        label=_("人均纯收入同比增幅"),
        section="income",
        direction=UP,
        unit=PERCENT,
        growth=("net_income", "income_persons", "prev_net_income", "prev_income_persons"),
        decimals=2,
        basis="income",
        description=_("本年人均纯收入 ÷ 上年人均纯收入 − 1，两年按同一口径计算。"),
    ),
    *(
        Indicator(
            key=f"income_share_{part}",
            label=label,
            section="income",
            unit=PERCENT,
            numerator=f"{part}_income",
            denominator="gross_income",
            decimals=2,
            basis="income",
            headline=part in ("wage", "transfer"),
            description=description,
            # Wages and less reliance on transfers are the policy's aim.
            direction=direction,
        )
        for part, label, description, direction in (
            ("wage", _("工资性收入占比"), _("工资性收入 ÷ 总收入（四项收入之和）。"), UP),
            ("business", _("生产经营性收入占比"), _("生产经营性收入 ÷ 总收入。"), NEUTRAL),
            ("transfer", _("转移性收入占比"), _("转移性收入 ÷ 总收入。"), DOWN),
            ("property", _("财产性收入占比"), _("财产性收入 ÷ 总收入。"), NEUTRAL),
        )
    ),
    Indicator(
        key="households_below_monitoring_line",
        label=_("低于监测线户数"),
        section="income",
        direction=DOWN,
        unit=_("户"),
        total="households_below_line",
        basis="income",
        description=_("当年人均纯收入低于本省当年防返贫监测线的户数。"),
        link=lambda area, window: links.households(area, below_line=window.income_year),
    ),
)
