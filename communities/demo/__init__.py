"""A realistic, deterministic demo dataset on real Guizhou regions.

``build_demo()`` (and the ``communities`` step of ``manage.py load_demo``)
creates settlements in the counties of 六盘水市 (5202) and 黔西南布依族苗族自治州
(5223), with buildings, grid units and their workers, 十联户 groups, relocated
households and their members (``generate``), plus one demo login per role.
The same seed always gives the same data: nothing depends on database ids or
the clock except that birth dates are placed relative to 1 January of the
current year (so that ages stay right).

Every created settlement, building, grid, household and person gets one '+'
history row whose change reason is ``DEMO_REASON``; that reason is also how
demo data is recognised later (``--reset`` deletes exactly those settlements
and everything in them, history included).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models, transaction

from relocation.demo import DemoStep, register, remove_dependents
from relocation.rows import keys_referring_checked_once, restore_plain_indexes

from ..models import (
    AreaScope,
    Building,
    GridUnit,
    GridWorker,
    Household,
    Person,
    Region,
    Settlement,
    TenHouseholdGroup,
)
from ..regions import load_regions
from ..roles import GROUP_NAMES, Role, ensure_role_groups
from .generate import (  # noqa: F401  (DEFAULT_SEED and the writers are used by other apps' demos)
    DEFAULT_HOUSEHOLDS,
    DEFAULT_SEED,
    DEMO_PROVINCE,
    DEMO_REASON,
    HOUSEHOLDS_PER_SETTLEMENT,
    MIN_SETTLEMENTS,
    NATIONAL_HOUSEHOLDS,
    NATIONAL_PROVINCES,
    NATIONAL_SETTLEMENTS,
    PRIMARY_COUNTY,
    _Builder,
    _startswith_any,
    copy_with_history,
    loading,
    write_with_history_orm,
)


@dataclass
class DemoLogin:
    role: str
    username: str
    password: str
    full_name: str
    scope: str


# username, role, last name, first name, password; superuser for "admin".
DEMO_USERS = (
    ("admin", Role.ADMINISTRATOR, "王", "海峰", "Yanshi-2024-admin"),
    ("manager", Role.ADMINISTRATOR, "吴", "晓燕", "Yanshi-2024-manager"),
    ("worker", Role.COMMUNITY_WORKER, "杨", "秀梅", "Yanshi-2024-worker"),
    ("county", Role.COUNTY_OFFICIAL, "罗", "文军", "Yanshi-2024-county"),
    ("prefecture", Role.PREFECTURE_OFFICIAL, "陈", "明华", "Yanshi-2024-prefecture"),
    ("province", Role.PREFECTURE_OFFICIAL, "张", "立新", "Yanshi-2024-province"),
)


@dataclass
class DemoResult:
    created: bool
    counts: dict
    elapsed: float
    logins: list
    timings: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- public API


def demo_settlements():
    """Settlements created by the demo (recognised by their first history row)."""
    history = Settlement.history.model
    ids = history.objects.filter(history_type="+", history_change_reason=DEMO_REASON).values("id")
    return Settlement.objects.filter(pk__in=ids)


#: The keys of ``demo_counts``, which the builder counts too as it writes.
DEMO_COUNT_KEYS = (
    "settlements",
    "buildings",
    "grids",
    "grid_workers",
    "ten_groups",
    "households",
    "people",
)


def demo_counts():
    settlements = demo_settlements()
    ids = list(settlements.values_list("pk", flat=True))
    return {
        "settlements": len(ids),
        "buildings": Building.objects.filter(settlement_id__in=ids).count(),
        "grids": GridUnit.objects.filter(settlement_id__in=ids).count(),
        "grid_workers": GridWorker.objects.filter(grid__settlement_id__in=ids).count(),
        "ten_groups": TenHouseholdGroup.objects.filter(grid__settlement_id__in=ids).count(),
        "households": Household.objects.filter(settlement_id__in=ids).count(),
        "people": Person.objects.filter(household__settlement_id__in=ids).count(),
    }


def delete_demo_data():
    """Delete the demo settlements, everything in them and their history rows.

    Rows of other apps that point at demo records are deleted through the ORM
    first (or set to NULL where their foreign key says so); the demo records
    themselves are deleted with plain DELETE statements, which is what makes
    removing two million people take seconds rather than hours.
    """
    # Demo steps of other apps hang off these people: removed first, in bulk
    # (the generic loop below would delete their millions of rows one by one).
    remove_dependents("communities")
    return _delete_own_demo_data()


def _delete_own_demo_data():
    """The communities step's own removal (``load_demo --reset`` removes later steps first)."""
    ids = list(demo_settlements().values_list("pk", flat=True))
    if not ids:
        return 0
    through = GridUnit.buildings.through
    scoped = {
        Person: Person._base_manager.filter(household__settlement_id__in=ids),
        Household: Household._base_manager.filter(settlement_id__in=ids),
        TenHouseholdGroup: TenHouseholdGroup._base_manager.filter(grid__settlement_id__in=ids),
        GridWorker: GridWorker._base_manager.filter(grid__settlement_id__in=ids),
        through: through._base_manager.filter(gridunit__settlement_id__in=ids),
        GridUnit: GridUnit._base_manager.filter(settlement_id__in=ids),
        Building: Building._base_manager.filter(settlement_id__in=ids),
        Settlement: Settlement._base_manager.filter(pk__in=ids),
    }
    delete_scoped(scoped, keys_checked_once=True)
    return len(ids)


