"""Services and culture: places and events (demo).

For the demo settlements of ``communities.demo``: facilities, one service
standard per demo prefecture (a 「十个一」 like 黔西南's, marked 演示), funded
projects, community activities, honours and collective assets, at the seed
reports' proportions:

* seed 000 (紫云, about 6,000 households, one year): 市民意识培训 135,
  感恩教育 64, 普法 55, 培训会 53, 消防演练 7 → about 5 activities per 100
  households a year; 文明家庭 46, 勤劳致富模范 20, 身边好人 55 → 2 honours per
  100 households; 2,673.8 万元 of funds.
* seed 001: 240 activities, 8.1 万人次 → a few hundred 人次 at a large event.
* seed 004: 131 schools with 8,200 teachers, 74 clinics with 400 medical staff.

Every settlement gets most of the standard's kinds; about one in six lacks one
(so the work list 缺少达标设施的安置点 has entries) and a small settlement of a
county may be served by the kindergarten or clinic of a larger one.  Each
settlement also gets activities, a 消防演练 and a 安全培训 in the running quarter,
an honour and a funded project in the running month, so that every card of
the 服务保障 and 文化 sections shows a figure in any period.

Deterministic: each settlement draws from ``random.Random`` seeded with the
seed and its code; dates are placed relative to today.  Every row gets one '+'
history row with ``DEMO_REASON``; ``delete_places_demo`` removes it all.
"""

import datetime
import random
import time
from decimal import Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from communities.demo import DEFAULT_SEED, DEMO_REASON, demo_settlements
from communities.demo.generate import (
    delete_with_history,
    write_rows_with_history,
)
from communities.models import Household, Person, Region
from relocation.demo import DemoStep, register

from ..models.places import (
    Activity,
    ActivityKind,
    AssetIncome,
    AssetKind,
    CollectiveAsset,
    Facility,
    FacilityKind,
    FacilityState,
    FundedProject,
    FundingSource,
    Honour,
    HonourKind,
    ProjectState,
    ServiceStandard,
    ensure_reference_kinds,
)

TEN = (
    "party_centre",
    "employment_centre",
    "governance_centre",
    "police_room",
    "fire_station",
    "clinic",
    "kindergarten",
    "library",
    "children_centre",
    "civilisation_station",
)
EXTRA = ("day_care", "store", "service_hall", "canteen")
# Activities a year per 100 households, by kind (seed 000, plus the kinds it does not count).
ACTIVITY_MIX = (
    ("citizenship", 135),
    ("gratitude", 64),
    ("law", 55),
    ("skills_meeting", 53),
    ("culture", 30),
    ("volunteer", 30),
    ("care", 25),
    ("safety_training", 20),
    ("fire_drill", 7),
)
ACTIVITY_TITLES = {
    "citizenship": "市民意识培训",
    "gratitude": "“感党恩、听党话、跟党走”感恩教育",
    "law": "普法宣传进社区",
    "skills_meeting": "就业技能培训动员会",
    "culture": "文化文艺演出",
    "volunteer": "志愿服务活动",
    "care": "关爱留守儿童和老人活动",
    "safety_training": "安全知识培训",
    "fire_drill": "消防应急演练",
}
HONOUR_MIX = (
    ("civilised_family", 46),
    ("model_household", 20),
    ("good_person", 55),
    ("best_family", 15),
)
FUND_MIX = (
    (FundingSource.CENTRAL, 50),
    (FundingSource.EAST_WEST, 20),
    (FundingSource.PROVINCIAL, 10),
    (FundingSource.LOCAL, 15),
    (FundingSource.SOCIAL, 5),
)
FUND_PURPOSES = (
    "扶贫车间建设",
    "社区道路及配套设施改造",
    "就业技能培训",
    "社区服务中心设备购置",
    "产业配套基础设施",
    "公共服务设施维修",
)
STANDARD_NOTE = "演示用示意标准，依黔西南州“十个一”配套要求整理，非正式文件。"
MODELS = (AssetIncome, CollectiveAsset, Honour, Activity, FundedProject, Facility)


def _pick(rng, table):
    total = sum(weight for _value, weight in table)
    point = rng.uniform(0, total)
    for value, weight in table:
        point -= weight
        if point <= 0:
            return value
    return table[-1][0]


def _day_between(rng, start, end):
    return start + datetime.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _demo_ids(model):
    return model.history.model._base_manager.filter(
        history_type="+", history_change_reason=DEMO_REASON
    ).values("id")


def places_demo_exists():
    return (
        ServiceStandard.history.filter(history_type="+", history_change_reason=DEMO_REASON).exists()
        or Facility.objects.filter(settlement__in=demo_settlements()).exists()
    )


