"""Services and culture: protection (demo).

Benefit records, temporary assistance and the rights checklist for the demo
settlements of ``communities.demo``.

* **Benefit records** follow the people's own fields, which the communities
  demo fills at the seeds' proportions (seed 001, 六盘水 2023: 10.94 万 insured
  for medical care, 7.23 万 for pension, 3.29 万 on 低保 — about 97 %, 64 % and
  29 % of its relocated people).  Every field that is set gets an open record
  from the day the household moved in (or 1 January of its relocation year);
  about half of the people on 城市低保 first had 农村低保, ended the day before
  (seed 004: 5 万 moved from 农低保 to 城低保).  A person without 医保 who has a
  serious illness or a disability had it until last month, so the work list
  「患大病或残疾但未参加医保」 has entries with a history.  Disabled people of
  grade 1 or 2 get 重度残疾人护理补贴; disabled people on 低保 get
  困难残疾人生活补贴.
* **临时救助**: about 3 % of households a year, 500 to 3,000 元, in the last
  two years.
* **权益保障**: seed 002 (忻府区) keeps 4 categories and 23 items across the
  place of origin and the destination without listing them; the demo's
  checklist has 4 categories and 23 items built from the rights the seeds
  name (承包地, 林地, 宅基地复垦, 集体收益分配, 户籍, 就学, 医保转移接续, 社会救助 …)
  and is illustrative.  It is created for every province with demo
  settlements (unless that province already has a checklist); each household
  has about 85 % of its items secured, 10 % not applicable, the rest pending,
  and one household in twenty has no record yet.

Deterministic: every draw of the records and the assistance comes from
``random.Random`` seeded from the seed and a settlement code, people and
households visited in number order; the rights' draws come from the MD5 of
the seed and the household's number, and from a Lehmer generator seeded with
it for the items (``_household_draws``, ``_item_draws``), which PostgreSQL
computes itself (``_RIGHTS_SQL``: no row of the 11 million of the
2-million-people demo passes through Python) and Python the same way elsewhere; the
records and the assistance are made in ``load_demo --workers`` processes.  Every
row gets a '+' history row with ``DEMO_REASON``; ``delete_protection_demo``
removes what the demo created.
"""

import datetime
import functools
import hashlib
import random
import time

from django.db import connection, transaction
from django.utils import timezone

from communities.demo import DEFAULT_SEED, DEMO_REASON, demo_settlements
from communities.demo.generate import (
    PendingRows,
    Progress,
    delete_with_history,
    in_processes,
    insert_with_history,
    loading,
)
from communities.enums import Health
from communities.models import Household, Person
from relocation.demo import DemoStep, register

from ..models.protection import (
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightSide,
    RightsItem,
    RightState,
    TemporaryAssistance,
)

#: (category, side, items): 4 categories, 23 items.
CHECKLIST = (
    (
        "迁出地资源权益",
        RightSide.ORIGIN,
        (
            "承包地经营权",
            "林地经营权",
            "宅基地复垦复绿收益",
            "集体收益分配权",
            "耕地地力保护补贴",
            "生态公益林补偿",
            "退耕还林补助",
        ),
    ),
    (
        "迁出地身份权益",
        RightSide.ORIGIN,
        ("集体经济组织成员身份", "原村产业帮扶收益", "户籍迁移自愿选择"),
    ),
    (
        "迁入地公共服务",
        RightSide.DESTINATION,
        (
            "户籍迁入或新市民居住证",
            "子女就近入学",
            "医保转移接续",
            "养老保险转移接续",
            "就业服务登记",
            "安置住房不动产登记",
        ),
    ),
    (
        "迁入地社会保障",
        RightSide.DESTINATION,
        (
            "低保（含农转城）",
            "特困供养",
            "临时救助",
            "残疾人两项补贴",
            "高龄补贴",
            "医疗救助",
            "物业费减免",
        ),
    ),
)


def _demo_ids(model):
    return model.history.model._base_manager.filter(
        history_type="+", history_change_reason=DEMO_REASON
    ).values("id")


def protection_demo_exists():
    return (
        RightsCategory.history.filter(history_type="+", history_change_reason=DEMO_REASON).exists()
        or BenefitRecord.history.filter(
            history_type="+", history_change_reason=DEMO_REASON
        ).exists()
    )


