"""A hand-made world for the places-and-events tests (see ``places_world``).

Reference date D = 2026-06-30; the period Q2 runs 2026-04-01 … 2026-06-30.

Settlements: S1, S2 (兴义市, 黔西南州), S3 (钟山区, 六盘水市), S4 (兴仁市, 黔西南州, empty).

Standards: 黔西南「十个一」 2024 requires 党群服务中心, 卫生室, 幼儿园 (and a 2027
version also 警务室: not yet in force on D); 贵州省 2025 requires 党群服务中心 (S3
falls under it: 六盘水 has none of its own).

Facilities (in use = 在用 and opened on or before the date):
* F1 S1 党群服务中心 (2020); F2 S1 卫生室, also serves S2, 3 medical staff;
  F3 S1 幼儿园 opened on D itself, 5 teachers.
* F4 S2 党群服务中心; F5 S2 幼儿园 opens D+1 (在建), 4 teachers: not counted;
  F8 S2 洗衣房 (a kind an administrator added): counts as 其他.
* F6 S3 小学, 10 teachers; F7 S3 党群服务中心 停用: not counted.

So on D: S1 covered; S2 lacks 幼儿园 (卫生室 through F2 counts); S3 lacks
党群服务中心; S4 lacks all.  Facilities 3 / 2 / 1 / 0; teachers 15, medical 3.

Flows in Q2: activities A1 S1 消防演练 on 04-01 (30 人次), A2 S1 感恩教育 on
06-30 (100), A4 S2 安全培训 05-10 (20), A5 S3 广场舞 (added kind) 05-01 (40);
outside: A3 S1 安全培训 03-31, A6 S2 感恩教育 07-01.  Honours H1 S1 文明家庭
04-01, H2 S2 身边好人 (a person) 06-30; outside H3 S3 03-31.  Funds P1 S1 中央衔接
100.50 万 04-01, P4 S1 市县级 10.25 万 05-05, P2 S2 东西部协作 200 万 06-30;
outside P3 S3 社会帮扶 50 万 07-01.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from communities.tests.factories import HouseholdFactory, PersonFactory, SettlementFactory
from services.models import (
    Activity,
    ActivityKind,
    Facility,
    FacilityKind,
    FacilityState,
    FundedProject,
    FundingSource,
    Honour,
    HonourKind,
    ServiceStandard,
    ensure_reference_kinds,
)

D = datetime.date(2026, 6, 30)
Q2 = datetime.date(2026, 4, 1)


def fk(code):
    return FacilityKind.objects.get(code=code)


def ak(code):
    return ActivityKind.objects.get(code=code)


def hk(code):
    return HonourKind.objects.get(code=code)


@pytest.fixture(name="places_world")
def places_world_fixture(region_tree):
    # A flush by an earlier transactional test removes the migration's kinds.
    ensure_reference_kinds()
    rt = region_tree
    s1 = SettlementFactory(name="一号安置点", county=rt.xingyi, township=rt.huangcao)
    s2 = SettlementFactory(name="二号安置点", county=rt.xingyi, township=rt.xingtai)
    s3 = SettlementFactory(name="三号安置点", county=rt.zhongshan, township=rt.huangtupo)
    s4 = SettlementFactory(name="四号安置点", county=rt.xingren)
    ten = ServiceStandard.objects.create(name="十个一", region=rt.qianxinan, year=2024)
    ten.kinds.set([fk("party_centre"), fk("clinic"), fk("kindergarten")])
    later = ServiceStandard.objects.create(name="十个一（新）", region=rt.qianxinan, year=2027)
    later.kinds.set([fk("party_centre"), fk("clinic"), fk("kindergarten"), fk("police_room")])
    province = ServiceStandard.objects.create(name="省标准", region=rt.guizhou, year=2025)
    province.kinds.set([fk("party_centre")])
    laundry = FacilityKind.objects.create(code="laundry", name="洗衣房", order=500)
    square = ActivityKind.objects.create(code="square_dance", name="广场舞", order=500)

    def facility(settlement, kind, name, **kw):
        return Facility.objects.create(settlement=settlement, kind=kind, name=name, **kw)

    f = SimpleNamespace()
    f.f1 = facility(s1, fk("party_centre"), "一号党群中心", opened_on=datetime.date(2020, 1, 1))
    f.f2 = facility(s1, fk("clinic"), "一号卫生室", medical_staff=3)
    f.f2.also_serves.set([s2])
    f.f3 = facility(s1, fk("kindergarten"), "一号幼儿园", teachers=5, opened_on=D)
    f.f4 = facility(s2, fk("party_centre"), "二号党群中心", opened_on=datetime.date(2021, 5, 1))
    f.f5 = facility(
        s2,
        fk("kindergarten"),
        "二号幼儿园",
        teachers=4,
        opened_on=D + datetime.timedelta(days=1),
        state=FacilityState.BUILDING,
    )
    f.f6 = facility(s3, fk("primary_school"), "三号小学", teachers=10)
    f.f7 = facility(s3, fk("party_centre"), "三号党群中心", state=FacilityState.CLOSED)
    f.f8 = facility(s2, laundry, "二号洗衣房")

    def activity(settlement, kind, day, participants, title):
        return Activity.objects.create(
            settlement=settlement, kind=kind, held_on=day, participants=participants, title=title
        )

    activity(s1, ak("fire_drill"), Q2, 30, "消防演练")
    activity(s1, ak("gratitude"), D, 100, "感恩教育")
    activity(s1, ak("safety_training"), Q2 - datetime.timedelta(days=1), 50, "安全培训（三月）")
    activity(s2, ak("safety_training"), datetime.date(2026, 5, 10), 20, "安全培训")
    activity(s3, square, datetime.date(2026, 5, 1), 40, "广场舞")
    activity(s2, ak("gratitude"), D + datetime.timedelta(days=1), 60, "感恩教育（七月）")

    h1 = HouseholdFactory(settlement=s1)
    h2 = HouseholdFactory(settlement=s2)
    h3 = HouseholdFactory(settlement=s3)
    good = PersonFactory(household=h2, head=True, name="好人乙")
    Honour.objects.create(household=h1, kind=hk("civilised_family"), awarded_on=Q2)
    Honour.objects.create(household=h2, person=good, kind=hk("good_person"), awarded_on=D)
    Honour.objects.create(
        household=h3, kind=hk("model_household"), awarded_on=Q2 - datetime.timedelta(days=1)
    )

    def fund(settlement, source, amount, day):
        return FundedProject.objects.create(
            settlement=settlement,
            purpose=f"{settlement.name}项目",
            amount=Decimal(amount),
            source=source,
            year=day.year,
            allocated_on=day,
        )

    fund(s1, FundingSource.CENTRAL, "100.50", Q2)
    fund(s1, FundingSource.LOCAL, "10.25", datetime.date(2026, 5, 5))
    fund(s2, FundingSource.EAST_WEST, "200", D)
    fund(s3, FundingSource.SOCIAL, "50", D + datetime.timedelta(days=1))
    return SimpleNamespace(
        rt=rt, s1=s1, s2=s2, s3=s3, s4=s4, f=f, h1=h1, h2=h2, h3=h3, ten=ten, laundry=laundry
    )