def delete_scoped(scoped, keys_checked_once=False):
    """Delete the rows of ``scoped`` ({model: queryset}, deleted in that order) in one
    transaction: first the rows of other models that refer to them (through the ORM, or
    set to NULL where their key says so), then the history rows of the settlements,
    buildings, grids, households and people among them, then the rows themselves with
    plain DELETE statements, which is what makes removing millions of people take
    seconds rather than hours.  ``keys_checked_once``: the foreign keys that refer to
    these tables are checked once at the end (``keys_referring_checked_once``: for a
    large share of a table; not for a few rows of a large one)."""
    with transaction.atomic():
        # Other rows pointing at these records (other apps, AreaScope …).
        for model, qs in scoped.items():
            for rel in model._meta.get_fields(include_hidden=True):
                if not (rel.auto_created and not rel.concrete):
                    continue
                if not (rel.one_to_many or rel.one_to_one):
                    continue
                other = rel.related_model
                if other in scoped or rel.on_delete is models.DO_NOTHING:
                    continue
                linked = other._base_manager.filter(**{f"{rel.field.name}__in": qs.values("pk")})
                if rel.on_delete is models.SET_NULL:
                    linked.update(**{rel.field.name: None})
                else:
                    linked.delete()
        # Their history rows.
        if GridUnit in scoped:
            grid_history = GridUnit.history.model._base_manager.filter(
                id__in=scoped[GridUnit].values("pk")
            )
            m2m = apps.get_model("communities", f"{GridUnit.history.model.__name__}_buildings")
            m2m._base_manager.filter(history_id__in=grid_history.values("history_id"))._raw_delete(
                m2m.objects.db
            )
        for model in (Person, Household, GridUnit, Building, Settlement):
            if model in scoped:
                hist = model.history.model
                hist._base_manager.filter(id__in=scoped[model].values("pk"))._raw_delete(
                    hist.objects.db
                )
        # The records themselves.
        tables = [model._meta.db_table for model in scoped] if keys_checked_once else []
        with keys_referring_checked_once(tables):
            for qs in scoped.values():
                qs._raw_delete(qs.db)


def hashing_demo_passwords():
    """Start hashing the demo logins' passwords in two other threads; returns a
    function that waits for them and gives ``{username: hash}`` (``ensure_demo_users``).

    Each hash is a deliberately slow PBKDF2 (about half a second; six logins:
    3 s of the communities step at every size), and ``hashlib`` lets other
    threads run while it computes: started before the load's indexes are built,
    the hashes are made while this process would only wait for PostgreSQL.
    """
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-passwords")
    futures = {name: pool.submit(make_password, password) for name, *_, password in DEMO_USERS}
    pool.shutdown(wait=False)
    return lambda: {name: future.result() for name, future in futures.items()}