def protection_demo_counts(written=None):
    """The demo's rows of each kind; ``written``: the rows per model the step has just
    written (``_write_records``), taken instead of counting the tables again (6 s at
    500,000 households)."""
    ids = list(demo_settlements().values_list("pk", flat=True))
    people = {"person__household__settlement_id__in": ids}
    tables = {
        "benefit_records": (BenefitRecord, people),
        "temporary_assistance": (TemporaryAssistance, people),
        "household_rights": (HouseholdRight, {"household__settlement_id__in": ids}),
    }
    counts = {
        key: written[model] if written is not None else model.objects.filter(**where).count()
        for key, (model, where) in tables.items()
    }
    counts["rights_items"] = RightsItem.objects.filter(pk__in=_demo_ids(RightsItem)).count()
    return counts


def delete_protection_demo():
    """Delete the records of demo people and households, and the demo's unused checklists."""
    ids = list(demo_settlements().values_list("pk", flat=True))
    people = Person._base_manager.filter(household__settlement_id__in=ids).values("pk")
    households = Household._base_manager.filter(settlement_id__in=ids).values("pk")
    deleted = 0
    with transaction.atomic():
        deleted += delete_with_history(
            BenefitRecord, BenefitRecord._base_manager.filter(person_id__in=people)
        )
        deleted += delete_with_history(
            TemporaryAssistance, TemporaryAssistance._base_manager.filter(person_id__in=people)
        )
        deleted += delete_with_history(
            HouseholdRight, HouseholdRight._base_manager.filter(household_id__in=households)
        )
        items = RightsItem._base_manager.filter(pk__in=_demo_ids(RightsItem)).exclude(
            pk__in=HouseholdRight._base_manager.values("item_id")
        )
        deleted += delete_with_history(RightsItem, items)
        categories = RightsCategory._base_manager.filter(pk__in=_demo_ids(RightsCategory)).exclude(
            pk__in=RightsItem._base_manager.values("category_id")
        )
        deleted += delete_with_history(RightsCategory, categories)
    return deleted


def _checklists(provinces):
    """The demo checklist for each province without one: {province code: [items]}."""
    items = {}
    for province in sorted(provinces):
        existing = list(
            RightsItem.objects.active().filter(category__province_id=province).order_by("pk")
        )
        if existing:
            items[province] = existing
            continue
        for order, (name, side, names) in enumerate(CHECKLIST, start=1):
            category = RightsCategory(province_id=province, name=name, side=side, order=order)
            RightsCategory.objects.bulk_create([category], history_reason=DEMO_REASON)
            RightsItem.objects.bulk_create(
                [
                    RightsItem(category=category, name=item, order=n)
                    for n, item in enumerate(names, start=1)
                ],
                history_reason=DEMO_REASON,
            )
        items[province] = list(
            RightsItem.objects.active().filter(category__province_id=province).order_by("pk")
        )
    return items


def _start(household, today):
    """The day ``household`` (a row of ``HOUSEHOLD_FIELDS``) has its records from."""
    _pk, _number, moved_in_date, relocation_year = household
    start = moved_in_date or datetime.date(relocation_year, 1, 1)
    return min(start, today)


#: What the records are drawn from, as plain tuples in this order (``_read``): no
#: model instance is built, and a plain tuple is what pickles quickest to the
#: processes that make the rows (a named row pickles by name, a call per row).
HOUSEHOLD_FIELDS = ("pk", "number", "moved_in_date", "relocation_year")
PERSON_FIELDS = (
    "pk",
    "household_id",
    "medical_insurance",
    "health",
    "pension_insurance",
    "dibao",
    "extreme_poverty_support",
    "disability_grade",
)

#: The monthly amounts of 低保 (one drawn for every person, used for those on it), of
#: 特困供养 and of the two disability subsidies, in 元: ints, written as the same
#: Decimals would be (``COPY`` and the ORM alike), without building one per person.
DIBAO_AMOUNTS = (560, 620, 680, 720)
EXTREME_POVERTY_AMOUNT = 900
DISABILITY_CARE_AMOUNT = 100
DISABILITY_LIVING_AMOUNT = 90
#: The health of the people whose 医保 record ends last month when they have none.
SICK = (Health.SERIOUS, Health.DISABLED)


