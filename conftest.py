"""Fixtures shared by every app's tests: a small region tree and users by role."""

import itertools
import signal
from types import SimpleNamespace

import pytest

from communities import enums

TEST_PASSWORD = "Ceshi-mima-2024"

_usernames = itertools.count(1)

_HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


@pytest.fixture(autouse=True)
def _signal_handlers_restored():
    """Each test leaves this process's signal handlers as it found them.

    Tests that run the job worker in this process (``db_worker`` catches SIGTERM,
    SIGINT and SIGQUIT) left its handlers behind: Ctrl-C no longer stopped the
    suite, and every later test ran in a process that ignored SIGTERM.
    """
    saved = {signum: signal.getsignal(signum) for signum in _HANDLED_SIGNALS}
    yield
    for signum, handler in saved.items():
        if signal.getsignal(signum) is not handler:
            signal.signal(signum, handler)


@pytest.fixture(autouse=True)
def _no_language_leaks():
    """Each test starts in the default language (Chinese).

    ``LocaleMiddleware`` activates a request's language for the whole thread and the
    test client never resets it: after a page asked for in English, later tests ran
    in English.
    """
    from django.utils import translation

    yield
    translation.deactivate()


def second_session():
    """A second psycopg session on the test database, in a transaction of its own; None
    on SQLite."""
    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )


@pytest.fixture
def other_session(db):
    """A second PostgreSQL session on the test database (psycopg, its own transaction),
    for tests of what another user's open transaction does to ours; closed after."""
    other = second_session()
    if other is None:
        pytest.skip("a second session on the same database: PostgreSQL only")
    try:
        yield other
    finally:
        other.close()


@pytest.fixture
def committed_transaction_id(db):
    """The id (xid8, text) of a transaction another session ran and committed after it
    wrote, as one that was running at a refresh and committed since; None on SQLite,
    where transactions' ids are not known (``engine.running_transactions``)."""
    other = second_session()
    if other is None:
        return None
    try:
        xid = other.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
        other.commit()
    finally:
        other.close()
    return xid


# code, name, level, parent code: a hand-made slice of Guizhou (GB/T 2260 codes).
REGION_ROWS = (
    ("520000", "贵州省", enums.RegionLevel.PROVINCE, None),
    ("520200", "六盘水市", enums.RegionLevel.PREFECTURE, "520000"),
    ("522300", "黔西南布依族苗族自治州", enums.RegionLevel.PREFECTURE, "520000"),
    ("520201", "钟山区", enums.RegionLevel.COUNTY, "520200"),
    ("522301", "兴义市", enums.RegionLevel.COUNTY, "522300"),
    ("522302", "兴仁市", enums.RegionLevel.COUNTY, "522300"),
    ("520201011", "黄土坡街道", enums.RegionLevel.TOWNSHIP, "520201"),
    ("522301001", "黄草街道", enums.RegionLevel.TOWNSHIP, "522301"),
    ("522301002", "兴泰街道", enums.RegionLevel.TOWNSHIP, "522301"),
)


@pytest.fixture
def region_tree(db):
    """贵州省 → 六盘水市 / 黔西南州 → three counties → three townships.

    Attributes: ``guizhou``, ``liupanshui``, ``qianxinan``, ``zhongshan``,
    ``xingyi``, ``xingren``, ``huangtupo``, ``huangcao``, ``xingtai``; ``by_code``
    maps every code to its Region.
    """
    from communities.models import Region

    by_code = {}
    for code, name, level, parent in REGION_ROWS:
        by_code[code] = Region.objects.create(
            code=code, name=name, level=level, parent=by_code.get(parent)
        )
    return SimpleNamespace(
        guizhou=by_code["520000"],
        liupanshui=by_code["520200"],
        qianxinan=by_code["522300"],
        zhongshan=by_code["520201"],
        xingyi=by_code["522301"],
        xingren=by_code["522302"],
        huangtupo=by_code["520201011"],
        huangcao=by_code["522301001"],
        xingtai=by_code["522301002"],
        by_code=by_code,
    )


@pytest.fixture
def make_user(db):
    """Factory: ``make_user(role=None, regions=(), settlements=(), perms=(), **kw)``.

    Creates an active staff user (password ``TEST_PASSWORD``, also kept on the
    returned object as ``plain_password``), puts them in the role's group and
    gives them one AreaScope row per region (Region or code) and settlement
    (Settlement or pk). ``perms`` are extra ``"app_label.codename"`` permissions.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from communities.models import AreaScope
    from communities.roles import GROUP_NAMES, ensure_role_groups

    def make(role=None, regions=(), settlements=(), perms=(), **kw):
        password = kw.pop("password", TEST_PASSWORD)
        kw.setdefault("username", f"user{next(_usernames)}")
        kw.setdefault("is_staff", True)
        user = get_user_model().objects.create_user(password=password, **kw)
        if role is not None:
            ensure_role_groups()
            user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        for region in regions:
            AreaScope.objects.create(user=user, region_id=getattr(region, "pk", region))
        for settlement in settlements:
            AreaScope.objects.create(user=user, settlement_id=getattr(settlement, "pk", settlement))
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        user.plain_password = password
        return user

    return make


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser(
        username="admin", email="admin@example.com", password=TEST_PASSWORD
    )
    user.plain_password = TEST_PASSWORD
    return user


@pytest.fixture(autouse=True)
def _fresh_dashboard_bodies():
    """Each test starts without kept dashboard bodies (relocation/dashboards/pagecache.py)
    and without the page views' kept answer to "which settlements changed"
    (``live.page_changes``): their keys hold times (the periods' computation, the last
    refresh), which a test may set to the same instant as another test did."""
    from relocation.dashboards import pagecache
    from relocation.dashboards.live import page_changes

    pagecache.clear()
    page_changes.kept = None
    yield