def ensure_demo_users(hashes=None):
    """Create or refresh the demo logins (passwords reset to the demo ones).

    ``hashes``: ``hashing_demo_passwords()``'s function, when they were started earlier."""
    hashed = (hashes or hashing_demo_passwords())()
    groups = ensure_role_groups()
    user_model = get_user_model()
    settlements = list(
        demo_settlements().filter(county_id=PRIMARY_COUNTY).order_by("code")[:2]
    ) or list(demo_settlements().order_by("code")[:2])
    county = Region.objects.filter(code=PRIMARY_COUNTY).first()
    prefecture = Region.objects.filter(code="522300").first()
    province = Region.objects.filter(code="520000").first()
    scopes = {
        "admin": ([], []),
        "manager": ([county] if county else [], []),
        "worker": ([], settlements),
        "county": ([county] if county else [], []),
        "prefecture": ([prefecture] if prefecture else [], []),
        "province": ([province] if province else [], []),
    }
    logins = []
    for username, role, last, first, password in DEMO_USERS:
        user, _created = user_model.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.com"
        user.is_staff = True
        user.is_active = True
        user.is_superuser = username == "admin"
        user.password = hashed[username]
        user.save()
        user.groups.set([groups[role]])
        regions, places = scopes[username]
        wanted = {("r", r.pk) for r in regions} | {("s", s.pk) for s in places}
        have = {
            (("r", a.region_id) if a.region_id else ("s", a.settlement_id)): a
            for a in AreaScope.objects.filter(user=user)
        }
        for key, scope in have.items():
            if key not in wanted:
                scope.delete()
        for kind, pk in sorted(wanted - set(have)):  # ids in one order, whatever the hash seed
            AreaScope.objects.create(
                user=user,
                region_id=pk if kind == "r" else None,
                settlement_id=pk if kind == "s" else None,
            )
        if username == "admin":
            scope_text = "全部（超级用户）"
        else:
            scope_text = "、".join([str(r.name) for r in regions] + [s.name for s in places])
        if username == "worker" and settlements:
            # The worker is the 网格员 of the first grid of their first settlement.
            grid = GridUnit.objects.filter(settlement=settlements[0]).order_by("pk").first()
            worker = GridWorker.objects.filter(grid=grid).order_by("pk").first()
            if worker is not None and worker.user_id != user.pk:
                worker.user = user
                worker.name = last + first
                worker.save(update_fields=["user", "name"])
        logins.append(
            DemoLogin(str(GROUP_NAMES[role]), username, password, last + first, scope_text or "—")
        )
    return logins