def places_demo_counts():
    ids = list(demo_settlements().values_list("pk", flat=True))
    return {
        "facilities": Facility.objects.filter(settlement_id__in=ids).count(),
        "standards": ServiceStandard.objects.filter(pk__in=_demo_ids(ServiceStandard)).count(),
        "funded_projects": FundedProject.objects.filter(settlement_id__in=ids).count(),
        "activities": Activity.objects.filter(settlement_id__in=ids).count(),
        "honours": Honour.objects.filter(household__settlement_id__in=ids).count(),
        "assets": CollectiveAsset.objects.filter(settlement_id__in=ids).count(),
    }


def delete_places_demo():
    """Delete every places record of the demo settlements, the demo standards and their history."""
    ids = list(demo_settlements().values_list("pk", flat=True))
    deleted = 0
    with transaction.atomic():
        selections = (
            (AssetIncome, {"asset__settlement_id__in": ids}),
            (CollectiveAsset, {"settlement_id__in": ids}),
            (Honour, {"household__settlement_id__in": ids}),
            (Activity, {"settlement_id__in": ids}),
            (FundedProject, {"settlement_id__in": ids}),
            (Facility, {"settlement_id__in": ids}),
        )
        for model, lookup in selections:
            deleted += delete_with_history(model, model._base_manager.filter(**lookup))
        # Facilities of other settlements that served a demo settlement keep their own rows.
        links = Facility.also_serves.through.objects.filter(settlement_id__in=ids)
        links._raw_delete(links.db)
        standards = ServiceStandard._base_manager.filter(pk__in=_demo_ids(ServiceStandard))
        deleted += delete_with_history(ServiceStandard, standards)
    return deleted


