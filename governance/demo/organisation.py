"""Governance and monitoring: organisation (demo).

For every demo settlement of ``communities.demo``: a party tree (a 街道党工委,
a 党总支 and one 党支部 per ~100 households) with members at seed 000's mix
(199 members, 24 developed since the relocation: 12 %), about 5 % of the
residents; a 居民小组 per four buildings; cadres at seed 001's proportion
(174 cadres for 390-odd households: one per 2.3 households) and, as in seed
003, every household paired 一帮一 except one in twenty (so that the work list
「未结对」 has entries); visits about every two months over the last year, one
household in ten not visited for more than 90 days, a fifth of the visits with
needs raised, some still open; and petitions at seed 004's rate (6,000+ a year
for a prefecture of about 20,000 households: 0.3 per household a year) over
the last two years, most closed and followed up, the recent ones open and a
few overdue.

Deterministic: one ``random.Random`` per settlement seeded from the seed and
the settlement code, households in number order, dates relative to today.
The rows are made in ``load_demo --workers`` processes and written in batches,
each with its history row, which carries ``DEMO_REASON`` (``COPY`` on
PostgreSQL, ``bulk_create`` elsewhere: ``PendingRows``);
``delete_organisation_demo`` removes it all again.
"""

import datetime
import random
import time

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from communities.demo import DEMO_REASON, demo_settlements
from communities.demo.generate import (
    PendingRows,
    Progress,
    delete_with_history,
    in_processes,
    loading,
    record_links_in_history,
)
from communities.models import Building, GridWorker, Household, Person
from relocation.demo import DemoStep, register

from ..models.organisation import (
    Cadre,
    FollowUpState,
    MemberOrigin,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionState,
    PetitionTransition,
    ResidentGroup,
    Satisfaction,
    StairLeader,
    StairLeaderRole,
    Visit,
    VisitWay,
)

CATEGORIES = (
    ("物业管理", 7),
    ("就业求助", 15),
    ("邻里纠纷", 10),
    ("房屋质量", 30),
    ("社会保障", 15),
    ("户籍证照", 20),
)
UNITS = ("县住建局", "县人社局", "县民政局", "县教育局", "县卫健局", "县财政局", "街道办事处")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "国华明丽芳军勇艳杰娟强敏静涛磊洋"
NEEDS = ("想找工作", "孩子上学", "医保报销", "房屋漏水", "低保申请", "")
PETITIONS_PER_HOUSEHOLD_YEAR = 0.3
# What the draws choose from, made once: ``PetitionChannel.values`` builds a new list
# on every read (60,000 petitions at 100,000 households).
WAYS = (VisitWay.HOME, VisitWay.HOME, VisitWay.PHONE, VisitWay.WECHAT)
OPEN_FOLLOW_UP = (FollowUpState.PENDING, FollowUpState.IN_PROGRESS)
CHANNELS = PetitionChannel.values
SATISFACTIONS = Satisfaction.values
# The longest time back a row's date is drawn from (a party member's joining).
DAYS_BACK = 12_000
# Petitions are received within the last two years.
PETITION_DAYS = 730


def _name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def organisation_demo_exists():
    return PartyOrganisation.objects.filter(settlement__in=demo_settlements()).exists()


def _categories():
    found = {
        c.name: c for c in PetitionCategory.objects.filter(name__in=[n for n, _d in CATEGORIES])
    }
    missing = [PetitionCategory(name=n, due_days=d) for n, d in CATEGORIES if n not in found]
    if missing:
        PetitionCategory.objects.bulk_create(missing)
        PetitionCategory.history.bulk_history_create(missing, default_change_reason=DEMO_REASON)
        found.update({c.name: c for c in missing})
    return [found[n] for n, _d in CATEGORIES]


#: What ``_build_settlement`` writes with ``COPY`` and never reads back while it runs.
LOADED = (
    PartyOrganisation,
    PartyMember,
    StairLeader,
    Cadre,
    Pairing,
    Visit,
    Petition,
    PetitionTransition,
)


