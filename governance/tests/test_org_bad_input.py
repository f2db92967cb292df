"""Bad input is refused with a Chinese message naming the field, and nothing is saved."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from communities.roles import Role
from communities.tests.dates import today, tomorrow
from communities.tests.factories import (
    GridUnitFactory,
    GridWorkerFactory,
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
)
from governance.models.organisation import (
    Cadre,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionCategory,
    PetitionState,
    PetitionTransition,
    Visit,
)


@pytest.fixture
def world(region_tree):
    s1 = SettlementFactory(county=region_tree.xingyi, township=region_tree.huangcao)
    s2 = SettlementFactory(county=region_tree.xingyi, township=region_tree.xingtai)
    h1 = HouseholdFactory(settlement=s1)
    h2 = HouseholdFactory(settlement=s2)
    cadre = Cadre.objects.create(name="甲", unit="县民政局", settlement=s1)
    worker = GridWorkerFactory(grid=GridUnitFactory(settlement=s1))
    cat = PetitionCategory.objects.create(name="就业", due_days=15)
    return locals()


def errors_of(obj):
    with pytest.raises(ValidationError) as caught:
        obj.full_clean()
    return caught.value.message_dict


def test_pairing_outside_the_cadres_area_is_refused(world):
    pairing = Pairing(cadre=world["cadre"], household=world["h2"], start_date=today())
    assert "不在该干部的帮扶安置点" in errors_of(pairing)["household"][0]


def test_visit_in_the_future_is_refused(world):
    visit = Visit(household=world["h1"], cadre=world["cadre"], visited_on=tomorrow(), way="home")
    assert errors_of(visit)["visited_on"] == ["走访日期不能晚于今天。"]


def test_visit_needs_a_visitor_and_one_only(world):
    none = Visit(household=world["h1"], visited_on=today(), way="home")
    assert "二者选一" in errors_of(none)["cadre"][0]
    both = Visit(
        household=world["h1"],
        cadre=world["cadre"],
        grid_worker=world["worker"],
        visited_on=today(),
        way="home",
    )
    assert "二者选一" in errors_of(both)["cadre"][0]


def test_visit_by_a_worker_of_another_settlement_is_refused(world):
    visit = Visit(
        household=world["h2"], grid_worker=world["worker"], visited_on=today(), way="home"
    )
    assert errors_of(visit)["grid_worker"] == ["该网格员不属于该户所在安置点。"]


def test_needs_raised_need_a_follow_up_state(world):
    visit = Visit(
        household=world["h1"],
        cadre=world["cadre"],
        visited_on=today(),
        way="home",
        needs="想找工作",
    )
    assert "须选择跟进状态" in errors_of(visit)["follow_up_state"][0]


def test_party_parent_must_be_of_a_higher_kind(world):
    branch = PartyOrganisation.objects.create(
        name="支部", kind=PartyOrgKind.BRANCH, settlement=world["s1"]
    )
    general = PartyOrganisation(
        name="总支", kind=PartyOrgKind.GENERAL_BRANCH, settlement=world["s1"], parent=branch
    )
    assert "层级必须高于" in errors_of(general)["parent"][0]
    assert PartyOrganisation.objects.count() == 1


def test_party_member_needs_a_name_or_a_resident_of_the_settlement(world):
    org = PartyOrganisation.objects.create(
        name="支部", kind=PartyOrgKind.BRANCH, settlement=world["s1"]
    )
    assert errors_of(PartyMember(organisation=org, origin="moved_in"))["name"] == [
        "不是搬迁人员的党员须填写姓名。"
    ]
    elsewhere = PersonFactory(household=world["h2"])
    member = PartyMember(organisation=org, person=elsewhere, origin="moved_in")
    assert "不住在本党组织所在的安置点" in errors_of(member)["person"][0]


def _petition(world):
    p = Petition(
        settlement=world["s1"],
        household=world["h1"],
        category=world["cat"],
        channel="window",
        received_on=today() - datetime.timedelta(days=3),
        summary="求职",
    )
    p.full_clean()
    p.save()
    return p


def test_due_date_follows_the_category_rule(world):
    p = _petition(world)
    assert p.due_on == p.received_on + datetime.timedelta(days=15)


def test_petition_without_a_petitioner_is_refused(world):
    p = Petition(
        settlement=world["s1"],
        category=world["cat"],
        channel="window",
        received_on=today(),
        summary="x",
    )
    assert "请填写诉求人" in errors_of(p)["group"][0]


def test_transitions_only_in_order(world, make_user):
    user = make_user(role=Role.COMMUNITY_WORKER, settlements=[world["s1"]])
    p = _petition(world)
    with pytest.raises(ValidationError) as caught:
        p.transition(PetitionState.RESOLVED, user=user, on_date=today(), resolution="已解决")
    assert "只能转为：办理中、不予受理" in caught.value.message_dict["next_state"][0]
    p.refresh_from_db()
    assert p.state == PetitionState.ACCEPTED and not p.transitions.exists()


def test_closing_needs_a_resolution_and_nothing_is_saved(world, make_user):
    user = make_user(role=Role.COMMUNITY_WORKER, settlements=[world["s1"]])
    p = _petition(world)
    p.transition(PetitionState.IN_PROGRESS, user=user, on_date=today())
    with pytest.raises(ValidationError) as caught:
        p.transition(PetitionState.RESOLVED, user=user, on_date=today(), resolution="  ")
    assert caught.value.message_dict["resolution"] == ["办结须填写办理结果。"]
    p.refresh_from_db()
    assert p.state == PetitionState.IN_PROGRESS and p.closed_on is None
    assert p.transitions.count() == 1


def test_rejection_needs_a_reason(world, make_user):
    user = make_user(role=Role.COMMUNITY_WORKER, settlements=[world["s1"]])
    p = _petition(world)
    with pytest.raises(ValidationError) as caught:
        p.transition(PetitionState.REJECTED, user=user, on_date=today())
    assert caught.value.message_dict["reject_reason"] == ["不予受理须填写理由。"]


def test_full_path_is_logged_with_who_and_when(world, make_user):
    user = make_user(role=Role.COMMUNITY_WORKER, settlements=[world["s1"]])
    p = _petition(world)
    p.transition(PetitionState.IN_PROGRESS, user=user, on_date=today())
    p.transition(PetitionState.RESOLVED, user=user, on_date=today(), resolution="推荐到车间")
    with pytest.raises(ValidationError) as caught:
        p.transition(PetitionState.FOLLOWED_UP, user=user, on_date=today())
    assert caught.value.message_dict["satisfaction"] == ["回访须选择满意度。"]
    p.transition(PetitionState.FOLLOWED_UP, user=user, on_date=today(), satisfaction="satisfied")
    p.refresh_from_db()
    assert (p.state, p.closed_on, p.handling_days) == (PetitionState.FOLLOWED_UP, today(), 3)
    steps = list(PetitionTransition.objects.filter(petition=p).values_list("to_state", "by"))
    assert steps == [("in_progress", user.pk), ("resolved", user.pk), ("followed_up", user.pk)]
    assert p.history.count() == 4  # created + three moves


def test_stair_leader_unit_rules(world):
    from communities.tests.factories import BuildingFactory
    from governance.models.organisation import StairLeader

    building = BuildingFactory(settlement=world["s1"], units=2)
    unit_leader = StairLeader(building=building, role="unit", name="分一")
    assert errors_of(unit_leader)["unit"] == ["分楼长须填写负责的单元号。"]
    chief = StairLeader(building=building, role="chief", unit=1, name="总一")
    assert errors_of(chief)["unit"] == ["总楼长负责整栋楼，不填单元号。"]
    too_far = StairLeader(building=building, role="unit", unit=3, name="分三")
    assert errors_of(too_far)["unit"] == ["该楼栋只有2个单元。"]
    assert not StairLeader.objects.exists()