def _benefits(person, start, today, last_month_end, rng):
    """The records behind one person's fields (see the module docstring), as
    ``(kind, start, end, monthly amount)``.

    ``person``: a row of ``PERSON_FIELDS``; ``last_month_end``: the last day of the
    month before ``today``'s.
    """
    _pk, _household, medical, health, pension, dibao, extreme_poverty, grade = person
    records = []  # (kind, start, end, monthly amount)
    if medical:
        records.append((BenefitKind.MEDICAL, start, None, None))
    elif health in SICK and start < last_month_end:
        records.append((BenefitKind.MEDICAL, start, last_month_end, None))
    if pension:
        records.append((BenefitKind.PENSION, start, None, None))
    amount = rng.choice(DIBAO_AMOUNTS)
    if dibao == "urban":
        switch = start + datetime.timedelta(days=rng.randint(180, 720))
        if switch < today and rng.random() < 0.5:
            records.append(
                (BenefitKind.DIBAO_RURAL, start, switch - datetime.timedelta(days=1), amount)
            )
            records.append((BenefitKind.DIBAO_URBAN, switch, None, amount))
        else:
            records.append((BenefitKind.DIBAO_URBAN, start, None, amount))
    elif dibao == "rural":
        records.append((BenefitKind.DIBAO_RURAL, start, None, amount))
    if extreme_poverty:
        records.append((BenefitKind.EXTREME_POVERTY, start, None, EXTREME_POVERTY_AMOUNT))
    if health == Health.DISABLED:
        if grade in (1, 2):
            records.append((BenefitKind.DISABILITY_CARE, start, None, DISABILITY_CARE_AMOUNT))
        if dibao:
            records.append((BenefitKind.DISABILITY_LIVING, start, None, DISABILITY_LIVING_AMOUNT))
    return records


#: The rights checklist (see the module docstring): the share of households not
#: yet checked, and the draws under which an item is not applicable or pending.
UNCHECKED = 0.05
_STATES = (
    0.10,
    RightState.NOT_APPLICABLE.value,
    0.15,
    RightState.PENDING.value,
    RightState.SECURED.value,
)


#: The items' draws: the MINSTD generator (Park and Miller, "Random number generators:
#: good ones are hard to find", 1988), x -> x * 48271 mod 2^31 - 1.  Its k-th
#: number after a seed is the seed times 48271^k (mod 2^31 - 1): one product per
#: draw, exact in a 64-bit integer, so PostgreSQL draws what Python draws.  An MD5
#: per item and draw cost five of the 14 seconds the database spent on the 2.2
#: million rights of 100,000 households; this costs half a second.
_MODULUS = 2**31 - 1
_MULTIPLIER = 48271


def _household_draws(key):
    """(a draw in [0, 1), a seed in [1, 2^31 - 2]) from ``key``: the first 12 hex
    digits of its MD5 as a 48-bit fraction (exact in a double), and the next 8 as
    the seed of ``_item_draws``.  PostgreSQL's ``md5()`` gives the same digits."""
    digest = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return int(digest[:12], 16) / 2**48, 1 + int(digest[12:20], 16) % (_MODULUS - 1)


@functools.cache
def _item_multipliers(count):
    """For the items at places 1 to ``count``: the multipliers of their two draws,
    48271^(2p - 1) and 48271^(2p) (mod 2^31 - 1), as two lists (worked out once per
    checklist length, not per household)."""
    return (
        [pow(_MULTIPLIER, 2 * place - 1, _MODULUS) for place in range(1, count + 1)],
        [pow(_MULTIPLIER, 2 * place, _MODULUS) for place in range(1, count + 1)],
    )


def _item_draws(seed, multiplier):
    """The draw in (0, 1) of ``seed``'s generator at ``multiplier`` (``_item_multipliers``)."""
    return seed * multiplier % _MODULUS / _MODULUS


