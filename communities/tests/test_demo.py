"""The demo dataset: realistic, valid, deterministic and idempotent."""

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from communities import enums
from communities.demo import (
    DEMO_COUNT_KEYS,
    DEMO_REASON,
    DEMO_USERS,
    build_demo,
    demo_counts,
    demo_settlements,
)
from communities.history_pii import tokenize
from communities.models import (
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
from communities.roles import GROUP_NAMES, Role
from communities.validators import birth_date_from_id, sex_from_id, validate_resident_id

R = enums.Relationship
HOUSEHOLDS = 60


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Six demo users per build: keep password hashing out of the test time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db):
    return build_demo(seed=7, households=HOUSEHOLDS)


def _age(born, on):
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _snapshot():
    return sorted(  # in Python: ID numbers are stored encrypted (communities.crypto)
        Person.objects.values_list(
            "id_number", "name", "relationship", "ethnicity", "household__number"
        )
    )


def test_counts(demo):
    assert demo.created
    counts = demo.counts
    assert counts["settlements"] == 6 == Settlement.objects.count()
    assert counts["households"] == HOUSEHOLDS == Household.objects.count()
    assert counts["people"] == Person.objects.count()
    assert 3.3 * HOUSEHOLDS < counts["people"] < 4.8 * HOUSEHOLDS
    assert counts["buildings"] == Building.objects.count() >= 6
    assert counts["grids"] == GridUnit.objects.count() >= 6
    assert counts["ten_groups"] == TenHouseholdGroup.objects.count() >= 6
    assert counts["regions"] == Region.objects.filter(code__startswith="52").count() > 1000
    # Both prefectures, real counties and real townships.
    counties = set(Settlement.objects.values_list("county_id", flat=True))
    assert {c[:4] for c in counties} == {"5202", "5223"}
    for s in Settlement.objects.select_related("county", "township"):
        assert s.code == f"AZD{s.county_id}{s.code[-3:]}"
        assert s.county.level == enums.RegionLevel.COUNTY
        assert s.township.parent_id == s.county_id and not s.township.generated
        assert 2016 <= s.year_built <= 2020
        assert s.planned_households == s.households.count()
        assert s.planned_people == Person.objects.filter(household__settlement=s).count()
        assert s.housing_units == sum(b.housing_units for b in s.buildings.all())
        assert s.housing_units >= s.planned_households
        assert s.land_area_mu > 0 and s.floor_area_m2 > 0
        assert 24 < s.latitude < 27.5 and 103.5 < s.longitude < 106.5
    # Defaults: about one settlement per 500 households, at least six.
    assert Settlement.objects.filter(county_id="522301").count() >= 2


def test_people_are_valid_and_consistent(demo):
    people = list(Person.objects.select_related("household"))
    numbers = [p.id_number for p in people]
    assert len(numbers) == len(set(numbers))
    heads = Counter()
    by_household = {}
    for p in people:
        validate_resident_id(p.id_number)
        assert p.birth_date == birth_date_from_id(p.id_number)
        assert p.sex == sex_from_id(p.id_number)
        assert p.id_number[:6] == p.household.origin_county_id
        assert (p.disability_grade is not None) == (p.health == enums.Health.DISABLED)
        assert p.residence_permit == (p.household.hukou_state == enums.HukouState.RESIDENCE_PERMIT)
        assert p.name and 2 <= len(p.name) <= 4
        if p.relationship == R.HEAD:
            heads[p.household_id] += 1
        by_household.setdefault(p.household_id, []).append(p)
    assert set(heads.values()) == {1}
    assert len(heads) == HOUSEHOLDS

    male = {R.SON, R.GRANDSON, R.FATHER, R.SON_IN_LAW}
    female = {R.DAUGHTER, R.GRANDDAUGHTER, R.MOTHER, R.DAUGHTER_IN_LAW}
    for members in by_household.values():
        head = next(p for p in members if p.relationship == R.HEAD)
        for p in members:
            if p.relationship in male:
                assert p.sex == "M", p
            if p.relationship in female:
                assert p.sex == "F", p
            if p.relationship == R.SPOUSE:
                assert p.sex != head.sex
            gap = (
                _age(p.birth_date, head.birth_date)
                if p.birth_date < head.birth_date
                else -_age(head.birth_date, p.birth_date)
            )
            if p.relationship in (R.SON, R.DAUGHTER):
                assert 18 <= -gap <= 45, (head, p)
                if p.relationship == R.SON or head.sex == "M":
                    assert p.name[0] == head.name[0]
            if p.relationship in (R.FATHER, R.MOTHER):
                assert 18 <= gap <= 45, (head, p)
            if p.relationship in (R.GRANDSON, R.GRANDDAUGHTER, R.DAUGHTERS_CHILD):
                assert -gap >= 38


