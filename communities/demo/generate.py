"""The generator of the communities demo: settlements, buildings, grids and their
workers, 十联户 groups, households and people on real Guizhou regions.

Sizes follow the seed reports: a few large urban estates of 3,000–13,000
people (seed 002's 怡居苑: 13,000 people, 52 buildings, 4,842 flats, 401 亩,
48万㎡) and many of 300–2,000 people, about 4 people per household.  Every
random draw comes from ``random.Random`` instances seeded from ``seed``.

On PostgreSQL every row and its history row is written with ``COPY`` (psycopg 3),
which builds 2,000,000 people in minutes; elsewhere the ORM's ``bulk_create`` is
used.
"""

import calendar
import collections
import concurrent.futures
import contextlib
import datetime
import heapq
import io
import multiprocessing
import queue
import random
import signal
import sys
import threading
import time
from bisect import bisect
from collections import Counter
from decimal import Decimal
from itertools import accumulate

from django.apps import apps
from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from psycopg import Copy
from psycopg.copy import FileWriter, LibpqWriter

from relocation.demo import WorkerLost
from relocation.rows import (
    appended_ids,
    empty_tables_loaded_whole,
    in_lists,
    reserve_ids,
    reserve_ids_of,
    restore_plain_indexes,
    run_waiting_checks,
    set_aside_plain_indexes,
)

from .. import enums
from ..crypto import EncryptedCharField, seal_writer
from ..history_pii import token_fields, tokenizing_writer
from ..models import (
    Building,
    GridUnit,
    GridWorker,
    Household,
    Person,
    Region,
    Settlement,
    TenHouseholdGroup,
)
from ..validators import check_digit

DEMO_REASON = "演示数据生成"
DEFAULT_SEED = 20241
DEFAULT_HOUSEHOLDS = 5000
HOUSEHOLDS_PER_SETTLEMENT = 500
MIN_SETTLEMENTS = 6
DEMO_PROVINCE = "52"
DEMO_PREFECTURES = ("5202", "5223")
# 兴义市: the county of the demo worker and county official, and of the largest estate.
PRIMARY_COUNTY = "522301"
COPY_FLUSH_PEOPLE = 20_000

GridLink = GridUnit.buildings.through  # a grid's link to one of its buildings
R = enums.Relationship
M, F = enums.Sex.MALE, enums.Sex.FEMALE

# Approximate county seats (latitude, longitude); settlements are placed within a few km.
COUNTY_CENTRES = {
    "520201": (26.577, 104.843),  # 钟山区
    "520203": (26.211, 105.477),  # 六枝特区
    "520204": (26.547, 104.957),  # 水城区
    "520281": (25.707, 104.471),  # 盘州市
    "522301": (25.092, 104.897),  # 兴义市
    "522302": (25.435, 105.186),  # 兴仁市
    "522323": (25.784, 104.953),  # 普安县
    "522324": (25.833, 105.219),  # 晴隆县
    "522325": (25.386, 105.650),  # 贞丰县
    "522326": (25.178, 106.095),  # 望谟县
    "522327": (24.984, 105.812),  # 册亨县
    "522328": (25.099, 105.472),  # 安龙县
}
PREFECTURE_CENTRES = {"5202": (26.593, 104.830), "5223": (25.088, 104.904)}

# The national demo (``load_demo --national``): the 22 provinces that relocated
# people in 2016–2020, with rough relative scales (about 10,000 people each, from
# the provinces' published totals, rounded; illustrative, not statistics).
NATIONAL_PROVINCES = {
    "52": 192,  # 贵州
    "51": 136,  # 四川
    "53": 99,  # 云南
    "42": 89,  # 湖北
    "61": 84,  # 陕西
    "45": 71,  # 广西
    "43": 69,  # 湖南
    "62": 50,  # 甘肃
    "14": 47,  # 山西
    "13": 30,  # 河北
    "54": 27,  # 西藏
    "41": 26,  # 河南
    "50": 25,  # 重庆
    "65": 17,  # 新疆
    "36": 13,  # 江西
    "15": 12,  # 内蒙古
    "64": 8,  # 宁夏
    "34": 8,  # 安徽
    "63": 5,  # 青海
    "22": 1,  # 吉林
    "23": 1,  # 黑龙江
    "46": 1,  # 海南
}
NATIONAL_HOUSEHOLDS = 2_400_000
NATIONAL_SETTLEMENTS = 35_000
# Approximate provincial capitals, for settlements of counties without a centre above.
PROVINCE_CENTRES = {
    "13": (38.04, 114.51),
    "14": (37.87, 112.55),
    "15": (40.84, 111.75),
    "22": (43.82, 125.32),
    "23": (45.80, 126.53),
    "34": (31.82, 117.23),
    "36": (28.68, 115.86),
    "41": (34.75, 113.63),
    "42": (30.59, 114.31),
    "43": (28.23, 112.94),
    "45": (22.82, 108.37),
    "46": (20.04, 110.20),
    "50": (29.56, 106.55),
    "51": (30.66, 104.07),
    "52": (26.65, 106.63),
    "53": (25.04, 102.71),
    "54": (29.65, 91.13),
    "61": (34.34, 108.94),
    "62": (36.06, 103.83),
    "63": (36.62, 101.78),
    "64": (38.49, 106.23),
    "65": (43.83, 87.62),
}
# Relative relocation scale of the receiving counties (more settlements where larger).
COUNTY_WEIGHTS = {"522301": 2.0, "520281": 1.6, "520204": 1.5, "520201": 1.2, "522326": 1.2}

E = enums.Ethnicity
# Guizhou's population by ethnic group, roughly (Han 60 %, Miao 12 %, Buyi 8 % …).
ETHNIC_MIX = (
    (E.HAN, 60),
    (E.MIAO, 12),
    (E.BUYI, 8),
    (E.DONG, 5),
    (E.TUJIA, 4),
    (E.YI, 3),
    (E.GELAO, 2),
    (E.SHUI, 1),
    (E.HUI, 1.3),
    (E.BAI, 1.2),
    (E.YAO, 0.8),
    (E.ZHUANG, 0.8),
    (E.MAONAN, 0.4),
    (E.MULAO, 0.3),
    (E.MANCHU, 0.1),
    (E.MONGOL, 0.1),
)
# Common surnames of minority groups in Guizhou (used for part of their names).
ETHNIC_SURNAMES = {
    E.MIAO: "杨龙吴石王熊张陶韩罗",
    E.BUYI: "韦王黄罗岑陆班杨梁卢",
    E.DONG: "杨吴石龙欧粟姚",
    E.TUJIA: "田向彭冉杨张",
    E.YI: "安禄陇王李杨龙",
    E.GELAO: "王李张邹",
    E.SHUI: "韦蒙潘杨石",
    E.HUI: "马丁白",
}

NAME_WORDS = (
    "幸福",
    "和谐",
    "安居",
    "乐业",
    "怡居",
    "阳光",
    "锦绣",
    "康居",
    "丰泽",
    "兴民",
    "栖凤",
    "龙腾",
    "金桥",
    "德康",
    "同心",
    "福泽",
    "鑫源",
    "感恩",
    "新桥",
    "聚福",
    "思源",
    "金秋",
    "碧云",
    "顺城",
    "瑞和",
    "富康",
    "永兴",
    "安康",
    "祥和",
    "映山红",
    "宏远",
    "博雅",
    "新业",
    "惠民",
    "利民",
    "春晖",
    "景和",
    "瑞丰",
    "兴旺",
    "民安",
    "平安",
    "丰收",
    "新民",
    "文昌",
    "凤凰",
    "翠屏",
    "云盘",
    "观澜",
    "桃源",
    "阳明",
)
LARGE_SUFFIXES = ("新区", "新城", "社区")
SMALL_SUFFIXES = ("社区", "安置点", "新苑", "家园", "小区", "安置点")
ROADS = (
    "幸福路",
    "安居路",
    "新城大道",
    "民族路",
    "振兴路",
    "富康路",
    "和谐大道",
    "春晖路",
    "兴业路",
    "迎宾大道",
    "阳光路",
    "惠民街",
)
VILLAGE_PARTS_A = "大小新老上下中高龙凤马牛羊鸡竹松柏杉梨桃红白黑青黄水平长石岩花"
VILLAGE_PARTS_B = (
    "坪",
    "寨",
    "沟",
    "坡",
    "湾",
    "箐",
    "河",
    "田",
    "冲",
    "坝",
    "山",
    "塘",
    "林",
    "营",
    "脚",
    "井",
    "关",
    "岭",
    "场",
    "屯",
    "堡",
    "桥",
    "洞",
    "园",
)

MOBILE_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
    "198",
)


def _weighted(pairs):
    values = [v for v, _w in pairs]
    cum = list(accumulate(w for _v, w in pairs))
    return values, cum


def _pick(rng, table):
    values, cum = table
    return values[bisect(cum, rng.random() * cum[-1])]


ETHNIC_TABLE = _weighted(ETHNIC_MIX)
# Year a settlement was finished; most households move in that year.  Seed 003
# (南召县皇后乡: 114 households in 2016, 50 in 2017, 108 in 2018) and Guizhou's
# programme both peak in 2016 and 2018.
YEAR_BUILT_TABLE = _weighted(((2016, 36), (2017, 15), (2018, 32), (2019, 12), (2020, 5)))
# Household sizes: about 4 people per household, as in the seeds (1,094 people in 272).
SIZE_TABLE = _weighted(((1, 6), (2, 13), (3, 18), (4, 23), (5, 20), (6, 12), (7, 6), (8, 2)))
DISABILITY_TABLE = _weighted(((1, 10), (2, 20), (3, 30), (4, 40)))
ADULT_EDU = {
    30: _weighted(
        (
            ("junior", 45),
            ("senior", 15),
            ("vocational", 15),
            ("college", 10),
            ("bachelor", 5),
            ("primary", 9),
            ("illiterate", 1),
        )
    ),
    45: _weighted(
        (
            ("primary", 25),
            ("junior", 50),
            ("senior", 10),
            ("vocational", 6),
            ("college", 4),
            ("bachelor", 1),
            ("illiterate", 4),
        )
    ),
    60: _weighted(
        (("illiterate", 15), ("primary", 45), ("junior", 32), ("senior", 6), ("vocational", 2))
    ),
    200: _weighted((("illiterate", 50), ("primary", 38), ("junior", 10), ("senior", 2))),
}
STAGE_EDUCATION = {
    "preschool": "preschool",
    "primary": "primary",
    "junior": "junior",
    "senior": "senior",
    "vocational": "vocational",
    "higher_vocational": "college",
    "undergraduate": "bachelor",
    "postgraduate": "bachelor",
}
WORKING_LABOUR = _weighted((("ordinary", 68), ("skilled", 22), ("weak", 7), ("lost", 3)))
# The education table of each age (an index: the bands' lookup was per adult).
ADULT_EDU_BY_AGE = tuple(
    ADULT_EDU[next(limit for limit in ADULT_EDU if age <= limit)] for age in range(201)
)
# Members who married into the household (their ethnicity may differ from the head's)
# and the head's children; and the members ``_household`` compares with.  Named once:
# an enum's member is looked up through its class each time it is named (70 ns), and
# ``_household`` named up to ten per person.
MARRIED_IN = frozenset((R.SPOUSE, R.DAUGHTER_IN_LAW, R.SON_IN_LAW, R.MOTHER))
HEAD_CHILDREN = frozenset((R.SON, R.DAUGHTER))
SPOUSE, SON_IN_LAW, HAN = R.SPOUSE, R.SON_IN_LAW, E.HAN
# Months of each batch's moves, and a flat's area (m²) by household size.
BATCH_MONTHS = {1: (3, 7), 2: (8, 10), 3: (11, 12)}
FLAT_AREAS = {1: 40, 2: 50, 3: 60, 4: 80, 5: 100, 6: 120}