def _right_rows(seed, household, start, today, items):
    """One household's rights (``items``: ids in checklist order), as rows.

    A household is unchecked when the draw of ``"<seed>:rights:<number>"``
    (``_household_draws``) is under ``UNCHECKED``; the item at place p takes
    the generator's numbers 2p - 1 (its state) and 2p (its date) after the
    key's seed.
    """
    household_id, number, *_dates = household
    unchecked, generator = _household_draws(f"{seed}:rights:{number}")
    if unchecked < UNCHECKED:
        return []
    span = max((today - start).days, 0)
    below_na, not_applicable, below_pending, pending, secured = _STATES
    rows = []
    for item, of_state, of_date in zip(items, *_item_multipliers(len(items)), strict=True):
        draw, when = _item_draws(generator, of_state), _item_draws(generator, of_date)
        state = not_applicable if draw < below_na else pending if draw < below_pending else secured
        rows.append(
            {
                "household_id": household_id,
                "item_id": item,
                "state": state,
                "recorded_on": start + datetime.timedelta(days=int(when * (span + 1))),
                "notes": "",
            }
        )
    return rows


#: ``_right_rows`` for all the households of some settlements, in PostgreSQL.
#: Parameters: ``_STATES``, today, the key prefix ``"<seed>:rights:"``, today, the
#: settlement ids, the item ids in checklist order and their two multipliers
#: (``_item_multipliers``), ``UNCHECKED``.  The household's MD5 is taken once
#: (``OFFSET 0`` keeps the subquery: inlined, it would be taken once per item).
_RIGHTS_SQL = f"""
    SELECT h.id, i.item_id,
           CASE WHEN d.draw < %s THEN %s WHEN d.draw < %s THEN %s ELSE %s END,
           h.start + floor(d.when_ * (greatest(%s::date - h.start, 0) + 1))::int,
           ''
    FROM (
        SELECT id, start, ('x' || substr(m, 1, 12))::bit(48)::bigint::float8 / 2 ^ 48 AS draw,
               1 + ('x' || substr(m, 13, 8))::bit(32)::bigint %% {_MODULUS - 1} AS generator
        FROM (
            SELECT id, md5(%s || number) AS m,
                   least(coalesce(moved_in_date, make_date(relocation_year, 1, 1)), %s::date)
                       AS start
            FROM {Household._meta.db_table} WHERE settlement_id = ANY(%s)
        ) keyed
        OFFSET 0
    ) h
    CROSS JOIN unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS i(item_id, of_state, of_date)
    CROSS JOIN LATERAL (
        SELECT (h.generator * i.of_state %% {_MODULUS})::float8 / {_MODULUS} AS draw,
               (h.generator * i.of_date %% {_MODULUS})::float8 / {_MODULUS} AS when_
    ) d
    WHERE h.draw >= %s
"""


def build_protection_demo(seed=DEFAULT_SEED, today=None, workers=1, stdout=None):
    """Create the demo's records; returns the counts (``protection_demo_counts`` of the rows
    written), or None when the demo already has them.

    ``workers``: the processes that make the records (``_write_records``); ``stdout``:
    where its progress goes (None: silent).
    """
    if protection_demo_exists():
        return None
    today = today or timezone.localdate()
    now = timezone.now()
    settlements = list(demo_settlements().order_by("code"))
    with transaction.atomic():
        checklists = _checklists({f"{s.county_id[:2]}0000" for s in settlements})
        with loading(BenefitRecord, TemporaryAssistance, HouseholdRight):
            written = _write_records(settlements, checklists, seed, today, now, workers, stdout)
    return protection_demo_counts(written)


def _write_records(settlements, checklists, seed, today, now, workers=1, stdout=None):
    """Each settlement's benefit records, assistance and rights (see the module docstring).

    ``workers`` processes make the rows (``in_processes``: the same rows for any
    number) from the households and people this process reads.  On PostgreSQL
    the rights are made by ``_RIGHTS_SQL``, per province, after the rest;
    elsewhere by ``_right_rows``, which draws the same numbers.  Returns the rows
    written per model (a ``Counter``).
    """
    postgres = connection.vendor == "postgresql"
    pending = PendingRows(now, (BenefitRecord, TemporaryAssistance, HouseholdRight))
    maker = _Maker(settlements, checklists, seed, today, rights=not postgres)
    tasks = ((index, *_read(settlement)) for index, settlement in enumerate(settlements))
    progress = Progress(stdout, "社会保障待遇记录", len(settlements))
    for index, made in enumerate(
        in_processes(pending.packing(maker.make), tasks, workers), start=1
    ):
        pending.take(made)
        progress.tick(index)
    pending.flush()
    written = pending.counts
    if postgres:
        progress.say("  权益落实记录：由数据库逐户生成……")
        started = time.monotonic()
        by_province = {}
        for settlement in settlements:
            by_province.setdefault(f"{settlement.county_id[:2]}0000", []).append(settlement.pk)
        for province, ids in sorted(by_province.items()):
            items = [item.pk for item in checklists[province]]
            written[HouseholdRight] += insert_with_history(
                HouseholdRight,
                _RIGHTS_SQL,
                [
                    *_STATES,
                    today,
                    f"{seed}:rights:",
                    today,
                    ids,
                    items,
                    *_item_multipliers(len(items)),
                    UNCHECKED,
                ],
                now,
            )
        progress.say(f"  权益落实记录：已生成（{time.monotonic() - started:.0f} 秒）")
    return written