class _Builder:
    def __init__(self, seed, today):
        self.seed = seed
        self.today = today
        self.quarter_start = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        self.month_start = today.replace(day=1)
        self.facility_kinds = {k.code: k for k in FacilityKind.objects.all()}
        self.activity_kinds = {k.code: k for k in ActivityKind.objects.all()}
        self.honour_kinds = {k.code: k for k in HonourKind.objects.all()}
        # Dicts of attnames, written by ``write_rows_with_history``.
        self.rows = {model: [] for model in MODELS}
        self.served = []  # (hub settlement, facility kind code, settlement)

    def run(self):
        settlements = list(
            demo_settlements()
            .annotate(n_households=Count("households"))
            .select_related("county")
            .order_by("code")
        )
        self._standards({s.county_id[:4] + "00" for s in settlements})
        by_county = {}
        for settlement in settlements:
            by_county.setdefault(settlement.county_id, []).append(settlement)
        for county_settlements in by_county.values():
            self._county(county_settlements)
        self._write()

    def _standards(self, prefectures):
        kinds = [self.facility_kinds[code] for code in TEN]
        for region in Region.objects.filter(code__in=sorted(prefectures)).order_by("code"):
            standard = ServiceStandard(
                name=f"{region.name}安置点“十个一”公共服务设施配套标准（演示）",
                region=region,
                year=self.today.year - 3,
                notes=STANDARD_NOTE,
            )
            ServiceStandard.objects.bulk_create([standard], history_reason=DEMO_REASON)
            standard.kinds.set(kinds)

    def _rng(self, settlement, what):
        return random.Random(f"{self.seed}-{settlement.code}-{what}")

    def _county(self, settlements):
        # The largest settlement of a county may serve the small ones.
        largest = max(settlements, key=lambda s: (s.n_households, s.code))
        for settlement in settlements:
            self._facilities(settlement, largest if settlement is not largest else None)
            self._activities(settlement)
            self._honours(settlement)
            self._funds(settlement)
            self._assets(settlement)

    # --- facilities ----------------------------------------------------------------
    def _facilities(self, settlement, hub):
        rng = self._rng(settlement, "facilities")
        size = max(settlement.n_households, 1)
        missing = rng.choice(TEN) if rng.random() < 0.15 else None
        opened = datetime.date(settlement.year_built or self.today.year - 5, 9, 1)
        for code in TEN + tuple(c for c in EXTRA if rng.random() < 0.5):
            if code == missing:
                continue
            if hub is not None and code in ("kindergarten", "clinic") and rng.random() < 0.4:
                self.served.append((hub, code, settlement))
                continue
            self._facility(rng, settlement, code, size, min(opened, self.today))
        if size >= 200 or rng.random() < 0.3:
            self._facility(rng, settlement, "primary_school", size, min(opened, self.today))
        if size >= 600:
            self._facility(rng, settlement, "middle_school", size, min(opened, self.today))
        # One facility still being built (not counted until it opens).
        if rng.random() < 0.3:
            code = rng.choice(EXTRA)
            self._facility(
                rng,
                settlement,
                code,
                size,
                self.today + datetime.timedelta(days=rng.randint(30, 200)),
                state=FacilityState.BUILDING,
                suffix="（在建）",
            )

    def _facility(self, rng, settlement, code, size, opened, state=FacilityState.IN_USE, suffix=""):
        kind = self.facility_kinds[code]
        teachers = medical = 0
        capacity = None
        if code == "kindergarten":
            capacity = max(30, size // 4 * 5 // 10 * 10)
            teachers = max(3, capacity // 15)
        elif code in ("primary_school", "middle_school"):
            capacity = max(120, size // 2 * 10 // 10)
            teachers = max(12, capacity // 18)
        elif code == "clinic":
            capacity = rng.randint(4, 20)
            medical = rng.randint(3, 8)
        elif code in ("day_care", "canteen", "library", "children_centre"):
            capacity = rng.randint(20, 80)
        self.rows[Facility].append(
            {
                "settlement_id": settlement.pk,
                "kind_id": kind.pk,
                "name": f"{settlement.name}{kind.name.split('/')[0]}{suffix}",
                "capacity": capacity,
                "teachers": teachers,
                "medical_staff": medical,
                "opened_on": opened,
                "state": state,
            }
        )

    # --- activities, honours, funds, assets ------------------------------------------
    def _activities(self, settlement):
        rng = self._rng(settlement, "activities")
        size = max(settlement.n_households, 1)
        start = self.today.replace(year=self.today.year - 2, day=1)
        per_year = max(12, round(size * 0.05 * sum(w for _k, w in ACTIVITY_MIX) / 439))
        count = per_year * 2
        plans = [
            (_pick(rng, ACTIVITY_MIX), _day_between(rng, start, self.today)) for _ in range(count)
        ]
        # The running quarter and month always have some.
        plans += [
            ("fire_drill", _day_between(rng, self.quarter_start, self.today)),
            ("safety_training", _day_between(rng, self.quarter_start, self.today)),
            ("gratitude", _day_between(rng, self.month_start, self.today)),
            ("citizenship", _day_between(rng, self.month_start, self.today)),
        ]
        for code, day in plans:
            big = code in ("culture", "gratitude") and rng.random() < 0.3
            participants = rng.randint(150, 400) if big else rng.randint(20, 120)
            self.rows[Activity].append(
                {
                    "settlement_id": settlement.pk,
                    "kind_id": self.activity_kinds[code].pk,
                    "title": ACTIVITY_TITLES[code],
                    "held_on": day,
                    "organiser": rng.choice(
                        ("社区居委会", "社区党支部", "街道办事处", "县妇联", "县消防救援大队")
                    ),
                    "participants": participants,
                }
            )

    def _honours(self, settlement):
        rng = self._rng(settlement, "honours")
        # Ids only: the members' personal data is never read (nor decrypted).
        households = list(
            Household.objects.filter(settlement=settlement)
            .order_by("number")
            .values_list("pk", flat=True)
        )
        if not households:
            return
        members = {}
        for household_id, person_id in (
            Person.objects.filter(household__settlement=settlement)
            .order_by("household_id", "pk")
            .values_list("household_id", "pk")
        ):
            members.setdefault(household_id, []).append(person_id)
        per_year = max(2, round(len(households) * 0.02))
        years = (self.today.year - 1, self.today.year)
        dates = [datetime.date(year, 1, 20) for year in years for _ in range(per_year)]
        dates[-1] = _day_between(rng, self.month_start, self.today)  # one in the running month
        given = set()
        for day in dates:
            day = min(day, self.today)
            household = rng.choice(households)
            code = _pick(rng, HONOUR_MIX)
            people = members.get(household, [])
            person = rng.choice(people) if code == "good_person" and people else None
            key = (household, code, person, day.year)
            if key in given:  # once a year per household (person) and kind
                continue
            given.add(key)
            self.rows[Honour].append(
                {
                    "household_id": household,
                    "person_id": person,
                    "kind_id": self.honour_kinds[code].pk,
                    "awarded_on": day,
                    "awarded_by": rng.choice(("社区居委会", "街道办事处", "县文明办")),
                }
            )

    def _funds(self, settlement):
        rng = self._rng(settlement, "funds")
        size = max(settlement.n_households, 1)
        # About 0.45 万元 per household a year (seed 000: 2,673.8 万元 for ~6,000 households).
        for year in (self.today.year - 1, self.today.year):
            budget = Decimal(size) * Decimal("0.45") * Decimal(rng.uniform(0.7, 1.3))
            projects = rng.randint(2, 4)
            for index in range(projects):
                end = self.today if year == self.today.year else datetime.date(year, 12, 31)
                day = _day_between(rng, datetime.date(year, 1, 1), end)
                if year == self.today.year and index == 0:
                    day = _day_between(rng, self.month_start, self.today)
                self.rows[FundedProject].append(
                    {
                        "settlement_id": settlement.pk,
                        "purpose": rng.choice(FUND_PURPOSES),
                        "amount": (budget / projects).quantize(Decimal("0.01")) + Decimal("1.00"),
                        "source": _pick(rng, FUND_MIX),
                        "year": year,
                        "allocated_on": day,
                        "state": ProjectState.DONE
                        if year < self.today.year
                        else ProjectState.UNDERWAY,
                    }
                )

    def _assets(self, settlement):
        rng = self._rng(settlement, "assets")
        for kind, name in (
            (AssetKind.SHOP, "商铺门面"),
            (AssetKind.WORKSHOP, "标准化厂房"),
            (AssetKind.GREENHOUSE, "蔬菜大棚"),
        ):
            if rng.random() < 0.6:
                self.rows[CollectiveAsset].append(
                    {
                        "settlement_id": settlement.pk,
                        "name": f"{settlement.name}{name}",
                        "kind": kind,
                        "area_m2": Decimal(rng.randint(200, 3000)),
                        "value": Decimal(rng.randint(50, 800)),
                        "acquired_on": datetime.date(settlement.year_built or 2019, 6, 1),
                    }
                )

    def _write(self):
        now = timezone.now()
        for model in (Facility, Activity, Honour, FundedProject, CollectiveAsset):
            write_rows_with_history(model, self.rows[model], now)
        hubs = {}
        for facility in self.rows[Facility]:
            hubs.setdefault((facility["settlement_id"], facility["kind_id"]), facility["id"])
        links = []
        for hub_settlement, code, settlement in self.served:
            facility_id = hubs.get((hub_settlement.pk, self.facility_kinds[code].pk))
            if facility_id is not None:
                links.append(
                    Facility.also_serves.through(
                        facility_id=facility_id, settlement_id=settlement.pk
                    )
                )
        Facility.also_serves.through.objects.bulk_create(links, batch_size=2000)
        incomes = []
        for asset in self.rows[CollectiveAsset]:
            rng = random.Random(f"{self.seed}-{asset['name']}-income")
            for year in (self.today.year - 2, self.today.year - 1):
                income = Decimal(rng.randint(5, 60))
                share = Decimal(rng.choice((40, 50, 60, 70))) / 100
                incomes.append(
                    {
                        "asset_id": asset["id"],
                        "year": year,
                        "income": income,
                        "distributed": (income * share).quantize(Decimal("0.01")),
                        "sharing": rng.choice(
                            ("按户分红", "公益性岗位工资", "社区公共服务开支", "困难群众救助")
                        ),
                    }
                )
        write_rows_with_history(AssetIncome, incomes, now)


def build_places_demo(seed=DEFAULT_SEED, today=None):
    """Create the places demo for the demo settlements (idempotent); (created, counts, seconds)."""
    started = time.monotonic()
    if places_demo_exists() or not demo_settlements().exists():
        return False, places_demo_counts(), time.monotonic() - started
    ensure_reference_kinds()
    with transaction.atomic():
        _Builder(seed, today or timezone.localdate()).run()
    return True, places_demo_counts(), time.monotonic() - started


COUNT_LABELS = (
    ("facilities", "服务设施"),
    ("standards", "服务标准（演示）"),
    ("funded_projects", "资金项目"),
    ("activities", "社区活动"),
    ("honours", "评选表彰"),
    ("assets", "集体资产"),
)


def demo_step(context):
    created, counts, elapsed = build_places_demo(seed=context.seed)
    if created:
        context.created.add("services_places")
        yield "服务设施、活动与表彰演示数据已生成。"
    else:
        yield "已存在服务设施、活动与表彰演示数据（或没有演示安置点），未重复生成。"
    yield "  " + "，".join(f"{label} {counts.get(key, 0):,}" for key, label in COUNT_LABELS)
    yield f"  用时 {elapsed:.1f} 秒"


register(
    DemoStep(
        "services_places",
        build=demo_step,
        remove=delete_places_demo,
        order=40,
        after=("communities",),
    )
)