# --------------------------------------------------------------------------- names


class _Names:
    def __init__(self):
        from faker.providers.person.zh_CN import Provider

        self.surnames = _weighted(tuple(Provider.last_names.items()))
        self.male = tuple(Provider.first_names_male)
        self.female = tuple(Provider.first_names_female)
        self.male_chars = tuple(sorted(set("".join(self.male))))
        self.female_chars = tuple(sorted(set("".join(self.female))))
        self.given_names = {
            M: (self.male, self.male_chars),
            F: (self.female, self.female_chars),
        }

    def surname(self, rng, ethnicity):
        special = ETHNIC_SURNAMES.get(ethnicity)
        if special and rng.random() < 0.6:
            return rng.choice(special)
        return _pick(rng, self.surnames)

    def given(self, rng, sex):
        names, chars = self.given_names[sex]
        if rng.random() < 0.4:
            return rng.choice(names)
        first, second = rng.choice(chars), rng.choice(chars)
        return first + second if first != second else first


def _mobile(rng):
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"


# --------------------------------------------------------------------------- families


def _spouse_age(rng, age):
    return max(20, age - rng.randint(-2, 6))


def _kid_ages(rng, n, parents, max_age=32):
    lo = max(0, max(parents) - 40)
    hi = min(min(parents) - 19, max_age)
    hi = max(hi, lo)
    return sorted((rng.randint(lo, hi) for _ in range(n)), reverse=True)


def _kid(rng, age):
    return (R.SON, M, age, "head") if rng.random() < 0.52 else (R.DAUGHTER, F, age, "head")


def _family(rng, size):
    """Members as (relationship, sex, age, surname source); the head first.

    Surname source: "head" (the head's surname), "own" (married in) or "sil"
    (the son-in-law's, for 外孙子女).
    """
    if size == 1:
        age = rng.randint(60, 88) if rng.random() < 0.68 else rng.randint(28, 59)
        return [(R.HEAD, M if rng.random() < 0.55 else F, age, "head")]
    r = rng.random()
    if size == 2:
        if r < 0.45:  # elderly couple
            age = rng.randint(58, 84)
            return [(R.HEAD, M, age, "head"), (R.SPOUSE, F, _spouse_age(rng, age), "own")]
        if r < 0.75:  # single parent and a child
            sex = F if rng.random() < 0.6 else M
            age = rng.randint(30, 62)
            return [(R.HEAD, sex, age, "head"), _kid(rng, _kid_ages(rng, 1, [age])[0])]
        if r < 0.87:  # young couple
            age = rng.randint(22, 35)
            return [(R.HEAD, M, age, "head"), (R.SPOUSE, F, _spouse_age(rng, age), "own")]
        age = rng.randint(28, 50)  # a son and his widowed parent
        return [(R.HEAD, M, age, "head"), _parent(rng, age, mother=rng.random() < 0.7)]
    if size == 3:
        kind = "nuclear" if r < 0.66 else ("single" if r < 0.80 else "up")
    elif size == 4:
        kind = "nuclear" if r < 0.55 else "up" if r < 0.75 else "down" if r < 0.95 else "single"
    else:
        kind = "nuclear" if r < 0.30 and size <= 6 else ("up" if r < 0.60 else "down")
    if kind == "single":
        sex = F if rng.random() < 0.65 else M
        age = rng.randint(32, 55)
        return [(R.HEAD, sex, age, "head")] + [
            _kid(rng, a) for a in _kid_ages(rng, size - 1, [age], max_age=28)
        ]
    if kind == "nuclear":
        age = rng.randint(26, 55)
        spouse = _spouse_age(rng, age)
        return [(R.HEAD, M, age, "head"), (R.SPOUSE, F, spouse, "own")] + [
            _kid(rng, a) for a in _kid_ages(rng, size - 2, [age, spouse], max_age=30)
        ]
    if kind == "up":  # couple, their children and the head's parent(s)
        age = rng.randint(28, 50)
        spouse = _spouse_age(rng, age)
        n_parents = 2 if size >= 5 and rng.random() < 0.45 else 1
        members = [(R.HEAD, M, age, "head"), (R.SPOUSE, F, spouse, "own")]
        if n_parents == 2:
            father = _parent(rng, age, mother=False)
            mother_age = max(age + 19, father[2] - rng.randint(0, 5))
            members += [father, (R.MOTHER, F, mother_age, "own")]
        else:
            members.append(_parent(rng, age, mother=rng.random() < 0.65))
        kids = size - len(members)
        return members + [_kid(rng, a) for a in _kid_ages(rng, kids, [age, spouse], max_age=26)]
    # "down": an older head, a married child and grandchildren
    age = rng.randint(52, 74)
    widowed = rng.random() < 0.2
    members = [(R.HEAD, F if widowed and rng.random() < 0.6 else M, age, "head")]
    parents = [age]
    if not widowed:
        spouse = _spouse_age(rng, age)
        members.append((R.SPOUSE, F, spouse, "own"))
        parents.append(spouse)
    child_lo = max(21, max(parents) - 40)
    child_hi = max(child_lo, min(min(parents) - 20, 45))
    child_age = rng.randint(child_lo, child_hi)
    partner_age = max(20, child_age - rng.randint(-2, 5))
    if rng.random() < 0.85:  # son and daughter-in-law; grandchildren carry the head's surname
        members += [(R.SON, M, child_age, "head"), (R.DAUGHTER_IN_LAW, F, partner_age, "own")]
        grand = ((R.GRANDSON, M, "head"), (R.GRANDDAUGHTER, F, "head"))
    else:  # daughter and a son-in-law who married in (上门女婿)
        partner_age = max(20, child_age + rng.randint(-1, 5))
        members += [(R.DAUGHTER, F, child_age, "head"), (R.SON_IN_LAW, M, partner_age, "own")]
        grand = ((R.DAUGHTERS_CHILD, M, "sil"), (R.DAUGHTERS_CHILD, F, "sil"))
    left = size - len(members)
    n_grand = min(left, 4)
    for a in _kid_ages(rng, n_grand, [child_age, partner_age], max_age=20):
        rel, sex, source = grand[0] if rng.random() < 0.52 else grand[1]
        members.append((rel, sex, a, source))
    # Younger unmarried children of the head fill the rest.
    for a in _kid_ages(rng, size - len(members), parents, max_age=min(30, child_age)):
        members.append(_kid(rng, a))
    return members


def _parent(rng, child_age, mother):
    age = min(98, child_age + rng.randint(22, 36))
    return (R.MOTHER, F, age, "own") if mother else (R.FATHER, M, age, "head")


# --------------------------------------------------------------------------- builder


