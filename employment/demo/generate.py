"""The generator of the employment demo: employers, the employment ledger, postings
and referrals, training, household income, claims, loans and monitoring lines
for the demo settlements, with the mixes of the seed reports (see the package's
docstring).  Every draw comes from ``random.Random`` seeded from the seed and a
settlement or county code.
"""

import datetime
import itertools
import random
import time
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from communities.demo import (
    DEMO_REASON,
    demo_settlements,
)
from communities.demo.generate import PendingRows, Progress, in_processes
from communities.models import Person, Region, shift_years

from .. import enums
from ..models import (
    BusinessLoan,
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    InsuranceClaim,
    JobPosting,
    MonitoringLine,
    Referral,
    TrainingAttendance,
    TrainingCourse,
)
from ..validators import credit_code_check_char

K = enums.EmploymentKind
P = enums.WorkPlace
V = enums.FoundVia
EK = enums.EmployerKind
EL = enums.EmployerLocation

# Illustrative 防返贫监测线 (元/人/年) for the last two complete years: the order of
# magnitude of published lines (云南 2023 8,050, 2025 8,700; 福建 2023 10,560), not
# Guizhou's published figure.
ILLUSTRATIVE_LINE = {-1: Decimal("7600"), 0: Decimal("8000")}
LINE_SOURCE = (
    "演示用示意值：参照云南、甘肃等省公布监测范围的量级设定，并非贵州省公布的标准；"
    "正式使用请由管理员按本省当年文件录入。"
)

# Labour-force members: share not employed before households are looked at
# (weak labour more often), and the kind of job of the others.  Weights per
# 100 employed; with weak labour ~10 % of the labour force this gives about
# 6 % public-welfare posts, 3 % self-employed, 1.5 % workshops and half of
# the employed inside the county (seed 001: 5.6 %, 2.8 %, 0.7 %, 46.8 %).
P_NOT_EMPLOYED = {"weak": 0.08, "other": 0.042}
JOB_MIX = {
    "weak": (
        ("public_welfare", 25),
        ("workshop", 5),
        ("flexible", 20),
        ("wage_county", 25),
        ("self", 2),
        ("wage_province", 8),
        ("wage_out", 10),
    ),
    "other": (
        ("public_welfare", 3.0),
        ("workshop", 1.0),
        ("flexible", 8),
        ("wage_county", 28),
        ("self", 3.5),
        ("wage_province", 19.5),
        ("wage_out", 37),
    ),
}
# A household whose labour all lack work is offered a public-welfare post
# first (兜底安置); a quarter of them are still waiting.
P_ZERO_EMPLOYMENT_PLACED = 0.75
# What the not-employed do: farm back home only, lost a job in the last 30
# days, lost one longer ago, or have not worked since moving.
NOT_EMPLOYED_MIX = (("farming", 35), ("recent_end", 15), ("long_end", 30), ("never", 20))
# The pay of skilled and of weak labour against the others'.
SKILL = {"skilled": 1.15, "weak": 0.85}
MONTHLY = {  # 元/月, before the skill factor
    "wage_out": (4200, 7000),
    "wage_province": (3200, 5200),
    "wage_county": (2300, 4000),
    "workshop": (1800, 3000),
    "public_welfare": (1000, 1800),
    "flexible": (1200, 3000),
    "self": (3000, 7000),
}
# Share of the months a job covers that shows up as yearly income (seasonal
# gaps, sick leave, what households report): calibrated so that per-capita
# net income comes to about 14,000 元 with wage income about 78 % of gross.
WAGE_REPORTED = 0.66
BUSINESS_REPORTED = 0.8
# Growth of each income part from the year before to the latest year.
GROWTH = {
    "wage": (0.18, 0.10),
    "business": (0.12, 0.10),
    "transfer": (0.07, 0.04),
    "property": (0.10, 0.08),
}
# Households whose income falls under the line are mostly lifted by 兜底 aid
# (低保, 临时救助); the rest stay on the monitoring list.
P_STAY_BELOW_LINE = 0.05