#: Rows of a settlement that refer to others of the same settlement (``PendingRows``).
REFERENCES = {
    PartyOrganisation: {"parent_id": PartyOrganisation},
    PartyMember: {"organisation_id": PartyOrganisation},
    Pairing: {"cadre_id": Cadre},
    Visit: {"cadre_id": Cadre},
    PetitionTransition: {"petition_id": Petition},
}


def build_organisation_demo(seed, workers=1, stdout=None):
    """Create the demo's governance data; returns counts, or None when it already exists.

    ``workers`` processes make the settlements' rows (``in_processes``: the same
    rows for any number); this process reads what they are made from and writes them.
    ``stdout``: where its progress goes (None: silent).
    """
    if organisation_demo_exists():
        return None
    today = timezone.localdate()
    now = timezone.now()
    counts = dict.fromkeys(
        ("orgs", "members", "stair_leaders", "cadres", "pairings", "visits", "petitions"), 0
    )
    with transaction.atomic(), loading(*LOADED):
        categories = _categories()
        settlements = list(demo_settlements().order_by("code"))
        pending = PendingRows(now, LOADED, references=REFERENCES)
        maker = _Maker(seed, settlements, categories, today)
        buildings = _buildings(settlements)
        first_workers = _first_grid_workers(settlements)
        tasks = filter(
            None,
            (
                _read(index, s, today, buildings.get(s.pk, []), first_workers.get(s.pk))
                for index, s in enumerate(settlements)
            ),
        )
        progress = Progress(stdout, "社区治理", len(settlements))
        groups = []  # written at the end, through the ORM (``_write_groups``)
        for made in in_processes(pending.packing(maker.make), tasks, workers):
            made_index = made.pop("index")
            groups.append((settlements[made_index], made.pop("groups"), made.pop("buildings")))
            pending.take(made)
            for key, model in COUNTED.items():
                counts[key] += len(made.get(model, ()))
            progress.tick(made_index + 1)
        pending.flush()
        _write_groups(groups)
    return counts


#: What ``build_organisation_demo`` counts: {key: model}.
COUNTED = {
    "orgs": PartyOrganisation,
    "members": PartyMember,
    "stair_leaders": StairLeader,
    "cadres": Cadre,
    "pairings": Pairing,
    "visits": Visit,
    "petitions": Petition,
}


def _buildings(settlements):
    """{settlement id: [(id, units)] of its buildings by name}, in one query."""
    found = {}
    for settlement, pk, units in (
        Building.objects.filter(settlement__in=settlements)
        .order_by("settlement_id", "name")
        .values_list("settlement_id", "pk", "units")
    ):
        found.setdefault(settlement, []).append((pk, units))
    return found


def _first_grid_workers(settlements):
    """{settlement id: id of its first grid worker}, in one query: the one the visits
    name (settlements without grid workers are left out)."""
    return dict(
        GridWorker.objects.filter(grid__settlement__in=settlements)
        .values_list("grid__settlement")
        .annotate(first=Min("pk"))
        .order_by()
    )


