"""A small world of two prefectures for scope, masking and admin tests."""

from types import SimpleNamespace

import pytest

from communities import enums
from communities.roles import Role
from communities.tests.factories import (
    BuildingFactory,
    GridUnitFactory,
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
)


@pytest.fixture
def world(region_tree, make_user, superuser):
    """Settlements A and B in 兴义市 (黔西南州), C in 钟山区 (六盘水市).

    Each has a building, a grid and one household of three with a mobile phone;
    ``orphan`` is a household without a settlement.  Users: ``worker`` (A only),
    ``worker_nopii`` (A, without the sensitive-data permission), ``county``
    (兴义市), ``prefecture`` (黔西南州), ``province`` (贵州), ``other_county``
    (钟山区) and ``admin`` (superuser).
    """
    rt = region_tree
    a = SettlementFactory(
        name="阳光新区", code="AZD522301001", county=rt.xingyi, township=rt.huangcao
    )
    b = SettlementFactory(name="栗坪安置点", code="AZD522301002", county=rt.xingyi)
    c = SettlementFactory(name="德坞新区", code="AZD520201001", county=rt.zhongshan)
    households, people = {}, {}
    for key, settlement, number, phone in (
        ("a", a, "522301000001", "13800000001"),
        ("b", b, "522301000002", "13900000002"),
        ("c", c, "520201000001", "13700000003"),
    ):
        building = BuildingFactory(settlement=settlement, name="1栋")
        grid = GridUnitFactory(settlement=settlement, name="第1网格")
        hh = HouseholdFactory(
            number=number,
            settlement=settlement,
            building=building,
            grid=grid,
            phone=phone,
            relocation_year=2018,
        )
        head = PersonFactory(
            household=hh,
            relationship=enums.Relationship.HEAD,
            name=f"户主{key.upper()}",
            sex="M",
            age=45,
            phone=f"1860000000{ord(key) - 96}",
        )
        PersonFactory(household=hh, relationship=enums.Relationship.SPOUSE, sex="F", age=43)
        PersonFactory(household=hh, relationship=enums.Relationship.SON, sex="M", age=12)
        households[key], people[key] = hh, head
    orphan = HouseholdFactory(
        number="000000000009", settlement=None, occupancy_state=enums.OccupancyState.NOT_MOVED_IN
    )
    PersonFactory(household=orphan, relationship=enums.Relationship.HEAD, name="无点户主")

    worker_perms = [
        f"communities.{action}_{model}"
        for model in ("household", "person", "building", "gridunit")
        for action in ("view", "add", "change")
    ] + ["communities.view_settlement", "communities.export_person", "communities.export_household"]
    return SimpleNamespace(
        a=a,
        b=b,
        c=c,
        households=households,
        heads=people,
        orphan=orphan,
        admin=superuser,
        worker=make_user(Role.COMMUNITY_WORKER, settlements=[a], username="worker"),
        worker_nopii=make_user(settlements=[a], perms=worker_perms, username="worker_nopii"),
        county=make_user(Role.COUNTY_OFFICIAL, regions=[rt.xingyi], username="county"),
        prefecture=make_user(
            Role.PREFECTURE_OFFICIAL, regions=[rt.qianxinan], username="prefecture"
        ),
        province=make_user(Role.PREFECTURE_OFFICIAL, regions=[rt.guizhou], username="province"),
        other_county=make_user(
            Role.COUNTY_OFFICIAL, regions=[rt.zhongshan], username="other_county"
        ),
        regions=rt,
    )