def _read(settlement):
    """A settlement's households and {household id: its people}, in number order
    (rows of ``HOUSEHOLD_FIELDS`` and ``PERSON_FIELDS``)."""
    households = list(
        Household.objects.filter(settlement=settlement)
        .order_by("number", "pk")
        .values_list(*HOUSEHOLD_FIELDS)
    )
    members = {}
    for person in (
        Person.objects.filter(household__settlement=settlement)
        .order_by("household__number", "pk")
        .values_list(*PERSON_FIELDS)
    ):
        members.setdefault(person[1], []).append(person)
    return households, members


class _Maker:
    """Makes a settlement's rows (``in_processes``' function), without the database:
    ``{model: [rows]}``, each row's ``id`` its place (``PendingRows``)."""

    def __init__(self, settlements, checklists, seed, today, rights):
        self.settlements = settlements
        self.checklists = checklists
        self.seed = seed
        self.today = today
        self.rights = rights

    def make(self, task):
        index, households, members = task
        settlement, seed, today = self.settlements[index], self.seed, self.today
        rng = random.Random(f"{seed}:protection:{settlement.code}")
        items = [item.pk for item in self.checklists[f"{settlement.county_id[:2]}0000"]]
        last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
        benefits, aid, rights, payments = [], [], [], set()
        for household in households:
            start = _start(household, today)
            people = members.get(household[0], [])
            for person in people:
                for kind, begin, end, amount in _benefits(
                    person, start, today, last_month_end, rng
                ):
                    benefits.append(
                        {
                            "person_id": person[0],
                            "kind": kind,
                            "start_date": begin,
                            "end_date": end,
                            "monthly_amount": amount,
                        }
                    )
            for year_back in (0, 1):
                if people and rng.random() < 0.03:
                    day = today - datetime.timedelta(days=rng.randint(0, 364) + 365 * year_back)
                    payment = {
                        "person_id": rng.choice(people)[0],
                        "granted_on": max(day, start),
                        "amount": rng.randrange(500, 3001, 100),
                        "reason": rng.choice(("突发疾病", "意外事故", "生活困难", "子女就学")),
                    }
                    # One payment per person, day and amount (the import's natural key).
                    paid = (payment["person_id"], payment["granted_on"], payment["amount"])
                    if paid not in payments:
                        payments.add(paid)
                        aid.append(payment)
            if self.rights:
                rights += _right_rows(seed, household, start, today, items)
        made = {BenefitRecord: benefits, TemporaryAssistance: aid, HouseholdRight: rights}
        for rows in made.values():
            for place, row in enumerate(rows, start=1):
                row["id"] = place
        return made


def demo_step(context):
    """``load_demo``'s step after the communities demo: social protection and rights."""
    started = time.monotonic()
    counts = build_protection_demo(
        seed=context.seed, workers=context.workers, stdout=context.stdout
    )
    if counts is None:
        yield "社会保障与权益保障演示数据已存在，未重复生成。"
        return
    context.created.add("services_protection")
    yield (
        f"社会保障与权益保障：待遇记录 {counts['benefit_records']:,} 条，"
        f"临时救助 {counts['temporary_assistance']:,} 笔，"
        f"权益落实记录 {counts['household_rights']:,} 条（清单事项 {counts['rights_items']} 项）。"
    )
    yield f"  用时 {time.monotonic() - started:.1f} 秒"


register(
    DemoStep(
        "services_protection",
        build=demo_step,
        remove=delete_protection_demo,
        order=40,
        after=("communities",),
    )
)
