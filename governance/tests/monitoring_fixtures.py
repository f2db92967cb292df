"""Fixtures of the 防返贫 monitoring tests (imported by ``test_monitoring_*.py``).

The communities ``world`` (settlements A and B in 兴义市, C in 钟山区; A lies in
黄草街道, B has no township recorded) plus users of every level for A (fixture ``gov``, import ``gov_fixture``):
``worker`` (community: settlement A), ``township`` (黄草街道), ``other_township``
(兴泰街道, same county), ``county`` (兴义市), ``prefecture`` (黔西南州) and
``other_county`` (钟山区).
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from communities.roles import Role
from communities.tests.conftest import world  # noqa: F401
from governance import monitoring_workflow as wf
from governance.models import LeadSource, MonitoringCategory, RiskType, Step

D0 = datetime.date(2026, 3, 2)


def day(n):
    return D0 + datetime.timedelta(days=n)


@pytest.fixture(name="gov")
def gov_fixture(world, make_user):  # noqa: F811
    rt = world.regions
    world.township = make_user(Role.COUNTY_OFFICIAL, regions=[rt.huangcao], username="township")
    world.other_township = make_user(
        Role.COUNTY_OFFICIAL, regions=[rt.xingtai], username="other_township"
    )
    world.b_worker = make_user(Role.COMMUNITY_WORKER, settlements=[world.b], username="b_worker")
    return world


def open_record(gov, household=None, user=None, on=D0):
    return wf.start_identification(
        household or gov.households["a"],
        user=user or gov.worker,
        category=MonitoringCategory.EDGE,
        lead_source=LeadSource.SURVEY,
        taken_on=on,
        risks=(RiskType.ILLNESS,),
    )


def walk(gov, record, upto=Step.COUNTY, start=D0, township_user=None, procedure_day=0):
    """Take the steps after the lead up to ``upto`` with the right users and dates."""
    users = {
        Step.VISIT: gov.worker,
        Step.VILLAGE: gov.worker,
        Step.TOWNSHIP: township_user or gov.township,
        Step.COUNTY: gov.county,
    }
    for step in (Step.VISIT, Step.VILLAGE, Step.TOWNSHIP, Step.COUNTY):
        if step > upto:
            break
        extra = {}
        on = {Step.VISIT: 1, Step.VILLAGE: 2, Step.TOWNSHIP: 8, Step.COUNTY: 10}[step]
        if step == Step.VILLAGE:
            extra = {
                "notice_start": start + datetime.timedelta(days=2 + procedure_day),
                "notice_end": start + datetime.timedelta(days=6 + procedure_day),
            }
        wf.take_step(
            record,
            step,
            user=users[step],
            taken_on=start + datetime.timedelta(days=on + procedure_day),
            document_number=f"DOC-{int(step)}",
            **extra,
        )
    record.refresh_from_db()
    return record


# --- the early-warning world -------------------------------------------------------------

S = datetime.date(2026, 6, 30)  # the scan date; income year 2025


def _born(years, days=0):
    return S.replace(year=S.year - years) + datetime.timedelta(days=days)


@pytest.fixture(name="warn")
def warn_fixture(region_tree, make_user):
    """One household per cause in 阳光新区 (兴义市, 黄草街道); 德坞新区 (钟山区) for scope.

    Every adult works (a current wage job) unless said otherwise.  Income 2025
    (贵州's line that year: 8,000 元/人; every household is of one person in
    its income record):

    * ``line``: 8,000.00 — exactly on the line: not under it; within a 10 % margin;
    * ``low``: 7,000 — under the line; 2024: 7,500 (a 6.7 % drop);
    * ``drop``: 10,000; 2024: 15,000 (a 33.3 % drop: over 30 %);
    * ``small_drop``: 9,000; 2024: 12,000 (25 %: not over 30 %);
    * ``zero``: the head (45) has no job → 零就业 (and ``job_ended`` see below);
    * ``ill``: 大病, not insured (a cause) and 残疾, insured (none);
    * ``child``: 6 years old on S exactly, not in school (a cause), one turning 6
      tomorrow (5: none), one aged 10 in primary school (none);
    * ``notmoved``: allocated, 未入住;
    * ``ended91`` / ``ended90``: the only job of the head ended 91 / 90 days
      before S (more than 90 days: only the first); both also 零就业;
    * ``other``: in 钟山区 (六盘水市), under the line (4,000).
    """
    from communities import enums as ce
    from communities.tests.factories import (
        HouseholdFactory,
        PersonFactory,
        SettlementFactory,
        make_id_number,
    )
    from employment.enums import EmploymentKind, WorkPlace
    from employment.models import EmploymentRecord, HouseholdIncome, MonitoringLine
    from governance.models import EarlyWarningRule, RuleKind

    rt = region_tree
    a = SettlementFactory(name="阳光新区", county=rt.xingyi, township=rt.huangcao)
    c = SettlementFactory(name="德坞新区", county=rt.zhongshan, township=rt.huangtupo)
    hh, people = {}, {}

    def member(household, name, birth, job=True, **kw):
        p = PersonFactory(
            household=household,
            name=name,
            birth_date=birth,
            id_number=make_id_number(birth, "M"),
            sex="M",
            **kw,
        )
        if job:
            EmploymentRecord.objects.create(
                person=p,
                kind=EmploymentKind.WAGE,
                place=WorkPlace.IN_COUNTY,
                start_date=datetime.date(2024, 1, 1),
            )
        people[name] = p
        return p

    for key in (
        "line",
        "low",
        "drop",
        "small_drop",
        "zero",
        "ill",
        "child",
        "notmoved",
        "ended91",
        "ended90",
    ):
        hh[key] = HouseholdFactory(
            number=f"5223010{len(hh):05d}",
            settlement=a,
            occupancy_state=(
                ce.OccupancyState.NOT_MOVED_IN if key == "notmoved" else ce.OccupancyState.MOVED_IN
            ),
        )
        member(
            hh[key],
            f"户主{key}",
            _born(45),
            job=key not in ("zero", "ended91", "ended90"),
            relationship=ce.Relationship.HEAD,
        )
    hh["other"] = HouseholdFactory(number="520201000100", settlement=c)
    member(hh["other"], "户主other", _born(45), relationship=ce.Relationship.HEAD)

    member(
        hh["ill"],
        "大病未参保",
        _born(60),
        job=False,
        health=ce.Health.SERIOUS,
        medical_insurance=False,
        labour_ability=ce.LabourAbility.LOST,
    )
    member(
        hh["ill"],
        "残疾已参保",
        _born(30),
        job=False,
        health=ce.Health.DISABLED,
        medical_insurance=True,
        labour_ability=ce.LabourAbility.LOST,
    )
    for name, birth, stage in (
        ("六岁今天", _born(6), ""),
        ("明天六岁", _born(6, days=1), ""),
        ("十岁小学", _born(10), ce.SchoolStage.PRIMARY),
    ):
        member(
            hh["child"],
            name,
            birth,
            job=False,
            school_stage=stage,
            labour_ability=ce.LabourAbility.NONE,
        )
    for key, days in (("ended91", 91), ("ended90", 90)):
        EmploymentRecord.objects.create(
            person=people[f"户主{key}"],
            kind=EmploymentKind.WAGE,
            place=WorkPlace.IN_PROVINCE,
            start_date=datetime.date(2025, 1, 1),
            end_date=S - datetime.timedelta(days=days),
        )

    MonitoringLine.objects.create(province=rt.guizhou, year=2025, amount=8000)
    for key, income, previous in (
        ("line", "8000.00", None),
        ("low", "7000", "7500"),
        ("drop", "10000", "15000"),
        ("small_drop", "9000", "12000"),
        ("other", "4000", None),
    ):
        HouseholdIncome.objects.create(
            household=hh[key], year=2025, wage_income=Decimal(income), household_size=1
        )
        if previous:
            HouseholdIncome.objects.create(
                household=hh[key], year=2024, wage_income=Decimal(previous), household_size=1
            )

    rules = {
        kind: EarlyWarningRule.objects.create(
            kind=kind, province=rt.guizhou, year=2026, parameters=params
        )
        for kind, params in (
            (RuleKind.LOW_INCOME, {"margin_percent": 0}),
            (RuleKind.ZERO_EMPLOYMENT, {}),
            (RuleKind.INCOME_DROP, {"drop_percent": 30}),
            (RuleKind.ILL_WITHOUT_INSURANCE, {}),
            (RuleKind.CHILD_OUT_OF_SCHOOL, {"min_age": 6, "max_age": 15}),
            (RuleKind.NOT_MOVED_IN, {}),
            (RuleKind.JOB_ENDED, {"days": 90}),
        )
    }
    return SimpleNamespace(
        a=a,
        c=c,
        hh=hh,
        people=people,
        rules=rules,
        regions=rt,
        worker=make_user(Role.COMMUNITY_WORKER, settlements=[a], username="warn_worker"),
        township=make_user(Role.COUNTY_OFFICIAL, regions=[rt.huangcao], username="warn_town"),
        county=make_user(Role.COUNTY_OFFICIAL, regions=[rt.xingyi], username="warn_county"),
        other_county=make_user(Role.COUNTY_OFFICIAL, regions=[rt.zhongshan], username="warn_other"),
    )


def refuse_removal(gov, record):
    """A record in monitoring through a removal (round 1) that the township refuses on day 48."""
    wf.start_removal(record, user=gov.worker, taken_on=day(40))
    walk(gov, record, upto=Step.VILLAGE, procedure_day=40)
    wf.take_step(
        record,
        Step.TOWNSHIP,
        user=gov.township,
        taken_on=day(48),
        document_number="X",
        approved=False,
        notes="仍有大病支出",
    )
    return record