def build_demo(
    seed=DEFAULT_SEED,
    households=None,
    settlements=None,
    reset=False,
    stdout=None,
    national=False,
    workers=1,
):
    """Build the demo dataset; returns a ``DemoResult``.

    Idempotent: when demo data exists and ``reset`` is false nothing is
    generated again (the demo users are still refreshed).  ``national``: the
    country's scale over 22 provinces (2,400,000 households in 35,000
    settlements unless given), one province per transaction; a run that was
    interrupted is resumed by running it again.  ``workers`` processes make the
    settlements (the same data for any number).
    """
    started = time.monotonic()
    timings = {}
    if households is None:
        households = NATIONAL_HOUSEHOLDS if national else DEFAULT_HOUSEHOLDS
    if households < 1:
        raise ValueError("户数必须大于0。")
    if settlements is None and national:
        settlements = min(NATIONAL_SETTLEMENTS, max(1, households // 60))
    n_settlements = settlements or max(
        MIN_SETTLEMENTS, round(households / HOUSEHOLDS_PER_SETTLEMENT)
    )
    n_settlements = min(n_settlements, households)
    provinces = list(NATIONAL_PROVINCES) if national else [DEMO_PROVINCE]

    t = time.monotonic()
    load_regions(provinces=provinces)
    ensure_role_groups()
    timings["regions"] = time.monotonic() - t
    if not national:
        # The indexes a national build left aside when it was interrupted (that
        # build, run again, builds them at its end).
        restore_plain_indexes()

    if reset:
        t = time.monotonic()
        delete_demo_data()
        timings["reset"] = time.monotonic() - t

    created = False
    builder = hashes = None
    if national:
        # Each province commits on its own; provinces already written are skipped.
        t = time.monotonic()
        builder = _Builder(
            seed, households, n_settlements, stdout=stdout, national=True, workers=workers
        )
        builder.run()
        timings["generate"] = time.monotonic() - t
        timings["commit"] = 0.0
        created = builder.counts["settlements"] > 0
    elif not demo_settlements().exists():
        t = time.monotonic()
        # Both prefectures' rows before the indexes are built (each part alone
        # would build them after the first).
        with transaction.atomic(), loading(Household, Person):
            builder = _Builder(seed, households, n_settlements, stdout=stdout, workers=workers)
            builder.run()
            hashes = hashing_demo_passwords()  # while the indexes are built
            timings["generate"] = time.monotonic() - t
            t = time.monotonic()
        # Deferred foreign keys are checked at commit.
        timings["commit"] = time.monotonic() - t
        created = True
    if builder is not None:
        timings["write"] = builder.timings["write"]
    t = time.monotonic()
    logins = ensure_demo_users(hashes)
    timings["users"] = time.monotonic() - t
    if created and not national:
        # What was just written (counting the tables again: 1.5 s at 500,000 households);
        # a national build may have kept provinces of an earlier run.
        counts = {key: builder.counts[key] for key in DEMO_COUNT_KEYS}
    else:
        counts = demo_counts()
    counts["regions"] = Region.objects.filter(_startswith_any("code", provinces)).count()
    if builder is not None and builder.counts["provinces_kept"]:
        counts["provinces_kept"] = builder.counts["provinces_kept"]
    return DemoResult(
        created=created,
        counts=counts,
        elapsed=time.monotonic() - started,
        logins=logins,
        timings=timings,
    )


# --------------------------------------------------------------------------- load_demo step

COUNT_LABELS = (
    ("regions", "行政区划"),
    ("settlements", "安置点"),
    ("buildings", "楼栋"),
    ("grids", "网格"),
    ("grid_workers", "网格员"),
    ("ten_groups", "十联户"),
    ("households", "搬迁户"),
    ("people", "家庭成员"),
)


def demo_step(context):
    """``load_demo``'s first step: regions, settlements, households, people and the logins."""
    result = build_demo(
        seed=context.seed,
        households=context.households,
        settlements=context.settlements,
        stdout=context.stdout,
        national=context.national,
        workers=context.workers,
    )
    if context.reset_seconds is not None:
        result.timings["reset"] = context.reset_seconds
    if result.created:
        context.created.add("communities")
        yield context.style.SUCCESS("演示数据已生成。")
    else:
        yield context.style.WARNING(
            "已存在演示数据，未重复生成（如需重建请加 --reset）；演示账号已更新。"
        )
    if result.counts.get("provinces_kept"):
        yield f"  上次运行已写入的 {result.counts['provinces_kept']} 个省份保留未动。"
    width = max(_width(label) for _key, label in COUNT_LABELS)
    for key, label in COUNT_LABELS:
        pad = " " * (width - _width(label))
        yield f"  {label}{pad}  {result.counts.get(key, 0):>10,}"
    t = result.timings
    parts = [f"区划与角色 {t.get('regions', 0):.1f} 秒"]
    if "reset" in t:
        parts.append(f"清除旧演示数据 {t['reset']:.1f} 秒")
    if "generate" in t:
        parts.append(
            f"生成并写入 {t['generate']:.1f} 秒（其中批量写入 {t['write']:.1f} 秒），"
            f"提交 {t['commit']:.1f} 秒"
        )
    parts.append(f"演示账号 {t.get('users', 0):.1f} 秒")
    yield f"  用时 {result.elapsed:.1f} 秒：{'，'.join(parts)}"
    # The logins close the whole report, after every other step's lines.
    context.closing.append("")
    context.closing.append("演示账号（仅供演示环境使用，请勿用于生产环境）：")
    rows = [("角色", "用户名", "密码", "姓名", "管辖范围")] + [
        (login.role, login.username, login.password, login.full_name, login.scope)
        for login in result.logins
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        context.closing.append(("  " + "  ".join(cells)).rstrip())


def _width(text):
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


register(DemoStep("communities", build=demo_step, remove=_delete_own_demo_data, order=10))