OUT_OF_PROVINCE = (
    ("广东省东莞市", 5),
    ("广东省深圳市", 3),
    ("广东省广州市", 2),
    ("广东省佛山市", 2),
    ("浙江省宁波市", 3),
    ("浙江省杭州市", 1),
    ("浙江省温州市", 1),
    ("浙江省义乌市", 2),
    ("福建省泉州市", 2),
    ("福建省厦门市", 1),
    ("江苏省苏州市", 2),
    ("上海市", 1),
)
IN_PROVINCE = (("贵阳市", 5), ("遵义市", 2), ("安顺市", 1), ("毕节市", 1), ("凯里市", 1))
POSITIONS = {
    "wage_out": (
        "普工",
        "电子厂操作工",
        "建筑工",
        "服装缝纫工",
        "餐饮服务员",
        "快递分拣员",
        "保安",
    ),
    "wage_province": ("建筑工", "餐饮服务员", "保安", "商场导购", "物流搬运工", "操作工"),
    "wage_county": ("操作工", "缝纫工", "保洁员", "服务员", "仓管员", "搬运工", "建筑工", "司机"),
    "workshop": ("缝纫工", "手工编织", "电子组装", "蜡染工", "包装工"),
    "public_welfare": (
        "保洁员",
        "护林员",
        "治安巡逻员",
        "楼栋管理员",
        "网格辅助员",
        "公共设施管护员",
        "护河员",
    ),
    "flexible": ("家政服务", "外卖骑手", "零工", "网约车司机", "摆摊经营", "装修零工"),
}
SELF_BUSINESS = (
    ("便利店", "个体零售"),
    ("小吃店", "餐饮"),
    ("理发店", "理发"),
    ("电商网店", "电商"),
    ("货运", "运输"),
    ("养殖场", "养殖"),
    ("服装店", "零售"),
    ("维修部", "家电维修"),
)
ENTERPRISE_TRADES = (
    ("服饰", "纺织服装", "缝纫工"),
    ("电子科技", "电子元件制造", "电子装配工"),
    ("食品", "食品加工", "包装工"),
    ("鞋业", "制鞋", "操作工"),
    ("农业发展", "农产品加工", "分拣工"),
    ("建材", "建材生产", "操作工"),
    ("物业服务", "物业管理", "保洁员"),
    ("旅游开发", "旅游服务", "服务员"),
)
ENTERPRISE_WORDS = (
    "鑫源 宏达 恒发 金穗 兴盛 佳美 华腾 锦程 远航 盛世 汇丰 瑞丰 万通 嘉禾 永安".split()
)
WORKSHOP_TRADES = (
    ("服饰", "缝纫工"),
    ("蜡染刺绣", "蜡染工"),
    ("手工编织", "编织工"),
    ("电子配件", "电子组装"),
    ("假发加工", "手工制发"),
    ("竹编", "编织工"),
)
OUTSIDE_EMPLOYERS = (
    ("东莞市", "441900", "电子有限公司", "电子元件制造"),
    ("宁波市", "330200", "制衣有限公司", "纺织服装"),
    ("泉州市", "350500", "鞋业有限公司", "制鞋"),
    ("苏州市", "320500", "精密制造有限公司", "机械制造"),
)
COURSES = (
    (enums.TrainingKind.GUIDANCE, "搬迁群众就业引导性培训", "", 24),
    (enums.TrainingKind.SKILL, "家政服务员培训班", "家政服务员（五级）", 80),
    (enums.TrainingKind.SKILL, "中式烹调师培训班", "中式烹调师（五级）", 96),
    (enums.TrainingKind.SKILL, "电工培训班", "电工（五级）", 120),
    (enums.TrainingKind.SKILL, "育婴员培训班", "育婴员（五级）", 80),
    (enums.TrainingKind.SKILL, "缝纫工培训班", "缝纫工（初级）", 60),
    (enums.TrainingKind.ENTREPRENEURSHIP, "SYB创业培训班", "创业培训合格证", 80),
    (enums.TrainingKind.APPRENTICESHIP, "以工代训岗位技能提升班", "", 40),
)
LENDERS = ("贵州省农村信用社", "中国农业银行", "中国邮政储蓄银行", "贵州银行")


def _weighted(pairs):
    """(values, cumulative weights) of ``(value, weight)`` pairs: a table for ``_pick``."""
    values = [v for v, _w in pairs]
    cum_weights = list(itertools.accumulate(w for _v, w in pairs))
    return values, cum_weights


def _pick(rng, table):
    """A value of ``table`` by its weight.  ``choices`` turns weights into these same
    cumulative weights before it draws, so giving them is the same draw, without
    adding the weights up on every call."""
    values, cum_weights = table
    return rng.choices(values, cum_weights=cum_weights)[0]


JOB_TABLES = {k: _weighted(v) for k, v in JOB_MIX.items()}
NOT_EMPLOYED_TABLE = _weighted(NOT_EMPLOYED_MIX)
OUT_TABLE = _weighted(OUT_OF_PROVINCE)
IN_PROVINCE_TABLE = _weighted(IN_PROVINCE)


CENT = Decimal("0.01")


def _money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _cents(value):
    """``value`` (a float, 元) rounded to cents, as ``_money(round(value, 2))`` gives it.

    Both round the float's exact value half-even to two places (``round`` then
    lands within far less than half a cent of those digits, which ``_money``
    keeps); formatting them once is cheaper than converting and quantizing.
    """
    return Decimal(f"{value:.2f}")