def test_age_dependent_fields(demo):
    today = max(Person.objects.values_list("birth_date", flat=True))
    in_school = total = 0
    for p in Person.objects.all():
        age = _age(p.birth_date, today)
        if 7 <= age <= 14:
            total += 1
            in_school += bool(p.school_stage)
        if age < 16 or p.school_stage:
            assert p.labour_ability == enums.LabourAbility.NONE
        if age < 5:
            assert p.education == enums.Education.PRESCHOOL
    assert total and in_school / total > 0.9
    labour = Counter(Person.objects.values_list("labour_ability", flat=True))
    assert labour[enums.LabourAbility.ORDINARY] > labour[enums.LabourAbility.LOST]


def test_households_hang_together(demo):
    for h in Household.objects.select_related("building", "grid", "ten_group", "settlement"):
        assert h.building.settlement_id == h.settlement_id
        assert h.grid.settlement_id == h.settlement_id
        assert h.ten_group.grid_id == h.grid_id
        assert h.grid.buildings.filter(pk=h.building_id).exists()
        assert 1 <= h.unit <= h.building.units
        assert 1 <= int(h.room[:-2]) <= h.building.floors
        assert h.number.startswith(h.settlement.county_id) and len(h.number) == 12
        assert h.origin_county_id[:4] == h.settlement.county_id[:4]
        assert h.origin_township_id.startswith(h.origin_county_id)
        assert h.origin_village.endswith("村")
        assert 2016 <= h.relocation_year <= 2020
        assert h.batch.startswith(f"{h.relocation_year}年")
        if h.occupancy_state == enums.OccupancyState.NOT_MOVED_IN:
            assert h.moved_in_date is None
        else:
            assert h.moved_in_date.year == h.relocation_year
        h.full_clean()
    assert len(set(Household.objects.values_list("number", flat=True))) == HOUSEHOLDS
    rooms = Household.objects.values_list("building_id", "unit", "room")
    assert len(set(rooms)) == HOUSEHOLDS
    for group in TenHouseholdGroup.objects.select_related("lead_household"):
        assert group.lead_household.grid_id == group.grid_id
    for grid in GridUnit.objects.all():
        assert 1 <= grid.workers.count() <= 2
    for worker in GridWorker.objects.all():
        worker.full_clean()
    for building in Building.objects.all():
        building.full_clean()
        assert 6 <= building.floors <= 18 and 1 <= building.units <= 4


def test_history_rows(demo):
    def plus(model):
        return model.history.filter(history_type="+", history_change_reason=DEMO_REASON)

    assert plus(Household).count() == HOUSEHOLDS
    assert plus(Person).count() == Person.objects.count()
    assert plus(Settlement).count() == 6
    assert plus(Building).count() == Building.objects.count()
    assert plus(GridUnit).count() == GridUnit.objects.count()
    assert set(plus(Person).values_list("id", flat=True)) == set(
        Person.objects.values_list("id", flat=True)
    )
    record = plus(Person).first()
    # The history keeps the ID number as a mask and keyed hash, never in clear.
    assert record.id_number == tokenize("id", Person.objects.get(pk=record.id).id_number)
    grid = GridUnit.objects.first()
    snapshot = plus(GridUnit).get(id=grid.pk)
    assert {b.building_id for b in snapshot.buildings.all()} == set(
        grid.buildings.values_list("pk", flat=True)
    )