def _read(index, settlement, today, buildings, worker):
    """What a settlement's rows are made from (read in the step's transaction), or None
    for a settlement without households; ``buildings`` and ``worker``: its own, of
    ``_buildings`` and ``_first_grid_workers``."""
    households = list(
        Household.objects.filter(settlement=settlement)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    if not households:
        return None
    adults = list(
        Person.objects.filter(
            household__settlement=settlement, birth_date__lte=today.replace(year=today.year - 25)
        )
        .order_by("household__number", "pk")
        .values_list("pk", "name")
    )
    return index, households, adults, buildings, worker


def _write_groups(made):
    """Create the 居民小组 of ``made``, ``[(settlement, [(name, leader)], its building
    ids by name)]``, each group with the next four buildings of its settlement, in a
    statement per table.  Their "+" history rows record the buildings too, as saving a
    group with them would (``record_links_in_history``): one ``add()`` per group took
    five statements and a "~" history row of its own.
    """
    groups, targets = [], []
    for settlement, names, buildings in made:
        for i, (name, leader) in enumerate(names):
            groups.append(ResidentGroup(settlement=settlement, name=name, leader_name=leader))
            targets.append(buildings[4 * i : 4 * i + 4])
    ResidentGroup.objects.bulk_create(groups, history_reason=DEMO_REASON)
    link = ResidentGroup.buildings.through
    links = link.objects.bulk_create(
        [
            link(residentgroup=group, building_id=pk)
            for group, buildings in zip(groups, targets, strict=True)
            for pk in buildings
        ]
    )
    record_links_in_history(ResidentGroup, "buildings", links)


class _Maker:
    """Makes a settlement's rows (``in_processes``' function), without the database.

    Made once, before the processes fork: the dates ``n`` days before today
    (``days_back[n]``), those of the last ``PETITION_DAYS`` days or more as the
    petitions' numbers write them (``compact_days_back[n]``), and the categories
    as ``(id, due days, summary, due days as a timedelta)``, for the millions of
    dates and petitions made from them.
    """

    def __init__(self, seed, settlements, categories, today):
        self.seed = seed
        self.settlements = settlements
        self.today = today
        self.categories = [
            (c.pk, c.due_days, f"{c.name}诉求", datetime.timedelta(days=c.due_days))
            for c in categories
        ]
        # The oldest petition: the first one of a settlement, past its limit.
        petition_days = max([PETITION_DAYS, *(c.due_days + 21 for c in categories)])
        self.days_back = [
            today - datetime.timedelta(days=n) for n in range(max(DAYS_BACK + 1, petition_days))
        ]
        self.compact_days_back = [f"{day:%Y%m%d}" for day in self.days_back[:petition_days]]

    def make(self, task):
        index, households, adults, buildings, worker = task
        settlement = self.settlements[index]
        rng = random.Random(f"{self.seed}-governance-{settlement.code}")
        made = _build_settlement(rng, settlement, households, adults, buildings, worker, self)
        made.update(index=index, buildings=[pk for pk, _units in buildings])
        return made


def _build_settlement(rng, settlement, households, adults, buildings, worker, maker):
    """One settlement's rows, ``{model: [rows]}`` with the places of ``PendingRows``
    as ids, and ``"groups"``: the names and leaders of its 居民小组.

    ``households``: its household ids in number order; ``adults``: (id, name) of
    its people over 25; ``buildings``: (id, units) by name; ``worker``: its first
    grid worker's id (None: it has none); ``maker``: the ``_Maker``, with the
    categories and dates.
    """
    made = {}
    settlement_id = settlement.pk
    days_back = maker.days_back
    today = maker.today

    def write(model, rows):
        kept = made.setdefault(model, [])
        for row in rows:
            kept.append(row)
            row["id"] = len(kept)
        return len(rows)

    # --- party tree and members
    wc = {
        "name": f"{settlement.name}街道党工委",
        "kind": PartyOrgKind.WORKING_COMMITTEE,
        "settlement_id": settlement_id,
    }
    write(PartyOrganisation, [wc])
    gb = {
        "name": f"{settlement.name}社区党总支",
        "kind": PartyOrgKind.GENERAL_BRANCH,
        "settlement_id": settlement_id,
        "parent_id": wc["id"],
    }
    write(PartyOrganisation, [gb])
    branches = [
        {
            "name": f"{settlement.name}第{i + 1}党支部",
            "kind": PartyOrgKind.BRANCH,
            "settlement_id": settlement_id,
            "parent_id": gb["id"],
        }
        for i in range(max(1, round(len(households) / 100)))
    ]
    write(PartyOrganisation, branches)
    branches = [branch["id"] for branch in branches]
    chosen = [p for p in adults if rng.random() < 0.07]
    members = []
    for pk, name in chosen:
        developed = rng.random() < 0.12
        joined = days_back[rng.randint(60, 2000) if developed else rng.randint(3000, 12000)]
        members.append(
            {
                "organisation_id": rng.choice(branches),
                "person_id": pk,
                "name": name,
                "joined_on": joined,
                "origin": MemberOrigin.DEVELOPED if developed else MemberOrigin.MOVED_IN,
            }
        )
    write(PartyMember, members)
    # --- 居民小组: one per four buildings (written by the caller, through the ORM)
    made["groups"] = [
        (f"第{i + 1}居民小组", _name(rng)) for i in range(max(1, (len(buildings) + 3) // 4))
    ]
    # --- 总楼长 per building, 分楼长 per unit
    leaders = []
    for building, units in buildings:
        leaders.append({"building_id": building, "role": StairLeaderRole.CHIEF, "name": _name(rng)})
        leaders += [
            {
                "building_id": building,
                "role": StairLeaderRole.UNIT,
                "unit": u,
                "name": _name(rng),
            }
            for u in range(1, units + 1)
        ]
    write(StairLeader, leaders)
    # --- cadres and pairings (every household but one in twenty)
    cadres = [
        {
            "name": _name(rng) + str(i + 1),
            "unit": rng.choice(UNITS),
            "position": rng.choice(("科员", "副局长", "主任科员", "")),
            "settlement_id": settlement_id,
        }
        for i in range(max(1, round(len(households) / 2.3)))
    ]
    write(Cadre, cadres)
    cadres = [cadre["id"] for cadre in cadres]
    pairings, paired = [], []
    for i, household in enumerate(households):
        if i % 20 == 19:
            continue
        cadre = cadres[i % len(cadres)]
        pairings.append(
            {
                "cadre_id": cadre,
                "household_id": household,
                "start_date": days_back[rng.randint(120, 900)],
            }
        )
        paired.append((household, cadre))
    write(Pairing, pairings)
    # --- visits: about every 60 days over the last year; one in ten not for 90+ days
    visits = []
    for household, cadre in paired:
        stale = rng.random() < 0.1
        last = rng.randint(95, 200) if stale else rng.randint(0, 60)
        while last < 365:
            needs = rng.choice(NEEDS) if rng.random() < 0.2 else ""
            if not needs:
                state, follow_up = FollowUpState.NONE, ""
            elif last < 45:
                state, follow_up = rng.choice(OPEN_FOLLOW_UP), ""
            else:
                state, follow_up = FollowUpState.DONE, "已转相关部门办理"
            visitor = worker if worker is not None and rng.random() < 0.4 else None
            visits.append(
                {
                    "household_id": household,
                    "cadre_id": None if visitor else cadre,
                    "grid_worker_id": visitor,
                    "visited_on": days_back[last],
                    "way": rng.choice(WAYS),
                    "findings": "家中情况正常" if not needs else "了解到新的困难",
                    "needs": needs,
                    "follow_up": follow_up,
                    "follow_up_state": state,
                }
            )
            last += rng.randint(40, 80)
    write(Visit, visits)
    # --- petitions over the last two years
    n = max(3, round(len(households) * PETITIONS_PER_HOUSEHOLD_YEAR * 2))
    compact_days_back = maker.compact_days_back
    petitions, paths = [], []
    for i in range(n):
        category, limit, summary, due = rng.choice(maker.categories)
        # The first one of each settlement is recent and stuck past its limit.
        age = limit + rng.randint(1, 20) if i == 0 else rng.randint(0, 729)
        received = days_back[age]
        household = rng.choice(households)
        group = rng.random() < 0.1
        petition = {
            "settlement_id": settlement_id,
            "number": f"{compact_days_back[age]}-{i + 1:04d}",
            "household_id": None if group else household,
            "group": f"{rng.randint(2, 15)}户居民联名" if group else "",
            "category_id": category,
            "channel": rng.choice(CHANNELS),
            "received_on": received,
            "due_on": received + due,
            "summary": summary,
            "handler": rng.choice(UNITS),
        }
        path = [(PetitionState.ACCEPTED, received)]
        if rng.random() < 0.04:
            petition["state"] = PetitionState.REJECTED
            petition["reject_reason"] = "不属于受理范围，已告知其他渠道"
            petition["closed_on"] = received
            path.append((PetitionState.REJECTED, received))
        else:
            # Handling time: mostly within the limit, one in eight late.
            days = (
                rng.randint(1, limit) if rng.random() < 0.875 else rng.randint(limit + 1, 2 * limit)
            )
            if age > 0:
                petition["state"] = PetitionState.IN_PROGRESS
                path.append((PetitionState.IN_PROGRESS, days_back[age - 1]))
            # A few recent ones are stuck past their limit: the overdue work list.
            stuck = i == 0 or (limit < age <= 90 and rng.random() < 0.3)
            if days < age and not stuck:
                closed = days_back[age - days]
                petition["state"] = PetitionState.RESOLVED
                petition["resolution"] = "已协调解决"
                petition["closed_on"] = closed
                petition["handling_days"] = days
                path.append((PetitionState.RESOLVED, closed))
                follow = closed + datetime.timedelta(days=rng.randint(3, 10))
                if follow <= today:
                    petition["state"] = PetitionState.FOLLOWED_UP
                    petition["followed_up_on"] = follow
                    petition["satisfaction"] = rng.choices(SATISFACTIONS, weights=(80, 15, 5))[0]
                    path.append((PetitionState.FOLLOWED_UP, follow))
        petitions.append(petition)
        paths.append(path)
    write(Petition, petitions)
    transitions = []
    for petition, path in zip(petitions, paths, strict=True):
        previous = ""
        for state, on in path:
            transitions.append(
                {
                    "petition_id": petition["id"],
                    "from_state": previous,
                    "to_state": state,
                    "on_date": on,
                }
            )
            previous = state
    write(PetitionTransition, transitions)
    return made


def delete_organisation_demo():
    """Remove what ``build_organisation_demo`` created, with its history rows."""
    settlements = list(demo_settlements().values_list("pk", flat=True))
    deleted = 0
    with transaction.atomic():
        on_households = {"household__settlement_id__in": settlements}
        petitions = Petition._base_manager.filter(settlement_id__in=settlements)
        delete_with_history(
            PetitionTransition, PetitionTransition._base_manager.filter(petition__in=petitions)
        )
        deleted += delete_with_history(Petition, petitions)
        deleted += delete_with_history(Visit, Visit._base_manager.filter(**on_households))
        deleted += delete_with_history(Pairing, Pairing._base_manager.filter(**on_households))
        deleted += delete_with_history(
            Cadre, Cadre._base_manager.filter(settlement_id__in=settlements)
        )
        deleted += delete_with_history(
            PartyMember,
            PartyMember._base_manager.filter(organisation__settlement_id__in=settlements),
        )
        # The tree at once: the foreign keys are checked at commit, when none is left.
        deleted += delete_with_history(
            PartyOrganisation, PartyOrganisation._base_manager.filter(settlement_id__in=settlements)
        )
        deleted += delete_with_history(
            ResidentGroup, ResidentGroup._base_manager.filter(settlement_id__in=settlements)
        )
        deleted += delete_with_history(
            StairLeader, StairLeader._base_manager.filter(building__settlement_id__in=settlements)
        )
        demo_categories = PetitionCategory.history.filter(
            history_type="+", history_change_reason=DEMO_REASON
        ).values("id")
        unused = PetitionCategory.objects.filter(pk__in=demo_categories).exclude(
            pk__in=Petition.objects.values("category_id")
        )
        deleted += delete_with_history(PetitionCategory, unused)
    return deleted


LABELS = (
    ("orgs", "党组织"),
    ("members", "党员"),
    ("stair_leaders", "总楼长和分楼长"),
    ("cadres", "帮扶干部"),
    ("pairings", "结对"),
    ("visits", "走访"),
    ("petitions", "利益诉求"),
)


def demo_step(context):
    started = time.monotonic()
    counts = build_organisation_demo(context.seed, workers=context.workers, stdout=context.stdout)
    if counts is None:
        yield "已存在社区治理（组织、结对走访、利益诉求）演示数据，未重复生成。"
        return
    context.created.add("governance_org")
    yield "社区治理（组织、结对走访、利益诉求）演示数据已生成。"
    yield "  " + "，".join(f"{label} {counts[key]:,}" for key, label in LABELS)
    yield f"  用时 {time.monotonic() - started:.1f} 秒"


register(
    DemoStep(
        "governance_org",
        build=demo_step,
        remove=delete_organisation_demo,
        order=60,
        after=("communities",),
    )
)
