"""A hand-computed world over three levels for the dashboard tests.

贵州省 → 黔西南州 → 兴义市 → 黄草街道 / 兴泰街道, and 六盘水市 → 钟山区 → 黄土坡街道.
Ages are whole years today; "labour" means 16–60, able, not in school.

* s1 阳光新区 (兴义市, 黄草街道): H1, registered poor, moved in, hukou kept without
  permit, relocated 2018 — 户主一 40 (wage job in the county), 配偶一 38 (no job),
  长子一 30 (farming only), 次女一 10 (pupil).  Labour 3, employed 1.
* s2 栗坪安置点 (兴义市, 兴泰街道): H2, moved along, not moved in, hukou kept,
  relocated 2019 — 户主二 35 (public-welfare post since the 1st of this month),
  holds a residence permit.  Labour 1, employed 1.
* s3 空置安置点 (兴义市, no township): no households at all.
* s4 德坞新区 (钟山区, 黄土坡街道): H3, registered poor, moved in, hukou kept with a
  residence permit, relocated 2016 — 户主三 45, 配偶三 44, 长子三 20 (none employed),
  老人三 70.  Labour 3, employed 0.

Income of the last complete year Y (line of 贵州: 5,000 元/人):
H1 24,000 net / 4 people (Y−1: 18,000 / 4), H2 13,000 / 1 (nothing for Y−1),
H3 4,000 / 4 (Y−1: 4,000 / 4) → H3 is under the line.
"""

import dataclasses
import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from communities import enums
from communities.tests.conftest import world  # noqa: F401  (scope tests)
from communities.tests.factories import HouseholdFactory, PersonFactory, SettlementFactory
from employment import enums as eenums
from employment.models import (
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    JobPosting,
    MonitoringLine,
    Referral,
)
from relocation.dashboards.periods import income_year
from relocation.dashboards.registry import registry


def _person(household, name, age, relationship=enums.Relationship.SON, **kw):
    return PersonFactory(household=household, name=name, age=age, relationship=relationship, **kw)


@pytest.fixture
def dash(region_tree, make_user, superuser):
    rt = region_tree
    today = timezone.localdate()
    month_start = today.replace(day=1)
    s1 = SettlementFactory(name="阳光新区", county=rt.xingyi, township=rt.huangcao)
    s2 = SettlementFactory(name="栗坪安置点", county=rt.xingyi, township=rt.xingtai)
    s3 = SettlementFactory(name="空置安置点", county=rt.xingyi, township=None)
    s4 = SettlementFactory(name="德坞新区", county=rt.zhongshan, township=rt.huangtupo)

    h1 = HouseholdFactory(
        settlement=s1,
        relocation_year=2018,
        category=enums.HouseholdCategory.REGISTERED_POOR,
        occupancy_state=enums.OccupancyState.MOVED_IN,
        hukou_state=enums.HukouState.ORIGINAL,
    )
    p1 = _person(h1, "户主一", 40, enums.Relationship.HEAD, sex="M")
    p2 = _person(h1, "配偶一", 38, enums.Relationship.SPOUSE, sex="F")
    p3 = _person(h1, "长子一", 30, sex="M")
    _person(h1, "次女一", 10, enums.Relationship.DAUGHTER, sex="F", school_stage="primary")

    h2 = HouseholdFactory(
        settlement=s2,
        relocation_year=2019,
        category=enums.HouseholdCategory.MOVED_ALONG,
        occupancy_state=enums.OccupancyState.NOT_MOVED_IN,
        hukou_state=enums.HukouState.ORIGINAL,
    )
    p5 = _person(h2, "户主二", 35, enums.Relationship.HEAD, sex="M", residence_permit=True)

    h3 = HouseholdFactory(
        settlement=s4,
        relocation_year=2016,
        category=enums.HouseholdCategory.REGISTERED_POOR,
        occupancy_state=enums.OccupancyState.MOVED_IN,
        hukou_state=enums.HukouState.RESIDENCE_PERMIT,
    )
    _person(h3, "户主三", 45, enums.Relationship.HEAD, sex="M")
    _person(h3, "配偶三", 44, enums.Relationship.SPOUSE, sex="F")
    _person(h3, "长子三", 20, sex="M")
    _person(h3, "老人三", 70, enums.Relationship.FATHER, sex="M")

    long_ago = today - datetime.timedelta(days=800)
    EmploymentRecord.objects.create(
        person=p1,
        kind=eenums.EmploymentKind.WAGE,
        place=eenums.WorkPlace.IN_COUNTY,
        employer_name="兴义某厂",
        start_date=long_ago,
    )
    EmploymentRecord.objects.create(
        person=p3,
        kind=eenums.EmploymentKind.FARMING,
        place=eenums.WorkPlace.IN_COUNTY,
        start_date=long_ago,
    )
    EmploymentRecord.objects.create(
        person=p5,
        kind=eenums.EmploymentKind.PUBLIC_WELFARE,
        place=eenums.WorkPlace.IN_COUNTY,
        employer_name="栗坪社区",
        start_date=month_start,
    )

    # Two referrals of 配偶一 this month (岗位推送人次 2 in s1), one last year (not counted).
    employer = Employer.objects.create(
        name="兴义某厂", kind=eenums.EmployerKind.ENTERPRISE, county=rt.xingyi
    )
    for title, day in (("普工", month_start), ("质检", today), ("搬运", long_ago)):
        posting = JobPosting.objects.create(
            employer=employer, title=title, place=eenums.WorkPlace.IN_COUNTY, posted_on=long_ago
        )
        Referral.objects.create(person=p2, posting=posting, referred_on=day)

    year = income_year(today)
    MonitoringLine.objects.create(province=rt.guizhou, year=year, amount=Decimal("5000"))
    for household, y, wage, transfer, size in (
        (h1, year, 20000, 4000, 4),
        (h1, year - 1, 15000, 3000, 4),
        (h2, year, 12000, 1000, 1),
        (h3, year, 3000, 1000, 4),
        (h3, year - 1, 4000, 0, 4),
    ):
        HouseholdIncome.objects.create(
            household=household,
            year=y,
            wage_income=Decimal(wage),
            transfer_income=Decimal(transfer),
            household_size=size,
        )
    return SimpleNamespace(
        s1=s1,
        s2=s2,
        s3=s3,
        s4=s4,
        h1=h1,
        h2=h2,
        h3=h3,
        p2=p2,
        p5=p5,
        today=today,
        year=year,
        regions=rt,
        admin=superuser,
        make_user=make_user,
    )


@pytest.fixture
def live(dash):
    """The world with the running periods computed."""
    from relocation.dashboards import engine

    engine.refresh_live(full=True)
    return dash


@pytest.fixture
def asked(monkeypatch):
    """``(source key, since)`` of every call of a source's ``changes``, in order."""
    calls = []

    def spy(key, changes):
        def recorded(since):
            calls.append((key, since))
            return changes(since)

        return recorded

    for key, source in list(registry.sources.items()):
        if source.changes is not None:
            spied = dataclasses.replace(source, changes=spy(key, source.changes))
            monkeypatch.setitem(registry.sources, key, spied)
    return calls