def test_users_roles_and_scopes(demo):
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {row[0] for row in DEMO_USERS}
    for username, role, _last, first, password in DEMO_USERS:
        user = users[username]
        assert user.is_staff and user.is_active
        assert user.check_password(password)
        assert user.first_name == first
        assert list(user.groups.values_list("name", flat=True)) == [GROUP_NAMES[role]]
    assert users["admin"].is_superuser
    assert not any(u.is_superuser for name, u in users.items() if name != "admin")

    def scopes(name):
        rows = AreaScope.objects.filter(user=users[name])
        return (
            sorted(r.region_id for r in rows if r.region_id),
            sorted(r.settlement_id for r in rows if r.settlement_id),
        )

    worker_regions, worker_settlements = scopes("worker")
    assert worker_regions == [] and len(worker_settlements) == 2
    # Created in settlement order, whatever the hash seed: the same ids every run.
    created = AreaScope.objects.filter(user=users["worker"]).order_by("pk")
    assert [scope.settlement_id for scope in created] == worker_settlements
    assert set(
        Settlement.objects.filter(pk__in=worker_settlements).values_list("county_id", flat=True)
    ) == {"522301"}
    assert scopes("county") == (["522301"], [])
    assert scopes("prefecture") == (["522300"], [])
    assert scopes("province") == (["520000"], [])
    assert scopes("admin") == ([], [])
    assert GridWorker.objects.filter(user=users["worker"]).count() == 1
    # Scopes work: the worker sees only their two settlements' households.
    visible = Household.objects.visible_to(users["worker"])
    assert set(visible.values_list("settlement_id", flat=True)) == set(worker_settlements)
    assert Household.objects.visible_to(users["province"]).count() == HOUSEHOLDS
    assert users["worker"].groups.get().name == GROUP_NAMES[Role.COMMUNITY_WORKER]


def test_second_run_does_not_duplicate(demo):
    before = _snapshot()
    get_user_model().objects.filter(username="worker").update(first_name="改过")
    again = build_demo(seed=7, households=HOUSEHOLDS)
    assert not again.created
    assert again.counts == demo.counts
    assert _snapshot() == before
    assert get_user_model().objects.count() == len(DEMO_USERS)
    assert get_user_model().objects.get(username="worker").first_name == "秀梅"
    # The passwords are set again (hashed without a load to overlap): each still works.
    for username, _role, _last, _first, password in DEMO_USERS:
        assert get_user_model().objects.get(username=username).check_password(password)
    assert AreaScope.objects.count() == 6  # 2 settlements + county, manager, prefecture, province
    assert Household.history.count() == HOUSEHOLDS


def test_same_seed_same_data_after_reset(demo):
    before = _snapshot()
    settlements = list(Settlement.objects.order_by("code").values_list("code", "name"))
    again = build_demo(seed=7, households=HOUSEHOLDS, reset=True)
    assert again.created
    assert _snapshot() == before
    assert list(Settlement.objects.order_by("code").values_list("code", "name")) == settlements
    # Reset removed the old rows and their history; the users are scoped again.
    assert Household.history.count() == HOUSEHOLDS
    assert Person.history.count() == len(before)
    assert AreaScope.objects.filter(user__username="worker").count() == 2
    other = build_demo(seed=8, households=HOUSEHOLDS, reset=True)
    assert other.created
    assert _snapshot() != before


def test_reset_keeps_other_data(demo, db):
    county = Region.objects.get(code="520201")
    own = Settlement.objects.create(code="OWN001", name="自建安置点", county=county)
    assert own.pk not in set(demo_settlements().values_list("pk", flat=True))
    build_demo(seed=7, households=HOUSEHOLDS, reset=True)
    assert Settlement.objects.filter(code="OWN001").exists()
    assert demo_settlements().count() == 6


def test_explicit_settlement_count(db):
    result = build_demo(seed=3, households=80, settlements=8)
    assert result.counts["settlements"] == 8
    assert result.counts["households"] == 80
    # The builder's own counts of what it wrote: the tables counted again give the same.
    assert {key: result.counts[key] for key in DEMO_COUNT_KEYS} == demo_counts()


def test_command_output(db):
    out = io.StringIO()
    call_command("load_demo", "--households", "30", "--seed", "5", stdout=out)
    text = out.getvalue()
    assert "演示数据已生成" in text
    assert "搬迁户" in text and "家庭成员" in text and "用时" in text
    for username, _role, _last, _first, password in DEMO_USERS:
        assert username in text and password in text
    assert "黔西南布依族苗族自治州" in text
    out = io.StringIO()
    call_command("load_demo", "--households", "30", "--seed", "5", stdout=out)
    assert "已存在演示数据" in out.getvalue()
    assert Household.objects.count() == 30