def _org_code(rng):
    """A GB 11714 organisation code (8 digits and its check character)."""
    body = [rng.randrange(10) for _ in range(8)]
    total = sum(d * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return "".join(map(str, body)) + ("X" if check == 10 else "0" if check == 11 else str(check))


def _city(place):
    """ "广东省东莞市" → "东莞市"."""
    return place.split("省")[-1]


class _Year:
    """A calendar year's first and last day and its length, worked out once."""

    def __init__(self, year):
        self.first, self.last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        self.days = (self.last - self.first).days + 1

    def fraction(self, start, end, today):
        """Share of the year (0–1) covered by the period ``start``..``end`` (open: today)."""
        lo, hi = max(start, self.first), min(end or today, self.last)
        if hi < lo:
            return 0.0
        return ((hi - lo).days + 1) / self.days


# The demo's tables, children before parents.
_DELETE_ORDER = (
    Referral,
    TrainingAttendance,
    InsuranceClaim,
    BusinessLoan,
    EmploymentRecord,
    HouseholdIncome,
    JobPosting,
    TrainingCourse,
    Employer,
    MonitoringLine,
)


#: The models a settlement's rows go to, in the order they are written (``PendingRows``);
#: the step fills their tables without reading them back (``communities.demo.generate.loading``).
LOADED = (
    EmploymentRecord,
    Referral,
    TrainingAttendance,
    InsuranceClaim,
    BusinessLoan,
    HouseholdIncome,
)


class _Builder:
    def __init__(self, seed, today, stdout, workers=1):
        self.seed = seed
        self.workers = workers
        self.today = today
        self.year = today.year - 1  # the last complete year
        self.stdout = stdout
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        # Claims get their policy numbers here, in order (``_take``): kept as rows.
        self.pending = PendingRows(
            self.now,
            LOADED,
            references={Referral: {"employment_id": EmploymentRecord}},
            keep_rows=(InsuranceClaim,),
        )
        self.made = None  # a settlement's rows as they are made: {model: [rows]}
        self.timings = Counter()
        self.credit_codes = set(
            Employer.objects.exclude(credit_code="").values_list("credit_code", flat=True)
        )
        # The labour-force settings, read once (a setting read per person shows in the profile).
        self.labour_age_min = settings.LABOUR_AGE_MIN
        self.labour_earliest = shift_years(today, -(settings.LABOUR_AGE_MAX + 1))
        self.labour_latest = shift_years(today, -self.labour_age_min)
        self.labour_excluded_abilities = settings.LABOUR_EXCLUDED_ABILITIES
        self.labour_exclude_students = settings.LABOUR_EXCLUDE_STUDENTS
        self.last_year = _Year(self.year)
        self.lines = {}
        self.claims = 0

    # ----------------------------------------------------------------- setup
    def run(self):
        settlements = list(demo_settlements().select_related("county").order_by("code"))
        counties = sorted({s.county_id: s.county for s in settlements}.items())
        self._monitoring_lines({s.county_id[:2] for s in settlements})
        self.county_employers = {}
        self.settlement_employers = defaultdict(dict)
        for code, county in counties:
            self._county_employers(county, [s for s in settlements if s.county_id == code])
        self._postings(counties, settlements)
        self._courses(counties, settlements)
        self.settlements = settlements
        progress = Progress(self.stdout, "就业与收入", len(settlements))
        # The rows are made in other processes (``in_processes``), each
        # settlement's people read here, in this transaction.
        tasks = ((index, self._people(s)) for index, s in enumerate(settlements))
        for index, made in enumerate(
            in_processes(self.pending.packing(self._make), tasks, self.workers)
        ):
            self._take(made)
            progress.tick(index + 1)
        self.pending.flush()
        self.timings["write"] = self.pending.seconds

    def analyze(self):
        """Fresh statistics of the tables ``run`` wrote, for the figures the step prints
        (PostgreSQL); the people and households it reads were analysed when the
        communities step ended (``load_demo``'s ``analyze``).  After the commit: analysed
        inside the transaction that wrote them, a table counts its rows as changed since,
        at the commit, and ``load_demo`` analysed it again."""
        if not self.postgres:
            return
        started = time.monotonic()
        with connection.cursor() as cursor:
            if connection.pg_version >= 150000:
                # The commit's changes are counted before the ANALYZE that resets the count,
                # even when the server's last count came less than a second ago.
                cursor.execute("SELECT pg_stat_force_next_flush()")
            for model in _DELETE_ORDER:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.timings["analyze"] += time.monotonic() - started

    def _monitoring_lines(self, provinces):
        for prefix in sorted(provinces):
            province = Region.objects.filter(code=f"{prefix}0000").first()
            if province is None:
                continue
            for offset, amount in ILLUSTRATIVE_LINE.items():
                year = self.year + offset
                line = MonitoringLine.objects.filter(province=province, year=year).first()
                if line is None:
                    line = MonitoringLine(
                        province=province, year=year, amount=amount, source=LINE_SOURCE
                    )
                    line._change_reason = DEMO_REASON
                    line.save()
                self.lines[(prefix, year)] = line.amount

    def _credit_code(self, rng, prefix, region):
        while True:
            first17 = f"{prefix}{region}{_org_code(rng)}"
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def _county_employers(self, county, settlements):
        rng = random.Random(f"{self.seed}:employers:{county.code}")
        short = county.name[:2]
        objs = []
        provider = Employer(
            name=f"{county.name}人力资源和社会保障局",
            kind=EK.PUBLIC_WELFARE,
            credit_code=self._credit_code(rng, "11", county.code),
            county=county,
            location=EL.IN_COUNTY,
            industry="公共管理",
            address=f"{county.name}人民政府大院",
            notes="统筹开发保洁、护林、治安巡逻等公益性岗位。",
        )
        objs.append(provider)
        enterprises = []
        n = min(12, 2 + len(settlements))
        words = rng.sample(ENTERPRISE_WORDS, min(n, len(ENTERPRISE_WORDS)))
        for i in range(n):
            trade, industry, _job = ENTERPRISE_TRADES[(i + rng.randrange(8)) % 8]
            home = settlements[i % len(settlements)] if settlements else None
            enterprise = Employer(
                name=f"{short}{words[i % len(words)]}{trade}有限公司",
                kind=EK.ENTERPRISE,
                credit_code=self._credit_code(rng, "91", county.code) if rng.random() < 0.8 else "",
                county=county,
                settlement=home if rng.random() < 0.4 else None,
                location=EL.NEARBY if rng.random() < 0.5 else EL.IN_COUNTY,
                industry=industry,
                address=f"{county.name}产业园区{rng.randint(1, 30)}号",
                contact_name=rng.choice("王李张刘陈杨黄吴") + rng.choice(("经理", "主任", "女士")),
            )
            enterprises.append(enterprise)
        objs += enterprises
        city, region, suffix, industry = OUTSIDE_EMPLOYERS[rng.randrange(len(OUTSIDE_EMPLOYERS))]
        outside = Employer(
            name=f"{city}{rng.choice(ENTERPRISE_WORDS)}{suffix}",
            kind=EK.ENTERPRISE,
            credit_code=self._credit_code(rng, "91", region),
            county=county,
            location=EL.OUT_OF_PROVINCE,
            industry=industry,
            address=city,
            notes="东西部劳务协作定点用工企业，县人社局组织输出。",
        )
        objs.append(outside)
        for s in settlements:
            srng = random.Random(f"{self.seed}:employers:{s.code}")
            base = s.community.removesuffix("社区居委会") or s.name
            workshops = []
            for k in range(1 + (s.planned_households > 800)):
                trade, _job = WORKSHOP_TRADES[(k + srng.randrange(6)) % 6]
                workshops.append(
                    Employer(
                        name=f"{base}{trade}帮扶车间",
                        kind=EK.WORKSHOP,
                        credit_code=(
                            self._credit_code(srng, "92", county.code)
                            if srng.random() < 0.4
                            else ""
                        ),
                        county=county,
                        settlement=s,
                        location=EL.IN_SETTLEMENT if srng.random() < 0.7 else EL.NEARBY,
                        industry=trade,
                        address=f"{s.name}商业门面",
                    )
                )
            collective = Employer(
                name=f"{base}社区股份经济合作社",
                kind=EK.COLLECTIVE,
                credit_code=self._credit_code(srng, "N2", county.code),
                county=county,
                settlement=s,
                location=EL.IN_SETTLEMENT,
                industry="物业、商铺经营",
                address=s.address,
            )
            cooperatives = []
            if srng.random() < 0.4:
                cooperatives.append(
                    Employer(
                        name=f"{short}{srng.choice(ENTERPRISE_WORDS)}种养殖农民专业合作社",
                        kind=EK.COOPERATIVE,
                        credit_code=self._credit_code(srng, "93", county.code),
                        county=county,
                        settlement=s,
                        location=EL.IN_COUNTY,
                        industry="种植养殖",
                    )
                )
            objs += workshops + [collective] + cooperatives
            self.settlement_employers[s.pk] = {
                "workshops": workshops + [collective],
                "cooperatives": cooperatives,
            }
        Employer.objects.bulk_create(objs, history_reason=DEMO_REASON)
        self.county_employers[county.code] = {
            "provider": provider,
            "enterprises": enterprises,
            "outside": outside,
        }

    def _postings(self, counties, settlements):
        """A few postings per county and settlement; some were filled through referrals."""
        objs = []
        self.postings = defaultdict(list)  # county code -> postings
        for code, _county in counties:
            rng = random.Random(f"{self.seed}:postings:{code}")
            found = self.county_employers[code]
            chosen = [(e, P.IN_COUNTY) for e in found["enterprises"][:3]]
            chosen.append((found["outside"], P.OUT_OF_PROVINCE))
            for s in settlements:
                if s.county_id == code and rng.random() < 0.5:
                    chosen.append((self.settlement_employers[s.pk]["workshops"][0], P.IN_COUNTY))
            for employer, place in chosen:
                low = {P.IN_COUNTY: 2200, P.OUT_OF_PROVINCE: 4500}[place]
                low += rng.randrange(0, 800, 100)
                posted = self.today - datetime.timedelta(days=rng.randint(5, 420))
                age = (self.today - posted).days
                state = (
                    enums.PostingState.OPEN
                    if age < 60
                    else enums.PostingState.FILLED
                    if rng.random() < 0.7
                    else enums.PostingState.CLOSED
                )
                job = (
                    "缝纫工"
                    if employer.kind == EK.WORKSHOP
                    else rng.choice(
                        POSITIONS["wage_out" if place != P.IN_COUNTY else "wage_county"]
                    )
                )
                objs.append(
                    JobPosting(
                        employer=employer,
                        title=job,
                        openings=rng.choice((5, 10, 20, 30, 50)),
                        place=place,
                        work_location=employer.address,
                        wage_min=Decimal(low),
                        wage_max=Decimal(low + rng.choice((800, 1000, 1500))),
                        requirements="年龄18至55周岁，身体健康，能吃苦耐劳。",
                        posted_on=posted,
                        closes_on=posted + datetime.timedelta(days=rng.choice((30, 60, 90))),
                        state=state,
                    )
                )
                self.postings[code].append(objs[-1])
        JobPosting.objects.bulk_create(objs, history_reason=DEMO_REASON)
        # What ``_job`` looks for among them, found once: an employer's first
        # posting, and a county's postings of its enterprises inside the county.
        self.first_posting = {}
        self.enterprise_postings = defaultdict(list)
        for code, postings in self.postings.items():
            for posting in postings:
                self.first_posting.setdefault(posting.employer_id, posting)
                if posting.place == P.IN_COUNTY and posting.employer.kind == EK.ENTERPRISE:
                    self.enterprise_postings[code].append(posting)

    def _courses(self, counties, settlements):
        objs = []
        self.courses = defaultdict(list)
        for code, county in counties:
            rng = random.Random(f"{self.seed}:courses:{code}")
            local = [s for s in settlements if s.county_id == code]
            for i in range(2 + len(local)):
                kind, name, _cert, hours = COURSES[(i + rng.randrange(len(COURSES))) % len(COURSES)]
                start = self.today - datetime.timedelta(days=rng.randint(0, 700) if i else 3)
                days = max(2, hours // 8)
                settlement = rng.choice(local) if local and rng.random() < 0.6 else None
                objs.append(
                    TrainingCourse(
                        name=f"{start.year}年{(settlement or county).name}{name}",
                        kind=kind,
                        trade=name.removesuffix("培训班").removesuffix("班"),
                        organiser=rng.choice(
                            (f"{county.name}就业局", f"{county.name}职业技能培训学校")
                        ),
                        county=county,
                        settlement=settlement,
                        start_date=start,
                        end_date=start + datetime.timedelta(days=days),
                        hours=hours,
                    )
                )
                self.courses[code].append(objs[-1])
        TrainingCourse.objects.bulk_create(objs, history_reason=DEMO_REASON)
        self.course_certificates = {name: cert for _k, name, cert, _h in COURSES}

    # ----------------------------------------------------------------- ids and writing
    def _add(self, model, row):
        """Keep ``row`` of the settlement being made; its ``id`` is its place among the
        settlement's rows of ``model``, from 1, until ``_take`` gives it the table's."""
        rows = self.made[model]
        rows.append(row)
        row["id"] = len(rows)
        return row["id"]

    def _make(self, task):
        """The rows of one settlement (``in_processes``' function): {model: [rows]}."""
        index, households = task
        self.made = defaultdict(list)
        self._settlement(index, self.settlements[index], households)
        made, self.made = self.made, None
        return made

    def _take(self, made):
        """Give a settlement's rows their ids, and claims their numbers, in order."""
        for claim in made.get(InsuranceClaim, ()):
            self.claims += 1
            claim["policy_number"] = (
                f"JYX{claim['claimed_on'].year}{self.seed % 1000:03d}{self.claims:07d}"
            )
        self.pending.take(made)

    # ----------------------------------------------------------------- one settlement
    def _people(self, settlement):
        rows = (
            Person.objects.filter(household__settlement_id=settlement.pk)
            .order_by("household__number", "pk")
            .values_list(
                "pk",
                "household_id",
                "birth_date",
                "sex",
                "labour_ability",
                "school_stage",
                "health",
                "dibao",
                "extreme_poverty_support",
                "household__origin_county_id",
            )
        )
        households = {}
        for row in rows:
            households.setdefault(row[1], []).append(row)
        return list(households.items())

    def _in_labour_force(self, person):
        _pk, _h, born, _sex, ability, stage = person[:6]
        if not (self.labour_earliest < born <= self.labour_latest):
            return False
        if ability in self.labour_excluded_abilities:
            return False
        return not (self.labour_exclude_students and stage)

    def _settlement(self, index, settlement, households):
        rng = random.Random(f"{self.seed}:employment:{settlement.code}")
        county = settlement.county_id
        # 1. Who works: a status per labour-force member.
        plans = []
        for household_id, members in households:
            # Each member's age, worked out once: jobs, records and income look at it.
            ages = [self._age(m) for m in members]
            labour = [
                (m, age) for m, age in zip(members, ages, strict=True) if self._in_labour_force(m)
            ]
            status = {}
            for m, age in labour:
                weak = "weak" if m[4] == "weak" else "other"
                if rng.random() < P_NOT_EMPLOYED[weak]:
                    status[m[0]] = ("none", _pick(rng, NOT_EMPLOYED_TABLE))
                else:
                    kind = _pick(rng, JOB_TABLES[weak])
                    if kind == "wage_out" and age > 50 and rng.random() < 0.5:
                        kind = "wage_county"
                    status[m[0]] = ("job", kind)
            idle = labour and all(s[0] == "none" for s in status.values())
            if idle and rng.random() < P_ZERO_EMPLOYMENT_PLACED:
                first = labour[0][0]
                status[first[0]] = ("job", "public_welfare")
            plans.append({"id": household_id, "members": members, "ages": ages, "status": status})
        # 2. Every work list of a settlement of some size has an entry.
        if index == 0 or len(households) >= 40:
            self._ensure_entries(rng, plans)
        # 3. Records and incomes.
        for plan in plans:
            self._household(rng, settlement, county, plan)

    def _ensure_entries(self, rng, plans):
        def zero(plan):
            return plan["status"] and all(s[0] == "none" for s in plan["status"].values())

        if not any(zero(p) for p in plans):
            singles = [p for p in plans if len(p["status"]) == 1] or [
                p for p in plans if p["status"]
            ]
            if singles:
                plan = rng.choice(singles)
                for pk in plan["status"]:
                    plan["status"][pk] = ("none", "recent_end")
        recent = [
            (p, pk) for p in plans for pk, s in p["status"].items() if s == ("none", "recent_end")
        ]
        if not recent:
            idle = [(p, pk) for p in plans for pk, s in p["status"].items() if s[0] == "none"]
            if idle:
                plan, pk = rng.choice(idle)
                plan["status"][pk] = ("none", "recent_end")
        zeros = [p for p in plans if zero(p)]
        if zeros:
            rng.choice(zeros)["below_line"] = True

    def _age(self, person):
        born, today = person[2], self.today
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def _household(self, rng, settlement, county, plan):
        status = plan["status"]
        year, today = self.last_year, self.today
        wage = business = farming = 0.0
        for m, age in zip(plan["members"], plan["ages"], strict=True):
            records = self._records(rng, settlement, county, m, age, status.get(m[0]))
            for rec in records:
                frac = year.fraction(rec["start_date"], rec["end_date"], today)
                monthly = float(rec["monthly_income"] or 0)
                if rec["kind"] == K.SELF_EMPLOYED:
                    business += monthly * 12 * frac * BUSINESS_REPORTED
                elif rec["kind"] == K.FARMING:
                    farming += rng.uniform(3000, 8000) * frac
                else:
                    wage += monthly * 12 * frac * WAGE_REPORTED
        self._training(rng, settlement, county, plan)
        self._income(rng, settlement, plan, wage, business, farming)

    # ----------------------------------------------------------------- records of one person
    def _records(self, rng, settlement, county, person, age, status):
        """The employment records of one person (written), as dicts; ``age``: ``_age``'s."""
        today = self.today
        skill = SKILL.get(person[4], 1.0)
        records = []
        if status is None:
            # Outside the labour force: some older people still farm back home.
            if 61 <= age <= 72 and person[4] in ("ordinary", "weak") and rng.random() < 0.25:
                records.append(self._farming(rng, county, person))
                return self._emit(records, self._working_age(person))
            return records
        state, kind = status
        adult = self._working_age(person)
        if state == "job":
            current = self._job(rng, settlement, county, person, kind, skill)
            current["start_date"] = max(current["start_date"], adult)
            records.append(current)
            # An earlier job, closed before this one began (most who started
            # recently had worked before).
            recent = current["start_date"] > today - datetime.timedelta(days=400)
            if rng.random() < (0.6 if recent else 0.15):
                end = current["start_date"] - datetime.timedelta(days=rng.randint(3, 90))
                records.append(self._past_job(rng, county, person, end, skill))
            if rng.random() < 0.05:
                records.append(self._farming(rng, county, person))
            emitted = self._emit(records, adult)
            self._job_extras(rng, county, person, emitted[0])
            return emitted
        if kind == "farming":
            records.append(self._farming(rng, county, person))
        elif kind == "recent_end":
            end = today - datetime.timedelta(days=rng.randint(1, 28))
            records.append(self._past_job(rng, county, person, end, skill))
        elif kind == "long_end":
            end = today - datetime.timedelta(days=rng.randint(60, 540))
            records.append(self._past_job(rng, county, person, end, skill))
        emitted = self._emit(records, adult)
        self._idle_extras(rng, county, person, kind, emitted)
        return emitted

    def _working_age(self, person):
        """The day a person reached working age: no record starts earlier."""
        return shift_years(person[2], self.labour_age_min)

    def _emit(self, records, adult):
        """Add the ``records`` that do not end before ``adult`` (``_working_age``), none
        starting before it; returns them."""
        kept = []
        for rec in records:
            if rec["end_date"] is not None and rec["end_date"] < adult:
                continue
            rec["start_date"] = max(rec["start_date"], adult)
            self._add(EmploymentRecord, rec)
            kept.append(rec)
        return kept

    def _base(self, person, kind, place, start, end=None, monthly=None, found_via=V.SELF):
        return {
            "person_id": person[0],
            "kind": kind,
            "employer_id": None,
            "employer_name": "",
            "position": "",
            "place": place,
            "work_location": "",
            "monthly_income": Decimal(int(monthly)) if monthly else None,
            "start_date": start,
            "end_date": end,
            "found_via": found_via,
            "notes": "",
        }

    def _monthly(self, rng, kind, skill):
        low, high = MONTHLY[kind]
        return round(rng.uniform(low, high) * skill, -1)

    def _job(self, rng, settlement, county, person, kind, skill):
        today = self.today
        start = today - datetime.timedelta(days=min(3000, 7 + int(rng.expovariate(1 / 1000))))
        monthly = self._monthly(rng, kind, skill)
        employers = self.county_employers[county]
        if kind == "public_welfare":
            rec = self._base(person, K.PUBLIC_WELFARE, P.IN_COUNTY, start, None, monthly)
            rec.update(
                employer_id=employers["provider"].pk,
                position=rng.choice(POSITIONS["public_welfare"]),
                work_location=settlement.name,
                found_via=V.PUBLIC_POST,
            )
            if rng.random() < 0.3:  # one-year posts renewed each December
                rec["end_date"] = datetime.date(today.year, 12, 31)
            return rec
        if kind == "workshop":
            local = self.settlement_employers[settlement.pk]
            employer = rng.choice(local["workshops"] + local["cooperatives"])
            rec = self._base(person, K.WAGE, P.IN_COUNTY, start, None, monthly, V.WORKSHOP)
            rec.update(
                employer_id=employer.pk,
                position=rng.choice(POSITIONS["workshop"]),
                work_location=settlement.name,
            )
            posted = self.first_posting.get(employer.pk)
            if posted is not None and rng.random() < 0.3:
                return self._hired(rng, person, rec, posted, found_via=V.WORKSHOP)
            return rec
        if kind == "self":
            business, trade = rng.choice(SELF_BUSINESS)
            place = P.IN_COUNTY if rng.random() < 0.85 else P.IN_PROVINCE
            rec = self._base(person, K.SELF_EMPLOYED, place, start, None, monthly)
            rec.update(
                employer_name=f"个体经营（{business}）",
                position=trade,
                work_location=settlement.name if place == P.IN_COUNTY else "贵阳市",
            )
            return rec
        if kind == "flexible":
            rec = self._base(person, K.FLEXIBLE, P.IN_COUNTY, start, None, monthly)
            rec.update(position=rng.choice(POSITIONS["flexible"]), work_location=settlement.name)
            return rec
        if kind == "wage_county":
            rec = self._base(person, K.WAGE, P.IN_COUNTY, start, None, monthly)
            postings = self.enterprise_postings[county]
            if postings and rng.random() < 0.12:
                return self._hired(rng, person, rec, rng.choice(postings))
            employer = rng.choice(employers["enterprises"])
            rec.update(
                employer_id=employer.pk,
                position=rng.choice(POSITIONS["wage_county"]),
                work_location=employer.address,
                found_via=V.REFERRAL if rng.random() < 0.1 else V.SELF,
            )
            return rec
        if kind == "wage_province":
            rec = self._base(person, K.WAGE, P.IN_PROVINCE, start, None, monthly)
            where = _pick(rng, IN_PROVINCE_TABLE)
            rec.update(
                employer_name=f"{where}{rng.choice(ENTERPRISE_WORDS)}公司",
                work_location=where,
                position=rng.choice(POSITIONS["wage_province"]),
                found_via=V.ORGANISED if rng.random() < 0.2 else V.SELF,
            )
            return rec
        # wage_out: organised labour export to the partner enterprise, or on one's own.
        rec = self._base(person, K.WAGE, P.OUT_OF_PROVINCE, start, None, monthly)
        outside = employers["outside"]
        if rng.random() < 0.15:
            posted = self.first_posting.get(outside.pk)
            if posted is not None and rng.random() < 0.5:
                return self._hired(rng, person, rec, posted, found_via=V.ORGANISED)
            rec.update(
                employer_id=outside.pk,
                work_location=outside.address,
                position=rng.choice(POSITIONS["wage_out"]),
                found_via=V.ORGANISED,
            )
            return rec
        where = _pick(rng, OUT_TABLE)
        rec.update(
            employer_name=f"{_city(where)}{rng.choice(ENTERPRISE_WORDS)}有限公司",
            work_location=where,
            position=rng.choice(POSITIONS["wage_out"]),
            found_via=V.ORGANISED if rng.random() < 0.3 else V.SELF,
        )
        return rec

    def _hired(self, rng, person, rec, posting, found_via=V.REFERRAL):
        """The job came from a referral to ``posting``: dates and pay follow it."""
        start = posting.posted_on + datetime.timedelta(days=rng.randint(7, 45))
        start = min(start, self.today - datetime.timedelta(days=1))
        rec.update(
            employer_id=posting.employer_id,
            position=posting.title,
            work_location=posting.work_location,
            start_date=start,
            monthly_income=Decimal(rng.randrange(int(posting.wage_min), int(posting.wage_max), 10)),
            found_via=found_via,
        )
        referred = max(posting.posted_on, start - datetime.timedelta(days=rng.randint(3, 20)))
        rec["_referral"] = {
            "person_id": person[0],
            "posting_id": posting.pk,
            "referred_on": referred,
            "outcome": enums.ReferralOutcome.HIRED,
            "notes": "",
        }
        return rec

    def _past_job(self, rng, county, person, end, skill):
        kind = rng.choice(("wage_out", "wage_out", "wage_province", "wage_county"))
        place = {"wage_out": P.OUT_OF_PROVINCE, "wage_province": P.IN_PROVINCE}.get(
            kind, P.IN_COUNTY
        )
        start = end - datetime.timedelta(days=rng.randint(60, 900))
        rec = self._base(person, K.WAGE, place, start, end, self._monthly(rng, kind, skill))
        if place == P.OUT_OF_PROVINCE:
            where = _pick(rng, OUT_TABLE)
            rec["work_location"] = where
            rec["employer_name"] = f"{_city(where)}{rng.choice(ENTERPRISE_WORDS)}有限公司"
        elif place == P.IN_PROVINCE:
            rec["work_location"] = _pick(rng, IN_PROVINCE_TABLE)
            rec["employer_name"] = f"{rec['work_location']}{rng.choice(ENTERPRISE_WORDS)}公司"
        else:
            employer = rng.choice(self.county_employers[county]["enterprises"])
            rec["employer_id"] = employer.pk
            rec["work_location"] = employer.address
        rec["position"] = rng.choice(POSITIONS[kind])
        rec["notes"] = rng.choice(("合同期满", "企业减员", "返乡照顾家人", "工程结束"))
        return rec

    def _farming(self, rng, county, person):
        start = self.today - datetime.timedelta(days=rng.randint(200, 2500))
        place = P.IN_COUNTY if person[9] == county else P.IN_PROVINCE
        rec = self._base(person, K.FARMING, place, start)
        rec.update(
            position=rng.choice(("种植", "养殖", "种植茶叶", "种植烤烟")), work_location="迁出地"
        )
        return rec

    # ----------------------------------------------------------------- referrals, claims, loans
    def _job_extras(self, rng, county, person, current):
        referral = current.pop("_referral", None)
        if referral is not None:
            referral["employment_id"] = current["id"]
            self._add(Referral, referral)
        elif rng.random() < 0.015:
            self._referral(rng, county, person, enums.ReferralOutcome.DECLINED)
        if current["kind"] == K.SELF_EMPLOYED and rng.random() < 0.25:
            granted = min(
                self.today - datetime.timedelta(days=1),
                current["start_date"] + datetime.timedelta(days=rng.randint(0, 60)),
            )
            due = shift_years(granted, rng.choice((2, 3)))
            state = (
                enums.LoanState.REPAID
                if due < self.today
                else enums.LoanState.OVERDUE
                if rng.random() < 0.04
                else enums.LoanState.GRANTED
            )
            self._add(
                BusinessLoan,
                {
                    "person_id": person[0],
                    "lender": rng.choice(LENDERS),
                    "amount": Decimal(rng.randrange(30_000, 200_001, 10_000)),
                    "granted_on": granted,
                    "due_on": due,
                    "interest_subsidised": True,
                    "state": state,
                },
            )
        if current["place"] == P.OUT_OF_PROVINCE and rng.random() < 0.004:
            occurred = max(
                current["start_date"], self.today - datetime.timedelta(days=rng.randint(10, 400))
            )
            self._claim(rng, person, enums.ClaimReason.INJURY, occurred)

    def _idle_extras(self, rng, county, person, kind, records):
        if rng.random() < 0.5:
            outcome = rng.choice(
                (
                    enums.ReferralOutcome.PENDING,
                    enums.ReferralOutcome.INTERVIEW,
                    enums.ReferralOutcome.DECLINED,
                    enums.ReferralOutcome.REJECTED,
                )
            )
            self._referral(rng, county, person, outcome)
        ended = [r for r in records if r["end_date"]]
        if ended and rng.random() < (0.3 if kind == "recent_end" else 0.08):
            self._claim(rng, person, enums.ClaimReason.UNEMPLOYMENT, ended[0]["end_date"])

    def _referral(self, rng, county, person, outcome):
        postings = self.postings[county]
        if not postings:
            return
        posting = rng.choice(postings)
        latest = (self.today - posting.posted_on).days
        self._add(
            Referral,
            {
                "person_id": person[0],
                "posting_id": posting.pk,
                "referred_on": posting.posted_on + datetime.timedelta(days=rng.randint(0, latest)),
                "outcome": outcome,
                "employment_id": None,
                "notes": "",
            },
        )

    def _claim(self, rng, person, reason, occurred):
        claimed = min(self.today, occurred + datetime.timedelta(days=rng.randint(2, 40)))
        amount = Decimal(rng.randrange(1000, 6001, 100))
        age = (self.today - claimed).days
        state = (
            enums.ClaimState.SUBMITTED
            if age < 20
            else enums.ClaimState.REJECTED
            if rng.random() < 0.1
            else enums.ClaimState.PAID
        )
        paid = None
        if state == enums.ClaimState.PAID:
            paid = _money(amount * Decimal(rng.choice(("1", "1", "0.8", "0.6"))))
        self._add(
            InsuranceClaim,
            {
                "person_id": person[0],
                "policy_number": "",  # numbered in order by ``_take``
                "reason": reason,
                "occurred_on": occurred,
                "claimed_on": claimed,
                "amount_claimed": amount,
                "amount_paid": paid,
                "state": state,
                "notes": "",
            },
        )

    def _training(self, rng, settlement, county, plan):
        courses = self.courses[county]
        if not courses:
            return
        for m in plan["members"]:
            if m[0] not in plan["status"] or rng.random() >= 0.07:
                continue
            local = [c for c in courses if c.settlement_id in (None, settlement.pk)] or courses
            course = rng.choice(local)
            finished = course.end_date < self.today
            completed = finished and rng.random() < 0.88
            certificate = self.course_certificates.get(course.trade + "培训班", "")
            if course.kind == enums.TrainingKind.ENTREPRENEURSHIP:
                certificate = "创业培训合格证"
            self._add(
                TrainingAttendance,
                {
                    "course_id": course.pk,
                    "person_id": m[0],
                    "completed": completed,
                    "certificate": certificate if completed and rng.random() < 0.7 else "",
                },
            )

    # ----------------------------------------------------------------- household income
    def _income(self, rng, settlement, plan, wage, business, farming):
        members = plan["members"]
        size = len(members)
        transfer = rng.uniform(300, 1200)  # 后续扶持补助、生态补偿、公益林补偿
        for m, age in zip(members, plan["ages"], strict=True):
            if m[7] == "urban":
                transfer += rng.uniform(2800, 4200)
            elif m[7] == "rural":
                transfer += rng.uniform(2000, 3200)
            if m[8]:
                transfer += rng.uniform(6500, 8000)
            if age >= 60:
                transfer += rng.uniform(1400, 2400)
            if m[6] == "disabled":
                transfer += 1080
            if m[5]:
                transfer += rng.uniform(500, 2500)  # 教育资助
        prop = rng.uniform(300, 2500) if rng.random() < 0.5 else 0.0  # 土地流转、房屋出租
        if rng.random() < 0.6:
            prop += rng.uniform(100, 600)  # 集体经济分红
        business_total = business + farming
        costs = business_total * rng.uniform(0.25, 0.4)
        parts = {"wage": wage, "business": business_total, "transfer": transfer, "property": prop}
        prefix = settlement.county_id[:2]
        line = float(self.lines.get((prefix, self.year)) or 0)
        net = sum(parts.values()) - costs
        if line and net / size < line:
            if plan.get("below_line") or rng.random() < P_STAY_BELOW_LINE:
                target = rng.uniform(0.6, 0.95) * line * size
                if net > target:
                    scale = target / net
                    parts = {k: v * scale for k, v in parts.items()}
                    costs *= scale
            else:  # lifted by 低保 / 临时救助
                parts["transfer"] += rng.uniform(1.02, 1.3) * line * size - net
        elif plan.get("below_line"):
            scale = rng.uniform(0.6, 0.95) * line * size / net if line else 1
            parts = {k: v * scale for k, v in parts.items()}
            costs *= scale
        for offset in (0, -1):
            year = self.year + offset
            values = dict(parts)
            year_costs = costs
            if offset:
                for key in values:
                    mean, sd = GROWTH[key]
                    values[key] /= 1 + max(-0.3, rng.gauss(mean, sd))
                year_costs = costs * values["business"] / parts["business"] if business_total else 0
            incomes = {
                "wage_income": _cents(values["wage"]),
                "business_income": _cents(values["business"]),
                "transfer_income": _cents(values["transfer"]),
                "property_income": _cents(values["property"]),
            }
            row = {
                "household_id": plan["id"],
                "year": year,
                **incomes,
                "costs": _cents(year_costs),
                "household_size": size,
                "notes": "",
            }
            # Exact: all in cents already.
            row["net_income"] = sum(incomes.values()) - row["costs"]
            row["per_capita_net"] = _money(row["net_income"] / size)
            self._add(HouseholdIncome, row)