class _Builder:
    """Plans and writes the demo.

    ``national``: spread over the counties of ``NATIONAL_PROVINCES`` instead of
    the two demo prefectures, and write one province per transaction, skipping
    provinces already written, so that an interrupted build resumes where it
    stopped (the plan is the same on every run, so the result is too).
    """

    #: Format the households and people where they are made (PostgreSQL); a test
    #: turns it off to compare with the rows written from dicts.
    PACK = True

    def __init__(self, seed, households, settlements, stdout=None, national=False, workers=1):
        self.seed = seed
        self.workers = workers
        self.national = national
        self.prefixes = tuple(NATIONAL_PROVINCES) if national else DEMO_PREFECTURES
        self.total_households = households
        self.n_settlements = settlements
        self.stdout = stdout
        self.names = _Names()
        self.now = timezone.now()
        self.ref_year = timezone.localdate().year
        # (ordinal of 1 January, days) of the year of birth of each age (``_birth_day``).
        self.birth_years = [
            (datetime.date(year, 1, 1).toordinal(), 366 if calendar.isleap(year) else 365)
            for year in (self.ref_year - 1 - age for age in range(201))
        ]
        self.postgres = connection.vendor == "postgresql"
        self.taken_ids = set()  # first 17 digits stored before this run (``_load_taken_ids``)
        self.given_ids = set()  # and given by it, in this transaction (``_write_part``)
        self.counts = Counter()
        self.timings = Counter()
        self.villages = {}
        self.household_seq = Counter()
        self.pending_households = []
        self.pending_people = []
        # PostgreSQL: the households and people are formatted for COPY where they are
        # made (``_packed``), but for their heads, given here (``_Preformatted``).
        self.packing = self.postgres and self.PACK
        self.layouts = {
            Household: _Preformatted(Household, HOUSEHOLD_HEADS, self.now),
            Person: _Preformatted(Person, PERSON_HEADS, self.now),
        }
        self.pending_packed = {Household: [], Person: []}  # [(live, history)] each
        self.pending_count = 0  # people waiting, either way
        self.format_cursor = None
        self.next_ids = {}
        self.history_m2m = apps.get_model(
            "communities", f"{GridUnit.history.model.__name__}_buildings"
        )
        # PostgreSQL: the settlements' rows and their buildings', grids'… waiting for
        # ``_flush`` (``_queue_places``), in the order they are written.
        self.pending_places = {
            model: []
            for model in (
                Settlement,
                Building,
                GridUnit,
                GridLink,
                self.history_m2m,
                GridWorker,
                TenHouseholdGroup,
            )
        }

    # ----------------------------------------------------------------- setup
    def run(self):
        self.counties = list(
            Region.objects.filter(
                _startswith_any("code", self.prefixes), level=enums.RegionLevel.COUNTY
            ).order_by("code")
        )
        if not self.counties:
            raise RuntimeError(
                "没有找到演示所需省份的县级区划，请先运行 load_regions。"
                if self.national
                else "没有找到六盘水市、黔西南州的县级区划，请先运行 load_regions。"
            )
        self.county_by_code = {c.code: c for c in self.counties}
        # People come from their settlement's county or another of its prefecture.
        self.prefecture_counties = {}
        for county in self.counties:
            self.prefecture_counties.setdefault(county.code[:4], []).append(county)
        self.townships = {c.code: [] for c in self.counties}
        for town in Region.objects.filter(
            level=enums.RegionLevel.TOWNSHIP, parent__in=self.counties, generated=False
        ).order_by("code"):
            self.townships[town.parent_id].append(town)
        # People moved out of villages: origin townships are 乡/镇 where the county has them.
        self.origin_towns = {
            code: [t for t in towns if t.division_type != "街道"] or towns
            for code, towns in self.townships.items()
        }
        plans = self._plan()
        if not self.national:
            self._load_taken_ids()
            self._write_part(plans)
            return self.counts
        # One province per transaction; provinces written by an earlier run are kept.
        names = dict(
            Region.objects.filter(code__in=[f"{p}0000" for p in self.prefixes]).values_list(
                "code", "name"
            )
        )
        parts = [
            (p, [plan for plan in plans if plan["county"].startswith(p)]) for p in self.prefixes
        ]
        parts = [(p, part) for p, part in parts if part]
        kept = {p for p, _part in parts if self._province_written(p)}
        if len(kept) < len(parts):
            self._load_taken_ids()
            # Their plain indexes are built once, after the last province, not
            # updated row by row from the second on (kept aside while the run is
            # unfinished: an interrupted run's are built by the run that ends it).
            set_aside_plain_indexes(tables_with_history(Household, Person))
        started = time.monotonic()
        for index, (prefix, part) in enumerate(parts, start=1):
            name = names.get(f"{prefix}0000", prefix)
            if prefix in kept:
                self.counts["provinces_kept"] += 1
                self._say(f"  [{index}/{len(parts)}] {name}：已生成（上次运行），跳过")
                continue
            before = Counter(self.counts)
            t = time.monotonic()
            # Only the new rows' keys are checked, not the provinces' before them.
            live = [Household._meta.db_table, Person._meta.db_table]
            appended = appended_ids(live) if self.postgres else None
            with transaction.atomic(), loading(Household, Person, appended=appended):
                self._write_part(part)
            done = self.counts - before
            self._say(
                f"  [{index}/{len(parts)}] {name}：{done['settlements']:,} 个安置点，"
                f"{done['households']:,} 户 {done['people']:,} 人，"
                f"用时 {time.monotonic() - t:.0f} 秒（累计 {time.monotonic() - started:.0f} 秒）"
            )
        t = time.monotonic()
        if restore_plain_indexes():
            self._say(f"  搬迁户与家庭成员的索引：已建立（{time.monotonic() - t:.0f} 秒）")
        return self.counts

    def _load_taken_ids(self):
        """The first 17 digits of the ID numbers already stored in the demo's counties."""
        prefixes = tuple(c.code for c in self.counties)
        self.taken_ids = {
            n[:17]  # ID numbers are encrypted (communities.crypto): compared after loading
            for n in Person.objects.values_list("id_number", flat=True).iterator(chunk_size=10_000)
            if n.startswith(prefixes)
        }

    def _say(self, line):
        if self.stdout:
            self.stdout.write(line)

    def _province_written(self, prefix):
        """Demo settlements of the province exist: an earlier run committed it whole."""
        return Settlement.history.filter(
            history_type="+", history_change_reason=DEMO_REASON, code__startswith=f"AZD{prefix}"
        ).exists()

    def _write_part(self, plans):
        started = time.monotonic()
        # ID numbers are those of the people's origin counties, all of the
        # settlement's prefecture: one province's never meet another's.
        self.given_ids = set()
        # Generation is pure Python: in other processes, or in a producer thread;
        # this thread writes, so that the database works while the next
        # settlements are made.
        if self.packing and self.format_cursor is None:
            self.format_cursor = _format_cursor()
        if self.workers > 1:
            made = in_processes(self._generate_packed, enumerate(plans), self.workers)
        else:
            # The producer thread only makes the rows: formatting here keeps this
            # connection's cursor in one thread.
            made = map(self._packed, _produce(map(self._generate, enumerate(plans))))
        for index, data in enumerate(made):
            self._write_settlement(data)
            if self.pending_count >= COPY_FLUSH_PEOPLE or not self.postgres:
                self._flush()
            if len(plans) >= 50 and (index + 1) % max(1, len(plans) // 10) == 0:
                self._say(
                    f"  已生成 {index + 1}/{len(plans)} 个安置点，"
                    f"{self.counts['households']:,} 户 {self.counts['people']:,} 人"
                    f"（{time.monotonic() - started:.0f} 秒）"
                )
        self._flush()

    def _plan(self):
        rng = random.Random(f"{self.seed}:plan")
        n = self.n_settlements
        codes = [c.code for c in self.counties]
        primary = PRIMARY_COUNTY if PRIMARY_COUNTY in codes else codes[0]
        seats = Counter({primary: min(2, n)})
        left = n - seats[primary]
        if self.national:
            # Each province's share of the settlements follows its scale (at
            # least one each); within a province, D'Hondt over its counties.
            provinces = [p for p in self.prefixes if any(c.startswith(p) for c in codes)]
            if n < len(provinces) + 1:
                raise ValueError(f"全国规模至少需要 {len(provinces) + 1} 个安置点。")
            shares = _apportion(n - 1, [NATIONAL_PROVINCES[p] for p in provinces])
            quota = dict(zip(provinces, shares, strict=True))
            quota[primary[:2]] += 1
        else:
            # Interleave the two prefectures so that small demos cover both.
            by_pref = [
                [c for c in codes if c.startswith(p) and c != primary] for p in self.prefixes
            ]
            order = [primary]
            for pair in zip(*by_pref, strict=False):
                order.extend(pair)
            longest = max(by_pref, key=len)
            order.extend(c for c in longest[min(len(x) for x in by_pref) :])
            for code in order[1:]:
                if left <= 0:
                    break
                seats[code] += 1
                left -= 1
            quota = {"": n}
        weights = {c: rng.uniform(0.6, 1.4) * COUNTY_WEIGHTS.get(c, 1.0) for c in codes}
        for prefix, total in quota.items():
            members = [c for c in codes if c.startswith(prefix)]
            _dhondt(seats, weights, members, total - sum(seats[c] for c in members))
        slots = [(code, seq) for code in codes for seq in range(1, seats[code] + 1)]
        # Large urban estates: the first of the primary county and ~10 % of the rest.
        n_large = max(1, round(n * 0.1))
        rest = [i for i in range(len(slots)) if slots[i] != (primary, 1)]
        first = slots.index((primary, 1))
        large = {first} | set(rng.sample(rest, max(0, n_large - 1)))
        people = []
        for i in range(len(slots)):
            if i == first:
                people.append(13_000)
            elif i in large:
                people.append(rng.uniform(3_000, 12_000))
            else:
                people.append(300 + 1_700 * rng.random() ** 0.65)
        households = _apportion(self.total_households, people)
        used_names = set()
        plans = []
        for i, ((code, seq), hh) in enumerate(zip(slots, households, strict=True)):
            is_large = i in large
            kind = (
                enums.SettlementKind.URBAN
                if is_large or rng.random() < 0.88
                else enums.SettlementKind.RURAL
            )
            for attempt in range(1_000_000):
                word = rng.choice(NAME_WORDS)
                suffix = rng.choice(LARGE_SUFFIXES if is_large else SMALL_SUFFIXES)
                name = word + suffix
                if attempt >= 10:  # common names taken: prefix the county, then number phases
                    name = self.county_by_code[code].name[:2] + name
                if attempt >= 40:
                    name += f"{attempt // 40 + 1}期"
                if name not in used_names:
                    break
            used_names.add(name)
            plans.append(
                {
                    "county": code,
                    "code": f"AZD{code}{seq:03d}",
                    "name": name,
                    "kind": kind,
                    "households": hh,
                    "large": is_large,
                }
            )
        return plans

    # ----------------------------------------------------------------- one settlement
    def _generate(self, task):
        index, plan = task
        return self._generate_settlement(index, plan)

    def _generate_packed(self, task):
        return self._packed(self._generate(task))

    def _packed(self, data):
        """``data`` with its households' and people's COPY text (``_Preformatted.format``),
        the households cut down to what ``_write_settlement`` still reads: (building,
        grid, 十联户, their people's ID numbers), a tuple each (it is pickled back to
        the writing process); and ``sealed``, the people's heads but their ids,
        sealed here (``_Preformatted.sealed_heads``): their ID numbers encrypted and
        hashed, and tokenized for the history."""
        if not self.packing:
            return data
        households = data["households"]
        people = [m for h in households for m in h["members"]]
        data["packed"] = {
            Household: self.layouts[Household].format(
                self.format_cursor, [h["row"] for h in households]
            ),
            Person: self.layouts[Person].format(self.format_cursor, people),
        }
        data["sealed"] = self.layouts[Person].sealed_heads(
            self.format_cursor, [(m["id_number"], None) for m in people], first=len(ID_HEADS)
        )
        data["households"] = [
            (h["flat"][0], h["grid"], h["group"], [m["id_number"] for m in h["members"]])
            for h in households
        ]
        return data

    def _generate_settlement(self, index, plan):
        """Everything about one settlement, without touching the database."""
        data = self._make_settlement(index, plan)
        self._propose_ids(data["households"])
        return data

    def _propose_ids(self, households):
        """Give the settlement's people ID numbers, unique among them: the first person of
        an origin county, birth date and sex gets the order code drawn for them
        (``first_order``), the next ones the following codes of their sex.

        Made with the settlement, in the process that made it (and where the live rows
        are formatted, encrypted there too): the writing process only checks them
        against those already given (``_accept_id``), which almost never changes one.
        """
        orders = {}
        for h in households:
            for member in h["members"]:
                region, birth_day, male, first_order = member["_id"]
                key = (region, birth_day, male)
                order = orders.get(key, first_order)
                if order > 999:
                    born = datetime.date.fromordinal(birth_day)
                    raise RuntimeError(f"order codes exhausted for {region} {born}")
                orders[key] = order + 2
                date_part = datetime.date.fromordinal(birth_day).isoformat().replace("-", "")
                first17 = f"{region}{date_part}{order:03d}"
                member["id_number"] = first17 + check_digit(first17)

    def _make_settlement(self, index, plan):
        rng = random.Random(f"{self.seed}:settlement:{index}")
        county = self.county_by_code[plan["county"]]
        n_households = plan["households"]
        urban = plan["kind"] == enums.SettlementKind.URBAN
        est_people = n_households * 4
        if not urban:
            floors_choice, units_choice = (6,), (1, 2)
        elif est_people < 1_000:
            floors_choice, units_choice = (6,), (2,)
        elif est_people < 3_000:
            floors_choice, units_choice = (6, 7, 9, 11), (2, 3)
        else:
            floors_choice, units_choice = (11, 15, 17, 18), (2, 3, 4)
        occupancy = rng.uniform(0.92, 0.97)
        specs, capacity = [], 0
        while capacity * occupancy < n_households or not specs:
            floors, units = rng.choice(floors_choice), rng.choice(units_choice)
            specs.append((floors, units))
            capacity += floors * units * 2
        flats = [
            (b, unit, floor, pos)
            for b, (floors, units) in enumerate(specs)
            for unit in range(1, units + 1)
            for floor in range(1, floors + 1)
            for pos in (1, 2)
        ]
        rng.shuffle(flats)
        flats = sorted(flats[:n_households])

        year_built = _pick(rng, YEAR_BUILT_TABLE)
        towns = self.townships.get(county.code) or []
        wanted = "街道" if urban else ("镇", "乡", "民族乡")
        candidates = [t for t in towns if t.division_type in wanted] or towns
        township = rng.choice(candidates) if candidates else None
        lat, lon = (
            COUNTY_CENTRES.get(county.code)
            or PREFECTURE_CENTRES.get(county.code[:4])
            or PROVINCE_CENTRES.get(county.code[:2], (35.0, 105.0))
        )

        same = self.prefecture_counties[county.code[:4]]
        households = [self._household(rng, county, same, year_built, flat) for flat in flats]
        people_count = sum(len(h["members"]) for h in households)
        floor_area = round(capacity * 78 * rng.uniform(1.25, 1.35), -2)
        plot_ratio = (
            rng.uniform(1.6, 2.2)
            if plan["large"]
            else (rng.uniform(1.0, 1.5) if urban else rng.uniform(0.6, 0.9))
        )
        land_mu = floor_area / plot_ratio / 666.67
        base = plan["name"]
        for suffix in ("安置点", "社区", "新区", "新城", "小区"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        settlement = {
            "code": plan["code"],
            "name": plan["name"],
            "county_id": county.code,
            "township_id": township.code if township else None,
            "community": f"{base}社区居委会",
            "kind": plan["kind"],
            "year_built": year_built,
            "land_area_mu": Decimal(f"{land_mu:.2f}"),
            "floor_area_m2": Decimal(f"{floor_area:.2f}"),
            "housing_units": capacity,
            "planned_households": n_households,
            "planned_people": people_count,
            "address": (
                f"{county.name}{township.name if township else ''}"
                f"{rng.choice(ROADS)}{rng.randint(1, 399)}号"
            ),
            "latitude": Decimal(f"{lat + rng.uniform(-0.04, 0.04):.6f}"),
            "longitude": Decimal(f"{lon + rng.uniform(-0.05, 0.05):.6f}"),
        }

        # Buildings, with a resident adult as building head (楼栋长).
        residents = {}  # {building: [households' places]}
        for place, h in enumerate(households):
            residents.setdefault(h["flat"][0], []).append(place)
        # (name, phone) of each household's adults with a phone, the volunteers' pool.
        adults = [
            [(p["name"], p["phone"]) for p in h["members"] if p["phone"] and 22 <= p["_age"] <= 58]
            for h in households
        ]
        zoned = len(specs) > 30
        buildings = []
        for b, (floors, units) in enumerate(specs):
            pool = [a for place in residents.get(b, ()) for a in adults[place]]
            head_name, head_phone = self._volunteer(rng, pool)
            buildings.append(
                {
                    "name": f"{'ABCD'[b * 4 // len(specs)]}区{b + 1}栋" if zoned else f"{b + 1}栋",
                    "units": units,
                    "floors": floors,
                    "housing_units": floors * units * 2,
                    "head_name": head_name,
                    "head_phone": head_phone,
                }
            )

        # Grid units: contiguous blocks of buildings, about 120 households each;
        # 1–2 grid workers (often residents), and 十联户 of about ten neighbours.
        # Each household notes its grid and 十联户 (their places in ``grids``, ``groups``),
        # each 十联户 its grid and lead household (its place in ``households``).
        n_grids = max(1, min(len(buildings), round(n_households / 120)))
        grids, groups = [], []
        for g, block in enumerate(_split(list(range(len(buildings))), n_grids)):
            members = [place for b in block for place in residents.get(b, ())]
            pool = [a for place in members for a in adults[place]]
            workers = []
            for _ in range(1 if rng.random() < 0.55 else 2):
                name, phone = self._volunteer(rng, pool)
                workers.append({"name": name, "phone": phone, "full_time": rng.random() < 0.7})
            for k, chunk in enumerate(_split(members, max(1, round(len(members) / 10)))):
                if not chunk:
                    continue
                settled = [
                    place
                    for place in chunk
                    if households[place]["row"]["occupancy_state"] == "moved_in"
                ]
                for place in chunk:
                    households[place]["group"] = len(groups)
                groups.append(
                    {"grid": g, "name": f"第{k + 1}联户", "lead": rng.choice(settled or chunk)}
                )
            for place in members:
                households[place]["grid"] = g
            grids.append({"name": f"第{g + 1}网格", "buildings": block, "workers": workers})
        return {
            "settlement": settlement,
            "buildings": buildings,
            "grids": grids,
            "groups": groups,
            "households": households,
            "people": people_count,
        }

    def _write_settlement(self, data):
        households = data["households"]
        # PostgreSQL: the settlement's own rows are written by ``_flush``, with ``COPY``.
        ids = self._queue_places(data) if self.postgres else self._create_places(data)
        (settlement_id,) = ids[Settlement]
        building_ids, grid_ids, group_ids = ids[Building], ids[GridUnit], ids[TenHouseholdGroup]
        # Household numbers follow on from the county's last one.
        county = data["settlement"]["county_id"]
        last = self.household_seq[county]
        self.household_seq[county] += len(households)
        numbers = [f"{county}{seq:06d}" for seq in range(last + 1, last + len(households) + 1)]
        if self.packing:
            self._take_packed(data, ids, numbers)
        else:
            person_ids = iter(ids[Person])
            for h, hid, number in zip(households, ids[Household], numbers, strict=True):
                h["row"].update(
                    id=hid,
                    number=number,
                    settlement_id=settlement_id,
                    building_id=building_ids[h["flat"][0]],
                    grid_id=grid_ids[h["grid"]],
                    ten_group_id=group_ids[h["group"]],
                )
                for member in h["members"]:
                    member["id"] = next(person_ids)
                    member["household_id"] = hid
                    member["id_number"] = self._accept_id(member["id_number"])
                self.pending_households.append(h["row"])
                self.pending_people.extend(h["members"])
        self.pending_count += data["people"]
        self.counts["settlements"] += 1
        self.counts["buildings"] += len(building_ids)
        self.counts["grids"] += len(grid_ids)
        self.counts["grid_workers"] += sum(len(g["workers"]) for g in data["grids"])
        self.counts["ten_groups"] += len(group_ids)
        self.counts["households"] += len(households)
        self.counts["people"] += data["people"]

    def _queue_places(self, data):
        """PostgreSQL: the ids of the settlement's rows and of its buildings, grids, their
        links and the links' history rows, grid workers, 十联户, households and people,
        taken in one statement (``_reserve``); the rows of the first ones are queued for
        ``_flush``, which writes them with ``COPY`` (``copy_with_history``).  Returns
        ``{model: [ids]}``.

        The ORM's ``bulk_create`` took a dozen statements a settlement, building an
        instance per row and per history row: a fifth of this process's time.  The rows,
        their ids, history rows and the sequences are the same: each table's rows are
        written in the same order, and take their ids and history ids from the same
        sequences.
        """
        grids, groups = data["grids"], data["groups"]
        links = [(g, b) for g, grid in enumerate(grids) for b in grid["buildings"]]
        workers = [(g, w) for g, grid in enumerate(grids) for w in grid["workers"]]
        ids = self._reserve(
            {
                Settlement: 1,
                Building: len(data["buildings"]),
                GridUnit: len(grids),
                GridLink: len(links),
                self.history_m2m: len(links),
                GridWorker: len(workers),
                TenHouseholdGroup: len(groups),
                Household: len(data["households"]),
                Person: data["people"],
            }
        )
        (settlement_id,) = ids[Settlement]
        building_ids, grid_ids, household_ids = ids[Building], ids[GridUnit], ids[Household]
        pending = self.pending_places
        pending[Settlement].append({"id": settlement_id, **data["settlement"]})
        pending[Building] += [
            {"id": pk, "settlement_id": settlement_id, **building}
            for pk, building in zip(building_ids, data["buildings"], strict=True)
        ]
        pending[GridUnit] += [
            {"id": pk, "settlement_id": settlement_id, "name": grid["name"]}
            for pk, grid in zip(grid_ids, grids, strict=True)
        ]
        for pk, history_pk, (g, b) in zip(ids[GridLink], ids[self.history_m2m], links, strict=True):
            link = {"id": pk, "gridunit_id": grid_ids[g], "building_id": building_ids[b]}
            pending[GridLink].append(link)
            # The grids' "+" history rows also record their buildings (as a save would);
            # ``history_id``, the grid's history row, is looked up once that is written.
            pending[self.history_m2m].append({"m2m_history_id": history_pk, **link})
        pending[GridWorker] += [
            {"id": pk, "grid_id": grid_ids[g], **worker}
            for pk, (g, worker) in zip(ids[GridWorker], workers, strict=True)
        ]
        pending[TenHouseholdGroup] += [
            {
                "id": pk,
                "grid_id": grid_ids[group["grid"]],
                "name": group["name"],
                "lead_household_id": household_ids[group["lead"]],
            }
            for pk, group in zip(ids[TenHouseholdGroup], groups, strict=True)
        ]
        return ids

    def _create_places(self, data):
        """Elsewhere than on PostgreSQL: the settlement's rows and its buildings, grids,
        their links and history links, grid workers and 十联户, written with the ORM,
        and ids for its households and people; returns ``{model: [ids]}``."""
        settlement = Settlement(**data["settlement"])
        Settlement.objects.bulk_create([settlement], history_reason=DEMO_REASON)
        buildings = [Building(settlement=settlement, **b) for b in data["buildings"]]
        Building.objects.bulk_create(buildings, history_reason=DEMO_REASON)
        grids = [GridUnit(settlement=settlement, name=g["name"]) for g in data["grids"]]
        GridUnit.objects.bulk_create(grids, history_reason=DEMO_REASON)
        links = GridLink.objects.bulk_create(
            [
                GridLink(gridunit_id=grid.pk, building_id=buildings[b].pk)
                for grid, g in zip(grids, data["grids"], strict=True)
                for b in g["buildings"]
            ]
        )
        record_links_in_history(GridUnit, "buildings", links)
        household_ids = self._alloc(Household, len(data["households"]))
        GridWorker.objects.bulk_create(
            [
                GridWorker(grid=grid, **w)
                for grid, g in zip(grids, data["grids"], strict=True)
                for w in g["workers"]
            ]
        )
        groups = [
            TenHouseholdGroup(
                grid=grids[group["grid"]],
                name=group["name"],
                lead_household_id=household_ids[group["lead"]],
            )
            for group in data["groups"]
        ]
        TenHouseholdGroup.objects.bulk_create(groups)
        return {
            Settlement: [settlement.pk],
            Building: [b.pk for b in buildings],
            GridUnit: [g.pk for g in grids],
            TenHouseholdGroup: [group.pk for group in groups],
            Household: household_ids,
            Person: self._alloc(Person, data["people"]),
        }

    def _reserve(self, counts):
        """``{model: ids}``: ``counts[model]`` new ids of each model's table, in order, from
        its sequence, all in one statement (``reserve_ids_of``; PostgreSQL)."""
        with connection.cursor() as cursor:
            ids = reserve_ids_of(
                cursor,
                [(m._meta.db_table, m._meta.pk.column, n) for m, n in counts.items()],
            )
        return dict(zip(counts, ids, strict=True))

    def _volunteer(self, rng, adults):
        """Name and mobile of one of ``adults`` (residents with a phone: (name, phone)),
        else of a new person."""
        if adults and rng.random() < 0.7:
            return rng.choice(adults)
        sex = M if rng.random() < 0.5 else F
        surname = self.names.surname(rng, _pick(rng, ETHNIC_TABLE))
        return surname + self.names.given(rng, sex), _mobile(rng)

    # ----------------------------------------------------------------- one household
    def _household(self, rng, county, same, year_built, flat):
        """A household of ``flat``; its people come from ``county`` or another of ``same``
        (the counties of its prefecture)."""
        building_index, unit, floor, pos = flat
        origin = county if rng.random() < 0.55 or len(same) == 1 else rng.choice(same)
        rural_towns = self.origin_towns[origin.code]
        origin_town = rng.choice(rural_towns) if rural_towns else None
        village = rng.choice(self._villages(origin_town or origin))

        late = 0 if rng.random() < 0.8 else (1 if rng.random() < 0.75 else 2)
        year = min(2020, year_built + late)
        batch = 1 if rng.random() < 0.6 else (2 if rng.random() < 0.75 else 3)
        months = BATCH_MONTHS[batch]
        r = rng.random()
        occupancy = "moved_in" if r < 0.965 else ("not_moved_in" if r < 0.985 else "returned")
        moved_in = None
        if occupancy != "not_moved_in":
            month = rng.randint(*months)
            moved_in = datetime.date(year, month, rng.randint(1, 28))
        hukou = "moved_in" if rng.random() < 0.7 else "residence_permit"
        category = "registered_poor" if rng.random() < 0.88 else "moved_along"

        size = _pick(rng, SIZE_TABLE)
        family = _family(rng, size)
        head_eth = _pick(rng, ETHNIC_TABLE)
        surname = self.names.surname(rng, head_eth)
        in_law_surname = None
        dibao = ""
        if rng.random() < 0.12:
            dibao = "urban" if hukou == "moved_in" and rng.random() < 0.7 else "rural"
        members = []
        spouse_eth = head_eth
        for rel, sex, age, source in family:
            if rel in MARRIED_IN:
                eth = head_eth if rng.random() < 0.8 else _pick(rng, ETHNIC_TABLE)
                if rel == SPOUSE:
                    spouse_eth = eth
            elif rel in HEAD_CHILDREN and head_eth == HAN and spouse_eth != HAN:
                eth = spouse_eth if rng.random() < 0.6 else head_eth
            else:
                eth = head_eth
            if source == "head":
                family_name = surname
            elif source == "sil":
                family_name = in_law_surname or surname
            else:
                family_name = self.names.surname(rng, eth)
                while family_name == surname and rng.random() < 0.9:
                    family_name = self.names.surname(rng, eth)
                if rel == SON_IN_LAW:
                    in_law_surname = family_name
            members.append(
                self._person(rng, origin.code, rel, sex, age, eth, family_name, hukou, dibao)
            )
        if size == 1 and not dibao:
            p = members[0]
            if (p["_age"] >= 60 or p["disability_grade"] in (1, 2)) and rng.random() < 0.3:
                p["extreme_poverty_support"] = True
        phone = next((p["phone"] for p in members if p["phone"]), "")
        if rng.random() < 0.05:
            phone = ""
        area = FLAT_AREAS.get(size, 125)
        row = {
            "number": None,  # given in order by ``_write_settlement``
            "unit": unit,
            "room": f"{floor}{pos:02d}",
            "origin_county_id": origin.code,
            "origin_township_id": origin_town.code if origin_town else None,
            "origin_village": village,
            "relocation_year": year,
            "batch": f"{year}年第{batch}批",
            "category": category,
            "moved_in_date": moved_in,
            "occupancy_state": occupancy,
            "hukou_state": hukou,
            "housing_area": Decimal(f"{area * rng.uniform(0.98, 1.02):.2f}"),
            "phone": phone,
            "notes": "",
        }
        return {"flat": flat, "row": row, "members": members}

    def _villages(self, region):
        found = self.villages.get(region.code)
        if found is None:
            rng = random.Random(f"{self.seed}:villages:{region.code}")
            names, wanted = set(), rng.randint(8, 15)
            while len(names) < wanted:
                names.add(rng.choice(VILLAGE_PARTS_A) + rng.choice(VILLAGE_PARTS_B) + "村")
            found = self.villages[region.code] = sorted(names)
        return found

    def _person(self, rng, origin_code, rel, sex, age, eth, family_name, hukou, dibao):
        birth_day = self._birth_day(rng, age)
        born = datetime.date.fromordinal(birth_day)
        male = sex == M
        # The ID number's order code (``_propose_ids``), unique across settlements
        # made in other processes (``_accept_id``).
        first_order = rng.randrange(0, 200) * 2 + (1 if male else 2)
        # School, education, health and labour follow the age.
        stage = ""
        x = rng.random()
        if 3 <= age <= 5:
            stage = "preschool" if x < 0.85 else ""
        elif 6 <= age <= 11:
            stage = "primary" if x < 0.99 else ""
        elif 12 <= age <= 14:
            stage = "junior" if x < 0.97 else ""
        elif 15 <= age <= 17:
            stage = "senior" if x < 0.52 else ("vocational" if x < 0.90 else "")
        elif age == 18:
            stage = (
                "senior"
                if x < 0.30
                else "vocational"
                if x < 0.45
                else "higher_vocational"
                if x < 0.57
                else "undergraduate"
                if x < 0.65
                else ""
            )
        elif 19 <= age <= 22:
            stage = "higher_vocational" if x < 0.14 else ("undergraduate" if x < 0.24 else "")
        elif 23 <= age <= 25:
            stage = "undergraduate" if x < 0.02 else ("postgraduate" if x < 0.03 else "")
        if stage:
            education = STAGE_EDUCATION[stage]
        elif age < 6:
            education = "preschool"
        elif age < 15:
            education = "primary"
        elif age < 18:
            education = "junior" if rng.random() < 0.8 else "primary"
        else:
            education = _pick(rng, ADULT_EDU_BY_AGE[age])

        if age < 18:
            p_dis, p_ser, p_chr = 0.01, 0.003, 0.02
        elif age <= 40:
            p_dis, p_ser, p_chr = 0.03, 0.01, 0.05
        elif age <= 60:
            p_dis, p_ser, p_chr = 0.05, 0.03, 0.13
        else:
            p_dis, p_ser, p_chr = 0.08, 0.05, 0.30
        h = rng.random()
        grade = None
        if h < p_dis:
            health, grade = "disabled", _pick(rng, DISABILITY_TABLE)
        elif h < p_dis + p_ser:
            health = "serious"
        elif h < p_dis + p_ser + p_chr:
            health = "chronic"
        else:
            health = "healthy"

        if stage or age < 16:
            labour = "none"
        elif age <= 60:
            labour = _pick(rng, WORKING_LABOUR)
        elif age <= 65:
            y = rng.random()
            labour = (
                "ordinary" if y < 0.25 else "weak" if y < 0.70 else "none" if y < 0.95 else "lost"
            )
        else:
            y = rng.random()
            labour = "weak" if y < 0.15 else "none" if y < 0.95 else "lost"
        if age >= 16 and not stage:
            if health == "disabled":
                if grade <= 2:
                    labour = "lost"
                elif labour in ("ordinary", "skilled") and rng.random() < 0.5:
                    labour = "weak"
            elif health == "serious" and labour != "none":
                labour = "lost" if rng.random() < 0.4 else "weak"
            elif health == "chronic" and labour in ("ordinary", "skilled") and rng.random() < 0.3:
                labour = "weak"

        if stage and age >= 18:
            p_phone = 0.7
        elif 18 <= age <= 60:
            p_phone = 0.85
        elif 61 <= age <= 70:
            p_phone = 0.55
        elif 16 <= age <= 17:
            p_phone = 0.3
        else:
            p_phone = 0.1 if age > 70 else 0.0
        adult = age >= 16 and not stage
        return {
            "name": family_name + self.names.given(rng, sex),
            "id_number": None,
            # The ID number's parts (``_propose_ids``); the birth date as its ordinal, which
            # is pickled to the writing process in a fifth of the time of a date.
            "_id": (origin_code, birth_day, male, first_order),
            "birth_date": born,
            "sex": str(sex),
            "relationship": str(rel),
            "ethnicity": str(eth),
            "education": education,
            "health": health,
            "disability_grade": grade,
            "labour_ability": labour,
            "school_stage": stage,
            "phone": _mobile(rng) if rng.random() < p_phone else "",
            "medical_insurance": rng.random() < 0.97,
            "pension_insurance": adult and rng.random() < (0.9 if age >= 60 else 0.72),
            "dibao": dibao,
            "extreme_poverty_support": False,
            "residence_permit": hukou == "residence_permit",
            "notes": "",
            "_age": age,
        }

    def _birth_day(self, rng, age):
        """The ordinal of a birth date of ``age``: day 2 of the year onwards, whole years of
        age on 1 January of the current year."""
        first, days = self.birth_years[age]
        return first + rng.randint(1, days - 1)

    def _accept_id(self, proposed):
        """``proposed`` (``_propose_ids``) if no one has its first 17 digits yet, else the
        number with the next free order code of the same sex; either is given out here."""
        first17 = proposed[:17]
        if first17 not in self.given_ids and first17 not in self.taken_ids:
            self.given_ids.add(first17)
            return proposed
        for order in range(int(first17[14:]) + 2, 1000, 2):
            first17 = f"{proposed[:14]}{order:03d}"
            if first17 not in self.given_ids and first17 not in self.taken_ids:
                self.given_ids.add(first17)
                return first17 + check_digit(first17)
        raise RuntimeError(f"order codes exhausted for {proposed[:14]}")

    # ----------------------------------------------------------------- writing
    def _alloc(self, model, n):
        if n == 0:
            return []
        table = model._meta.db_table
        if self.postgres:
            with connection.cursor() as cursor:
                return reserve_ids(cursor, table, n)
        start = self.next_ids.get(table)
        if start is None:
            start = (model._base_manager.aggregate(m=models.Max("id"))["m"] or 0) + 1
        self.next_ids[table] = start + n
        return list(range(start, start + n))

    def _take_packed(self, data, ids, numbers):
        """Put the heads in front of the settlement's packed lines: the ids (``ids``:
        ``{model: [ids]}``) and household ``numbers`` given above, and the ID numbers
        sealed where they were made, or given and sealed here when one was taken."""
        (settlement_id,) = ids[Settlement]
        building_ids, grid_ids, group_ids = ids[Building], ids[GridUnit], ids[TenHouseholdGroup]
        heads, live_heads, history_heads = [], [], []
        person_ids = iter(ids[Person])
        layout = self.layouts[Person]
        live, history = data["sealed"]
        sealed = iter(zip(live, history, strict=True))
        for hid, number, (building, grid, group, proposed) in zip(
            ids[Household], numbers, data["households"], strict=True
        ):
            # HOUSEHOLD_HEADS: ids and a number of digits, nothing to escape.
            heads.append(
                b"%d\t%b\t%d\t%d\t%d\t%d"
                % (
                    hid,
                    number.encode(),
                    settlement_id,
                    building_ids[building],
                    grid_ids[grid],
                    group_ids[group],
                )
            )
            for id_number in proposed:
                pid = next(person_ids)
                live_tail, history_tail = next(sealed)
                given = self._accept_id(id_number)
                if given != id_number:  # taken: sealed again
                    (live_tail,), (history_tail,) = layout.sealed_heads(
                        self.format_cursor, [(given, None)], first=len(ID_HEADS)
                    )
                # ID_HEADS: two ids, nothing to escape.
                live_heads.append(b"%d\t%d\t%b" % (pid, hid, live_tail))
                history_heads.append(b"%d\t%d\t%b" % (pid, hid, history_tail))
        self.pending_packed[Household].append(
            self.layouts[Household].lines(heads, data["packed"][Household])
        )
        self.pending_packed[Person].append(
            layout.lines(live_heads, data["packed"][Person], history_heads)
        )

    def _flush(self):
        households, people = self.pending_households, self.pending_people
        packed = self.pending_packed[Household]
        places = self.pending_places[Settlement]
        if not households and not people and not packed and not places:
            return
        started = time.monotonic()
        if places:
            self._write_places()
        if packed:
            for model, chunks in self.pending_packed.items():
                self.layouts[model].write(chunks)
        elif self.postgres:
            self._copy(Household, households)
            self._copy(Person, people)
        else:
            self._orm(Household, households)
            self._orm(Person, people)
        self.timings["write"] += time.monotonic() - started
        self.pending_households, self.pending_people = [], []
        self.pending_packed = {Household: [], Person: []}
        self.pending_count = 0

    def _write_places(self):
        """``COPY`` the rows ``_queue_places`` queued, with their "+" history rows; the
        grids' history links name the grids' history rows, written just before them."""
        for model, rows in self.pending_places.items():
            if model is self.history_m2m:
                history_ids = created_history_ids(
                    GridUnit, [row["id"] for row in self.pending_places[GridUnit]]
                )
                for link in rows:
                    link["history_id"] = history_ids[link["gridunit_id"]]
            copy_with_history(model, rows, self.now)
        self.pending_places = {model: [] for model in self.pending_places}

    def _orm(self, model, rows):
        write_with_history_orm(model, rows)

    def _copy(self, model, rows):
        copy_with_history(model, rows, self.now)


def _keeps_history(model):
    return getattr(model._meta, "simple_history_manager_attribute", None) is not None


def loading(*models, appended=None):
    """Fill ``models``' empty tables, and their history tables, building their indexes once.

    ``relocation.rows.empty_tables_loaded_whole``: the foreign keys and indexes
    of the tables that hold no row yet (their primary keys and unique indexes
    too, where no other table's key refers to them) are dropped and created
    again at the end of the block, inside the caller's transaction.  For a demo
    step's ``COPY`` of millions of rows that it does not read back before the
    block ends.
    """
    return empty_tables_loaded_whole(tables_with_history(*models), appended=appended)


def tables_with_history(*models):
    """The tables of ``models`` and of their histories."""
    tables = []
    for model in models:
        tables.append(model._meta.db_table)
        if _keeps_history(model):
            tables.append(model.history.model._meta.db_table)
    return tables


def write_with_history_orm(model, rows):
    """Create ``rows`` (dicts of attnames) with their history, on any database.

    Returns the new instances, in order (with their ids).
    """
    names = {f.attname for f in model._meta.concrete_fields}
    objs = [model(**{k: v for k, v in row.items() if k in names}) for row in rows]
    if _keeps_history(model):
        return model.objects.bulk_create(objs, batch_size=500, history_reason=DEMO_REASON)
    return model.objects.bulk_create(objs, batch_size=500)


def write_rows_with_history(model, rows, now):
    """Create ``rows`` (dicts of attnames) with their "+" history rows, and give each its
    ``id``: the ids ``bulk_create`` would give them, in order (as many as there are rows
    are taken from the table's sequence, which ends where ``bulk_create`` left it).

    On PostgreSQL with ``COPY`` (``copy_with_history``): the ORM's ``bulk_create``
    builds a model instance per row and per history row and adapts every value
    through its fields, which was most of the time of the demo steps that wrote
    their thousands of rows with it.  Elsewhere ``write_with_history_orm``.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            ids = reserve_ids(cursor, model._meta.db_table, len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk
        copy_with_history(model, rows, now)
    else:
        for row, obj in zip(rows, write_with_history_orm(model, rows), strict=True):
            row["id"] = obj.pk


def created_history_ids(model, ids):
    """``{id: the id of its "+" history row}`` of ``model``'s rows ``ids``."""
    return dict(
        model.history.model._base_manager.filter(id__in=list(ids), history_type="+").values_list(
            "id", "history_id"
        )
    )


def record_links_in_history(model, field, links):
    """Make the "+" history rows of ``model``'s rows record their many-to-many ``field``
    links ``links`` (instances of its through model, saved), as saving a row with them
    would: the history's copy of each link, naming the row's "+" history row.  The
    communities demo's grids (their buildings) and governance's 居民小组 are written so:
    one statement for the links' history instead of one ``add()`` a row, each with a
    "~" history row of its own."""
    history = model.history.model
    copied = apps.get_model(model._meta.app_label, f"{history.__name__}_{field}")
    owner = model._meta.get_field(field).m2m_field_name() + "_id"
    target = model._meta.get_field(field).m2m_reverse_field_name() + "_id"
    history_ids = created_history_ids(model, {getattr(link, owner) for link in links})
    copied._base_manager.bulk_create(
        [
            copied(
                id=link.pk,
                history_id=history_ids[getattr(link, owner)],
                **{owner: getattr(link, owner), target: getattr(link, target)},
            )
            for link in links
        ]
    )


def delete_with_history(model, queryset):
    """Delete ``queryset``'s rows of ``model``, their many-to-many links and all their
    history rows (with the history of those links); returns how many rows of ``model``.

    Plain ``DELETE`` statements: no instance is loaded and no signal sent (a
    queryset's ``delete()`` writes a "-" history row per object first, one
    ``INSERT`` each: 280,000 visits took two minutes).  The caller deletes the
    rows of other models that refer to these first; the database's foreign keys
    refuse a forgotten one.  The ids are read first: ``queryset`` may be told by
    the history rows this deletes.

    On PostgreSQL the ids stay on the server, in a temporary table the planner has
    statistics for, so that each ``DELETE`` is a hash join (sent as one list, whose
    size the planner guesses at 10, the 11 million rights of the 2-million-people
    demo were looked up one by one in the primary key: over ten minutes), and a
    table that would lose every row, and that no other table's key refers to, is
    emptied with ``TRUNCATE``: deleting 11 million rows still took three minutes,
    dirtying and logging every page.  ``TRUNCATE`` locks the table until the
    transaction ends; ``load_demo`` runs before the server starts.
    """
    if connection.vendor == "postgresql":
        try:
            select = queryset.values_list("pk", flat=True).query.sql_with_params()
        except EmptyResultSet:  # a query that cannot match (``pk__in=[]``)
            return 0
        with _ids_on_server(model, *select) as doomed:
            ids = RawSQL(f"SELECT id FROM {doomed}", [])
            return _delete_ids_with_history(model, ids, doomed)
    return sum(
        _delete_ids_with_history(model, ids)
        for ids in in_lists(queryset.values_list("pk", flat=True))
    )


@contextlib.contextmanager
def _ids_on_server(model, sql, params):
    """The primary keys of ``model`` that ``sql`` selects, in a temporary table (its
    quoted name is given; PostgreSQL), dropped when the block ends.  After an error
    it is left to the rollback (or, outside a transaction, to the next call): a
    statement in an aborted transaction would hide the error."""
    table = connection.ops.quote_name(f"doomed_{model._meta.db_table}")
    column = model._meta.pk.rel_db_type(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (id {column})")
        cursor.execute(f"INSERT INTO {table} (id) {sql}", params)
        cursor.execute(f"ANALYZE {table}")
        yield table
        cursor.execute(f"DROP TABLE {table}")


def _delete_ids_with_history(model, ids, doomed=None):
    """``delete_with_history`` of the rows whose primary keys ``ids`` gives (the
    right-hand side of an ``__in`` lookup; ``doomed``: the temporary table it reads,
    on PostgreSQL); returns how many rows of ``model``."""
    history = model.history.model if _keeps_history(model) else None
    tracked = {f.name for f in getattr(history, "_history_m2m_fields", ())}
    versions = history._base_manager.filter(id__in=ids) if history else None
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        _raw_delete(through._base_manager.filter(**{f"{field.m2m_field_name()}_id__in": ids}))
        if field.name in tracked:
            linked = apps.get_model(model._meta.app_label, f"{history.__name__}_{field.name}")
            _raw_delete(linked._base_manager.filter(history_id__in=versions.values("history_id")))
    if versions is not None:
        _remove(versions, history._meta.get_field("id").column, doomed)
    return _remove(model._base_manager.filter(pk__in=ids), model._meta.pk.column, doomed)


def _remove(queryset, column, doomed):
    """Delete ``queryset``'s rows, those whose ``column`` is in the temporary table
    ``doomed`` (or None); returns how many.  ``TRUNCATE`` when that is every row of
    the table and no other table's foreign key refers to it (PostgreSQL), after the
    key checks the transaction queued for its commit (PostgreSQL truncates no table
    with checks waiting): a row that breaks a key still fails the transaction."""
    if doomed is None or not _loses_every_row(queryset.model, column, doomed):
        return _raw_delete(queryset)
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        run_waiting_checks(cursor)
        cursor.execute(f"SELECT count(*) FROM {table}")
        (count,) = cursor.fetchone()
        cursor.execute(f"TRUNCATE {table}")
    return count


def _loses_every_row(model, column, doomed):
    """No other table's key refers to ``model``'s and every row's ``column`` is in
    ``doomed`` (PostgreSQL)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = %s::regclass AND conrelid <> confrelid)",
            [table],
        )
        if cursor.fetchone()[0]:
            return False
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {quote(table)} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {doomed} d WHERE d.id = t.{quote(column)}))"
        )
        return not cursor.fetchone()[0]


def _raw_delete(queryset):
    return queryset._raw_delete(queryset.db) or 0


def copy_with_history(model, rows, now):
    """COPY ``rows`` (dicts of attnames) and their "+" history rows (PostgreSQL).

    Missing keys take the field's default (``now`` for date-times); history
    rows carry the reason 演示数据生成, by which ``--reset`` finds demo data.
    A model that keeps no history gets only its own rows.
    """
    fields = model._meta.concrete_fields
    targets = [(model, fields, _live_defaults(fields, now))]
    mirror = None
    if _keeps_history(model):
        history = model.history.model
        hist_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        hist_defaults = _history_defaults(hist_fields, now)
        mirror = _history_mirror(fields, history, hist_fields, hist_defaults)
        if mirror is None:
            targets.append((history, hist_fields, hist_defaults))
    hashes = {}  # the live rows' keyed hashes: the history's tokens reuse them
    with connection.cursor() as cursor:
        for target, target_fields, target_defaults in targets:
            # Rows never hold history_* keys, so those come from the defaults.
            spec = _copy_spec(target_fields, target_defaults)
            sql = _copy_sql(target, target_fields)
            writer = _KeepingWriter(cursor.cursor) if mirror and target is model else None
            # psycopg's own cursor: Django's debug wrapper takes no writer.
            with connection.wrap_database_errors, cursor.cursor.copy(sql, writer=writer) as copy:
                write = seal_writer(
                    tokenizing_writer(copy.write_row, target_fields, hashes),
                    target_fields,
                    hashes,
                )
                for row in rows:
                    get = row.get
                    write([get(a, d) for a, d in spec])
        if mirror:
            sql, end = mirror
            with cursor.copy(sql) as copy:
                for data in writer.kept:
                    copy.write(data.replace(b"\n", end))


def _copy_spec(fields, defaults):
    """``[(attname, default)]`` of ``fields``: what a ``COPY`` row takes from a row (a dict)
    that holds a value, else from ``defaults`` (``_live_defaults``, ``_history_defaults``).

    A date-time default (the build's ``now``) is given as the text psycopg writes for it
    (PostgreSQL), made once: psycopg's dumper of an aware date-time takes a microsecond
    a value, which was half the formatting of the demo's people (two in each row, one in
    each history row).  That text holds nothing ``COPY`` escapes: the same bytes are sent.
    """
    texts = {}
    spec = []
    for field in fields:
        value = defaults[field.attname]
        if isinstance(value, datetime.datetime) and connection.vendor == "postgresql":
            if value not in texts:
                texts[value] = _dumped(value)
            value = texts[value]
        spec.append((field.attname, value))
    return spec


def _dumped(value):
    """``value`` as psycopg's ``COPY`` writes it (a ``str``), or ``value`` itself if that text
    holds escapes (which a ``str`` would have escaped again)."""
    with connection.cursor() as cursor:
        text = _copy_text(cursor.cursor, [[value]]).decode()[:-1]  # without the newline
    return value if "\\" in text else text


def _live_defaults(fields, now):
    """``{attname: value}`` a demo row takes where it holds no value (``now`` for date-times)."""
    return {
        f.attname: (now if isinstance(f, models.DateTimeField) else f.get_default()) for f in fields
    }


def _history_defaults(fields, now):
    """The values of a "+" history row of the demo in ``fields`` (history fields)."""
    defaults = {f.attname: f.get_default() for f in fields}
    defaults.update(
        history_date=now, history_change_reason=DEMO_REASON, history_type="+", history_user_id=None
    )
    return defaults


def insert_with_history(model, select, params, now):
    """``INSERT`` the rows of ``select`` into ``model``, with their "+" history rows (PostgreSQL).

    For rows PostgreSQL can make itself from rows it holds (the demo's rights
    checklist: 11 million rows at 500,000 households), so that no row travels
    through Python.  ``select`` (SQL with ``%s`` placeholders for ``params``)
    yields every concrete field of ``model`` but the primary key, in field
    order; the ids come from the table's sequence.  One statement writes both
    tables: the history rows hold the new rows' values and the history's own
    columns as ``copy_with_history`` writes them.  A model with encrypted or
    tokenized columns is refused: those values are made in Python.  Returns the
    number of rows.
    """
    history = model.history.model
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    hist_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    if any(isinstance(f, EncryptedCharField) for f in fields) or token_fields(history):
        raise ValueError(f"{model.__name__} has encrypted columns: write it with COPY")
    by_name = {f.attname: f for f in hist_fields}
    live = {f.attname for f in model._meta.concrete_fields}
    own = [f for f in hist_fields if f.attname not in live]
    defaults = _history_defaults(own, now)
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    copied = ", ".join(quote(by_name[f.attname].column) for f in [model._meta.pk, *fields])
    sql = (
        f"WITH new AS (INSERT INTO {quote(model._meta.db_table)} ({columns}) {select} "
        f"RETURNING {pk}, {columns}) "
        f"INSERT INTO {quote(history._meta.db_table)} "
        f"({copied}, {', '.join(quote(f.column) for f in own)}) "
        f"SELECT {pk}, {columns}, {', '.join(['%s'] * len(own))} FROM new"
    )
    values = [f.get_db_prep_save(defaults[f.attname], connection) for f in own]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values])
        return cursor.rowcount


class _KeepingWriter(LibpqWriter):
    """Sends ``COPY`` data to the server and keeps it (``kept``: bytes)."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self.kept = []

    def write(self, data):
        self.kept.append(bytes(data))
        super().write(data)


def _history_mirror(fields, history, hist_fields, hist_defaults):
    """For a model without encrypted columns, how its history rows are written
    from its live rows' ``COPY`` data: (the history's ``COPY`` statement, the
    bytes that replace each line's end).  None for other models.

    A "+" history row holds the live row's values and then its own columns
    (history_date …), the same for every row.  ``COPY`` text ends each row with
    a newline and escapes the newlines within values, so the history's data is
    the live data with its own columns added before each newline: the rows are
    formatted once, not twice (the social-protection step writes 11 million
    rights at 500,000 households).
    """
    by_name = {f.attname: f for f in hist_fields}
    if any(isinstance(f, EncryptedCharField) for f in fields) or token_fields(history):
        return None
    if any(f.attname not in by_name for f in fields):
        return None  # a field the history leaves out
    own = [f for f in hist_fields if f.attname not in {g.attname for g in fields}]
    # The history's own columns formatted by psycopg, as its COPY would send them.
    with connection.cursor() as cursor:
        values = [f.get_db_prep_save(hist_defaults[f.attname], connection) for f in own]
        end = b"\t" + _copy_text(cursor.cursor, [values])  # ends with the line's newline
    return _copy_sql(history, [by_name[f.attname] for f in fields] + own), end


_forked = None  # the function the processes of ``in_processes`` run


def _worker_signals():
    """A forked worker's signals: SIGTERM ends it, SIGINT is its parent's to handle.

    A worker inherits its parent's handlers.  When the parent catches SIGTERM
    (the job worker, ``db_worker``, or a test suite that ran one), a worker whose
    SIGTERM only ran that handler outlives the ``terminate`` meant to end it, and
    the parent waits for it for ever: the executor terminates the other workers
    when one is lost (``multiprocessing.Pool``, used here before, did so at every
    end, and hung CI).  Ctrl-C reaches every process of the terminal: the parent
    stops the workers itself, after the tasks they hold.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_forked(task):
    return _forked(task)


def in_processes(function, tasks, workers, depth=8):
    """``function(task)`` for each of ``tasks``, in order, made by ``workers`` processes.

    For the pure Python that makes a demo step's rows: at the 2-million-people
    demo a step's generation kept one core busy while the database waited.  The
    processes are forked when this starts, so that ``function`` sees everything
    the caller has built; only tasks and results are pickled.  They never touch
    the database: their copy of this process's connection is left alone (a
    forked worker leaves by ``os._exit``), and ``tasks`` is consumed in this
    thread, so it may read the database with this thread's connection and
    transaction.  At most ``depth`` tasks are in flight.  With one worker, or
    off Linux (Python does not fork on macOS by default: system libraries may
    not survive it), everything runs here, in the same order: the rows are the
    same either way.
    """
    global _forked
    if workers < 2 or not sys.platform.startswith("linux"):  # macOS: fork is unsafe
        for task in tasks:
            yield function(task)
        return
    _forked = function
    executor = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_signals
    )
    try:
        flight = collections.deque()
        for task in tasks:
            flight.append(executor.submit(_run_forked, task))
            if len(flight) >= depth:
                yield flight.popleft().result()
        while flight:
            yield flight.popleft().result()
    except concurrent.futures.process.BrokenProcessPool as exc:
        # From the result of a task the lost process held or, once the executor has
        # seen the loss (its own thread notices it), from the next ``submit``.
        raise WorkerLost(
            "a process making demo rows ended without finishing its task "
            "(killed, or out of memory?); the step stopped there"
        ) from exc
    finally:
        # After an error, or a caller that stopped reading, the tasks not begun are
        # dropped; the workers finish the ones they hold and leave.
        executor.shutdown(wait=True, cancel_futures=True)
        _forked = None


class Progress:
    """What a step over settlements says while it runs: ``tick(done)`` prints
    ``"  <label>：已处理 <done>/<total> 个安置点（<s> 秒）"`` each time another ``every``-th
    of the ``total`` settlements is done, and ``say(line)`` prints a line of its own; both
    only for a step of at least ``least`` settlements (a smaller one is quick) and with a
    ``stdout`` (None: silent)."""

    def __init__(self, stdout, label, total, every=10, least=50):
        self.stdout = stdout if total >= least else None
        self.label = label
        self.total = total
        self.step = max(1, total // every)
        self.started = time.monotonic()

    def say(self, line):
        if self.stdout is not None:
            self.stdout.write(line)

    def tick(self, done):
        if done % self.step == 0:
            self.say(
                f"  {self.label}：已处理 {done}/{self.total} 个安置点"
                f"（{time.monotonic() - self.started:.0f} 秒）"
            )


class PackedRows:
    """A task's rows of one model, formatted for ``COPY`` by the process that made them
    (``PendingRows.packing``).

    ``places``: per row, its id's place among the task's rows of the model, then
    the places its ``references`` hold (None: no row).  ``formatted``: the ``COPY``
    text of the rows' other columns (``_Preformatted.format``), in the same order.
    """

    __slots__ = ("places", "formatted")

    def __init__(self, places, formatted):
        self.places = places
        self.formatted = formatted

    def __len__(self):
        return len(self.places)


class _Preformatted:
    """How a model's rows are written when the process that made them formats them for
    ``COPY`` (``format``), but for its ``heads``: the columns only the writing process
    knows (ids, references, numbers given out in order, ID numbers checked against those
    given), which it puts in front of each line (``lines``).

    ``format`` seals the encrypted columns and tokenizes the history's as
    ``copy_with_history`` does.  The "+" history rows are the live lines with the
    history's own columns added (``_history_mirror``) where the history keeps every
    column as it is; else they are formatted too, after the heads the history keeps,
    but for the columns they hold as the live rows do (``shared``: neither sealed nor
    tokenized, and with the same default), which are formatted once for both and come
    first in both tables' ``COPY``: a person's name, birth date, sex… were formatted
    twice, a seventh of the formatting of the people.
    """

    def __init__(self, model, heads, now):
        fields = model._meta.concrete_fields
        by_name = {f.attname: f for f in fields}
        self.heads = [by_name[name] for name in heads]
        rest = [f for f in fields if f.attname not in heads]
        defaults = _live_defaults(fields, now)
        self.mirror = None
        self.history_heads = self.history_rest = None
        self.shared = []
        if _keeps_history(model):
            history = model.history.model
            hist_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
            hist_defaults = _history_defaults(hist_fields, now)
            self.mirror = _history_mirror(self.heads + rest, history, hist_fields, hist_defaults)
            if self.mirror is None:
                hist_by_name = {f.attname: f for f in hist_fields}
                self.history_heads = [hist_by_name[name] for name in heads if name in hist_by_name]
                # The columns sealed in the live rows (and their hashes) or tokenized in
                # the history's: they differ between the two.
                changed = set(token_fields(history))
                for f in rest:
                    if isinstance(f, EncryptedCharField):
                        changed |= {f.attname, f.hash_field}
                self.shared = [
                    f
                    for f in rest
                    if f.attname in hist_by_name
                    and f.attname not in changed
                    and type(defaults[f.attname]) is type(hist_defaults[f.attname])
                    and defaults[f.attname] == hist_defaults[f.attname]
                ]
                self.shared_spec = _copy_spec(self.shared, defaults)
                shared = {f.attname for f in self.shared}
                self.history_rest = [
                    f for f in hist_fields if f.attname not in heads and f.attname not in shared
                ]
                self.history_spec = _copy_spec(self.history_rest, hist_defaults)
                self.history_sql = _copy_sql(
                    history,
                    self.history_heads
                    + [hist_by_name[f.attname] for f in self.shared]
                    + self.history_rest,
                )
        # The live rows' own columns: all but the heads and the shared ones.
        self.own = [f for f in rest if f not in self.shared]
        self.spec = _copy_spec(self.own, defaults)
        self.rest = self.shared + self.own  # in the order of the COPY, after the heads
        self.sql = _copy_sql(model, self.heads + self.rest)

    def format(self, cursor, rows):
        """(live, history or None) ``COPY`` text of ``rows``' other columns, a line per
        row; ``cursor`` (psycopg's) only lends its adapters: nothing is sent through it."""
        hashes = {}  # the live rows' keyed hashes: the history's tokens reuse them
        live = _formatted(cursor, rows, self.spec, seal_writer, self.own, hashes)
        if self.history_rest is None:
            return live, None
        history = _formatted(
            cursor, rows, self.history_spec, tokenizing_writer, self.history_rest, hashes
        )
        if self.shared:
            # Nothing of these to seal: ``seal_writer`` hands back the plain ``write_row``.
            shared = _formatted(cursor, rows, self.shared_spec, seal_writer, self.shared, hashes)
            shared = _lines(shared)
            live = _with_heads(shared, live, bool(self.own))
            history = _with_heads(shared, history, True)  # history_* are never shared
        return live, history

    def sealed_heads(self, cursor, rows, first):
        """(live, history) heads of ``rows``, lists of the heads' clear values: encrypted
        and hashed for the live rows, tokenized for the history; lists of their ``COPY``
        text, formatted by psycopg (``cursor`` only lends its adapters).

        ``first``: the heads from that place on only; the ones before it, the same
        columns in both tables, are put in front of them by the caller.
        """
        heads = self.heads[first:]
        if [f.attname for f in self.history_heads[:first]] != [
            f.attname for f in self.heads[:first]
        ]:
            raise ValueError("the heads left out are not the history's first ones")
        history_heads = self.history_heads[first:]
        kept = {f.attname for f in history_heads}
        places = [i for i, f in enumerate(heads) if f.attname in kept]
        hashes = {}
        live = _copy_text(cursor, rows, seal_writer, heads, hashes)
        history = _copy_text(
            cursor,
            ([values[i] for i in places] for values in rows),
            tokenizing_writer,
            history_heads,
            hashes,
        )
        return _lines(live), _lines(history)

    def lines(self, heads, formatted, history_heads=None):
        """(live, history or None): ``format``'s lines after their heads (``history_heads``:
        the history's, when they are not ``heads``)."""
        live, history = formatted
        live = _with_heads(heads, live, bool(self.rest))
        if history is None:
            return live, None
        return live, _with_heads(history_heads or heads, history, True)

    def write(self, chunks):
        """``COPY`` the rows of ``chunks`` (``lines``') and their "+" history rows."""
        data = b"".join(live for live, _history in chunks)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: Django's debug wrapper takes no copy
            with connection.wrap_database_errors, raw.copy(self.sql) as copy:
                copy.write(data)
            if self.mirror:
                sql, end = self.mirror
                data = data.replace(b"\n", end)
            elif self.history_rest is not None:
                sql = self.history_sql
                data = b"".join(history for _live, history in chunks)
            else:
                return
            with connection.wrap_database_errors, raw.copy(sql) as copy:
                copy.write(data)


#: The households' and people's heads (``_Preformatted``): the ids, the household numbers
#: and ID numbers (unique across settlements made apart, so checked in order; the ID
#: number's hash is sealed from it) and the ids of the settlements, buildings, grids and
#: 十联户, given by ``_write_settlement``.
HOUSEHOLD_HEADS = ("id", "number", "settlement_id", "building_id", "grid_id", "ten_group_id")
PERSON_HEADS = ("id", "household_id", "id_number", "id_number_hash")
#: The people's heads given by the writing process; the others are sealed where the
#: people are made (``_Builder._packed``).
ID_HEADS = PERSON_HEADS[:2]


def _format_cursor():
    """A psycopg cursor that only formats (``_Preformatted.format``): made before the
    processes fork, which use their copy of it."""
    connection.ensure_connection()
    return connection.connection.cursor()


def _copy_sql(model, fields):
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    return f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"


def _formatted(cursor, rows, spec, wrap, fields, hashes):
    """The ``COPY`` text of ``rows``' (dicts') values of ``spec`` (``[(attname, default)]``),
    written through ``wrap`` (``_copy_text``)."""
    values = ([row.get(name, default) for name, default in spec] for row in rows)
    return _copy_text(cursor, values, wrap, fields, hashes)


def _copy_text(cursor, rows, wrap=None, fields=(), hashes=None):
    """The ``COPY`` text psycopg writes for ``rows`` (lists of values), through
    ``wrap(write_row, fields, hashes)`` when given (``seal_writer``, ``tokenizing_writer``).
    ``cursor`` (psycopg's own) only lends its adapters: nothing is sent to the server."""
    formatted = io.BytesIO()
    with Copy(cursor, binary=False, writer=FileWriter(formatted)) as copy:
        write = copy.write_row if wrap is None else wrap(copy.write_row, fields, hashes)
        for row in rows:
            write(row)
    return formatted.getvalue()


def _lines(data):
    """``COPY`` text as a list of its lines (it escapes the newlines within values)."""
    return data.split(b"\n")[:-1]


def _with_heads(heads, data, tab):
    """``data``'s lines, each after its head (and a tab if the lines hold columns)."""
    lines = data.split(b"\n")  # COPY text escapes the newlines within values
    sep = b"\t" if tab else b""
    return b"".join(
        b"%b%b%b\n" % (head, sep, line) for head, line in zip(heads, lines, strict=False)
    )


class PendingRows:
    """The rows of ``in_processes``' results, given their tables' ids and written in batches.

    A task's result is ``{model: [rows]}``, each row a dict of column values
    whose ``id`` is its place among the task's rows of its model (from 1), and
    whose fields named in ``references`` (``{model: {field: target model}}``)
    hold such places among the task's rows of the target model (or None, or
    nothing).
    ``take`` gives them the tables' ids, in the order of the results (so the ids
    are those of one process making everything in that order), and ``flush``
    writes them with their "+" history rows, the models in ``order`` (the
    models a row refers to first), when ``flush_rows`` are waiting; on SQLite
    after every result.

    On PostgreSQL the task function wrapped by ``packing`` formats the rows for
    ``COPY`` in the process that made them (``PackedRows``, ``_Preformatted``):
    only their ids and references are put in here, so the writing process, which
    every task's rows pass through, is not what the step waits for.  Not packed:
    the models in ``keep_rows``, whose rows the caller reads or changes after the
    task (before ``take``), and any whose history leaves out its id or a reference.
    The rows written are the same either way.
    """

    BLOCK = 10_000

    def __init__(self, now, order, references=None, flush_rows=60_000, keep_rows=()):
        self.now = now
        self.order = order
        self.references = references or {}
        self.flush_rows = flush_rows
        self.postgres = connection.vendor == "postgresql"
        self.rows = {model: [] for model in order}
        self.packed = {model: [] for model in order}
        self.size = 0
        #: Rows taken per model: what ``flush`` has written or will write (the steps report
        #: these instead of counting their tables again: 11 s of the 500,000-household demo).
        self.counts = collections.Counter()
        self.blocks = {}
        self.next_sqlite = {}
        self.seconds = 0.0  # spent writing
        self.layouts = {}  # {model: _Preformatted} of the models packed
        for model in order if self.postgres else ():
            heads = [model._meta.pk.attname, *self.references.get(model, {})]
            layout = _Preformatted(model, heads, now)
            if model not in keep_rows and len(layout.history_heads or heads) == len(heads):
                self.layouts[model] = layout

    def packing(self, function):
        """``function`` (an ``in_processes`` task's: it returns ``{model: [rows]}``), with the
        rows of the models packed formatted for ``COPY`` where it runs."""
        if not self.layouts:
            return function
        cursor = _format_cursor()

        def run(task):
            made = function(task)
            for model, layout in self.layouts.items():
                rows = made.get(model)
                if rows:
                    fields = list(self.references.get(model, {}))
                    if fields:
                        places = [(row["id"], *[row.get(f) for f in fields]) for row in rows]
                    else:  # no references: a generator per row would cost 5 times more
                        places = [(row["id"],) for row in rows]
                    made[model] = PackedRows(places, layout.format(cursor, rows))
            return made

        return run

    def ids(self, model, count):
        """``count`` new ids of ``model``, in order (taken from the sequence in blocks)."""
        block = self.blocks.setdefault(model, [])
        while len(block) < count:
            if self.postgres:
                with connection.cursor() as cursor:
                    more = reserve_ids(cursor, model._meta.db_table, self.BLOCK)
            else:
                start = self.next_sqlite.get(model)
                if start is None:
                    start = (model._base_manager.aggregate(m=models.Max("id"))["m"] or 0) + 1
                self.next_sqlite[model] = start + self.BLOCK
                more = list(range(start, start + self.BLOCK))
            block.extend(more)
        taken, self.blocks[model] = block[:count], block[count:]
        return taken

    def take(self, made):
        """Give one result's rows their ids; write when enough are waiting."""
        new = {model: self.ids(model, len(rows)) for model, rows in made.items()}
        for model, fields in self.references.items():
            rows = made.get(model, ())
            if isinstance(rows, PackedRows):
                continue  # its references are put in by ``unpack``
            for row in rows:
                for field, target in fields.items():
                    place = row.get(field)
                    if place is not None:
                        row[field] = new[target][place - 1]
        for model, rows in made.items():
            if isinstance(rows, PackedRows):
                self.packed[model].append(self._lines(model, rows, new))
            else:
                ids = new[model]
                for row in rows:
                    row["id"] = ids[row["id"] - 1]
                self.rows[model] += rows
            self.size += len(rows)
            self.counts[model] += len(rows)
        if self.size >= self.flush_rows or not self.postgres:
            self.flush()

    def _lines(self, model, packed, new):
        """``packed``'s lines with the tables' ids in front (``_Preformatted.lines``); ``new``:
        ``{model: [ids]}`` of the task's rows."""
        ids = new[model]
        targets = [new.get(target, ()) for target in self.references.get(model, {}).values()]
        # The ids first, then each reference's id (or \N) added to every head in one
        # pass: no loop over the references inside the loop over the rows.
        heads = [b"%d" % ids[place[0] - 1] for place in packed.places]
        for i, target in enumerate(targets, start=1):
            heads = [
                head + b"\t\\N" if place[i] is None else b"%b\t%d" % (head, target[place[i] - 1])
                for head, place in zip(heads, packed.places, strict=True)
            ]
        return self.layouts[model].lines(heads, packed.formatted)

    def flush(self):
        started = time.monotonic()
        for model in self.order:
            rows, self.rows[model] = self.rows[model], []
            packed, self.packed[model] = self.packed[model], []
            if packed:
                self.layouts[model].write(packed)
            if not rows:
                continue
            if self.postgres:
                copy_with_history(model, rows, self.now)
            else:
                write_with_history_orm(model, rows)
        self.size = 0
        self.seconds += time.monotonic() - started


def _produce(iterable, depth=16):
    """Iterate ``iterable`` in a background thread, ``depth`` items ahead."""
    items = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def run():
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        items.put((item, None), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put((done, None))
        except BaseException as exc:  # handed to the consumer
            with contextlib.suppress(queue.Full):
                items.put((done, exc), timeout=5)

    worker = threading.Thread(target=run, name="demo-generator", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = items.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _startswith_any(field_name, prefixes):
    q = models.Q(pk__in=[])
    for prefix in prefixes:
        q |= models.Q(**{f"{field_name}__startswith": prefix})
    return q


def _dhondt(seats, weights, codes, left):
    """Give ``left`` more seats among ``codes`` by D'Hondt over ``weights`` (in place).

    A heap, since the national demo gives 35,000 seats over 2,000 counties;
    ties go to the larger code.
    """
    heap = [(-weights[c] / (seats[c] + 1), -int(c), c) for c in codes]
    heapq.heapify(heap)
    for _ in range(left):
        _ratio, _order, code = heapq.heappop(heap)
        seats[code] += 1
        heapq.heappush(heap, (-weights[code] / (seats[code] + 1), -int(code), code))


def _apportion(total, weights):
    """Split ``total`` in proportion to ``weights`` (largest remainder, at least 1 each)."""
    n = len(weights)
    if total < n:
        raise ValueError(f"需要至少 {n} 户才能分配到 {n} 个安置点。")
    scale = (total - n) / sum(weights)
    raw = [w * scale for w in weights]
    shares = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: (raw[i] - shares[i], -i), reverse=True)
    for i in order[: total - n - sum(shares)]:
        shares[i] += 1
    return [s + 1 for s in shares]


def _split(items, parts):
    """``items`` in ``parts`` contiguous blocks of near-equal size."""
    parts = max(1, min(parts, len(items))) if items else 1
    size, extra = divmod(len(items), parts)
    blocks, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        blocks.append(items[start:end])
        start = end
    return blocks
