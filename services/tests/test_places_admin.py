"""Scope, permissions, bad input and history on the places-and-events admin screens.

Written as an attacker with a legitimate but limited account: the 兴义市
official and the worker of 一号安置点 try records, filter choices and
autocompletes of 钟山区 (三号安置点) and of other settlements.
"""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.roles import Role
from services.models import (
    Activity,
    ActivityKind,
    CollectiveAsset,
    Facility,
    FacilityKind,
    FundedProject,
    Honour,
    HonourKind,
    ServiceStandard,
)

from .places_world import places_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def url(model, action="changelist", *args):
    return reverse(f"admin:services_{model}_{action}", args=args)


@pytest.fixture
def users(places_world, make_user):
    w = places_world
    return type(
        "Users",
        (),
        {
            "county": make_user(Role.COUNTY_OFFICIAL, regions=[w.rt.xingyi]),
            "worker": make_user(Role.COMMUNITY_WORKER, settlements=[w.s1]),
            # A worker of both 兴义市 settlements (officials only read).
            "worker2": make_user(Role.COMMUNITY_WORKER, settlements=[w.s1, w.s2]),
            "admin": make_user(Role.ADMINISTRATOR, regions=[w.rt.guizhou]),
        },
    )


def records(w):
    """(model, a record of 兴义市, a record of 钟山区)."""
    asset_own = CollectiveAsset.objects.create(settlement=w.s1, name="一号商铺", kind="shop")
    asset_other = CollectiveAsset.objects.create(
        settlement=w.s3, name="三号大棚", kind="greenhouse"
    )
    return [
        ("facility", w.f.f1, w.f.f6),
        (
            "activity",
            Activity.objects.filter(settlement=w.s1).first(),
            Activity.objects.filter(settlement=w.s3).first(),
        ),
        ("honour", Honour.objects.get(household=w.h1), Honour.objects.get(household=w.h3)),
        (
            "fundedproject",
            FundedProject.objects.filter(settlement=w.s1).first(),
            FundedProject.objects.filter(settlement=w.s3).first(),
        ),
        ("collectiveasset", asset_own, asset_other),
    ]


def test_lists_show_only_the_users_area(client, places_world, users):
    client.force_login(users.county)
    for model, own, other in records(places_world):
        response = client.get(url(model))
        assert response.status_code == 200, model
        rows = set(response.context["cl"].result_list)
        assert own in rows and other not in rows, model


@pytest.mark.parametrize("action", ["change", "history", "delete"])
def test_records_of_another_county_are_404(client, places_world, users, action):
    client.force_login(users.county)
    for model, own, other in records(places_world):
        assert client.get(url(model, action, other.pk)).status_code == 404, model
        assert client.get(url(model, action, own.pk)).status_code in (200, 403), model


def test_date_drill_down_keeps_the_users_area(client, places_world, users):
    """活动日期 by year, month and day (the links above the list): that time's rows of
    the user's area, never another county's (三号安置点's 广场舞 on 5月1日)."""
    client.force_login(users.county)
    titles = []
    for query in (
        {"held_on__year": "2026", "held_on__month": "5"},
        {"held_on__year": "2026", "held_on__month": "5", "held_on__day": "1"},
        {"held_on__year": "2026", "held_on__month": "5", "held_on__day": "10"},
    ):
        response = client.get(url("activity"), query)
        assert response.status_code == 200
        assert "不支持的筛选条件" not in response.content.decode()
        titles.append({a.title for a in response.context["cl"].result_list})
    assert titles == [{"安全培训"}, set(), {"安全培训"}]


def test_area_query_string_outside_scope_lists_nothing(client, places_world, users):
    w = places_world
    client.force_login(users.county)
    response = client.get(url("facility"), {"area": "520201"})  # 钟山区
    assert list(response.context["cl"].result_list) == []
    response = client.get(url("facility"), {"area": f"s{w.s3.pk}"})
    assert list(response.context["cl"].result_list) == []
    assert "三号安置点" not in response.content.decode()
    # An unknown lookup is refused, not applied.
    response = client.get(url("facility"), {"settlement__county__code": "520201"})
    assert response.status_code in (302, 400) or not any(
        f.settlement_id == w.s3.pk for f in response.context["cl"].result_list
    )


def test_filter_choices_are_in_scope_only(client, places_world, users):
    client.force_login(users.county)
    body = client.get(url("facility")).content.decode()
    assert "一号安置点" in body and "二号安置点" in body
    assert "三号安置点" not in body and "四号安置点" not in body
    body = client.get(url("honour")).content.decode()
    assert "三号安置点" not in body


def test_autocomplete_offers_settlements_in_scope_only(client, places_world, users):
    client.force_login(users.worker)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "services", "model_name": "facility", "field_name": "settlement", "term": ""},
    )
    names = {row["text"] for row in json.loads(response.content)["results"]}
    assert names == {"一号安置点"}


def test_worker_cannot_add_an_activity_to_another_settlement(client, places_world, users):
    w = places_world
    client.force_login(users.worker)
    before = Activity.objects.count()
    response = client.post(
        url("activity", "add"),
        {
            "settlement": w.s3.pk,
            "kind": ActivityKind.objects.get(code="law").pk,
            "title": "普法讲座",
            "held_on": "2026-05-01",
            "participants": "30",
        },
    )
    assert response.status_code == 200
    assert "settlement" in response.context["adminform"].form.errors
    assert Activity.objects.count() == before


def _activity_post(w, **overrides):
    data = {
        "settlement": w.s1.pk,
        "kind": ActivityKind.objects.get(code="law").pk,
        "title": "普法讲座",
        "held_on": timezone.localdate().isoformat(),
        "organiser": "社区居委会",
        "participants": "30",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"held_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
            "held_on",
            "活动日期不能晚于今天",
        ),
        ({"participants": "-5"}, "participants", "大于或等于0"),
        ({"title": ""}, "title", "该字段是必填项"),
    ],
)
def test_bad_activity_is_refused_with_a_chinese_message(
    client,
    places_world,
    users,
    overrides,
    field,
    message,
):
    client.force_login(users.worker)
    before = Activity.objects.count()
    response = client.post(url("activity", "add"), _activity_post(places_world, **overrides))
    errors = response.context["adminform"].form.errors
    assert any(message in e for e in errors[field]), errors
    assert Activity.objects.count() == before


def test_activity_people_must_live_in_the_settlement(client, places_world, users):
    w = places_world
    client.force_login(users.worker2)
    good = w.h2.members.first()  # lives in 二号安置点
    response = client.post(
        url("activity", "add"), _activity_post(w, households=[w.h2.pk], people=[good.pk])
    )
    errors = response.context["adminform"].form.errors
    assert "参与户须是该安置点的搬迁户。" in errors["households"]
    assert "参与人员须是该安置点的搬迁人员。" in errors["people"]
    assert not Activity.objects.filter(title="普法讲座").exists()


def test_worker_enters_an_activity_and_it_is_in_the_history(client, places_world, users):
    client.force_login(users.worker)
    response = client.post(url("activity", "add"), _activity_post(places_world))
    assert response.status_code == 302
    activity = Activity.objects.get(title="普法讲座")
    assert activity.history.count() == 1
    assert activity.history.first().history_user == users.worker


def test_facility_of_one_county_cannot_serve_another_countys_settlement(
    client,
    places_world,
    make_user,
):
    w = places_world
    province = make_user(Role.ADMINISTRATOR, regions=[w.rt.guizhou])
    client.force_login(province)
    response = client.get(url("facility", "change", w.f.f2.pk))
    assert response.status_code == 200
    data = {
        "settlement": w.s1.pk,
        "kind": w.f.f2.kind_id,
        "name": "一号卫生室",
        "also_serves": [w.s2.pk, w.s3.pk],
        "teachers": "0",
        "medical_staff": "3",
        "state": "in_use",
    }
    response = client.post(url("facility", "change", w.f.f2.pk), data)
    errors = response.context["adminform"].form.errors["also_serves"]
    assert "“三号安置点”不在所在安置点的县（市、区），设施不能跨县服务。" in errors
    assert set(w.f.f2.also_serves.all()) == {w.s2}
    response = client.post(url("facility", "change", w.f.f2.pk), {**data, "medical_staff": "-1"})
    assert "大于或等于0" in " ".join(response.context["adminform"].form.errors["medical_staff"])
    assert Facility.objects.get(pk=w.f.f2.pk).medical_staff == 3


def test_negative_amount_and_future_allocation_are_refused(client, places_world, users):
    w = places_world
    client.force_login(users.worker2)
    base = {
        "settlement": w.s1.pk,
        "purpose": "道路硬化",
        "amount": "-3",
        "source": "central",
        "year": "2026",
        "allocated_on": "2026-05-01",
        "state": "planned",
    }
    response = client.post(url("fundedproject", "add"), base)
    assert "金额不能为负数。" in response.context["adminform"].form.errors["amount"]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        url("fundedproject", "add"), {**base, "amount": "5", "allocated_on": tomorrow}
    )
    assert "下达日期不能晚于今天。" in response.context["adminform"].form.errors["allocated_on"]
    assert not FundedProject.objects.filter(purpose="道路硬化").exists()


def test_honoured_person_must_belong_to_the_household(client, places_world, users):
    w = places_world
    client.force_login(users.worker2)
    stranger = w.h2.members.first()
    response = client.post(
        url("honour", "add"),
        {
            "household": w.h1.pk,
            "person": stranger.pk,
            "kind": HonourKind.objects.get(code="good_person").pk,
            "awarded_on": "2026-05-01",
        },
    )
    assert "获表彰人员不是该户成员。" in response.context["adminform"].form.errors["person"]
    assert Honour.objects.filter(household=w.h1).count() == 1


def test_only_administrators_write_the_kinds(client, places_world, users):
    client.force_login(users.worker)
    assert client.get(url("facilitykind")).status_code == 200
    assert client.get(url("facilitykind", "add")).status_code == 403
    response = client.post(url("facilitykind", "add"), {"name": "洗车点", "code": "wash"})
    assert response.status_code == 403
    assert not FacilityKind.objects.filter(code="wash").exists()
    client.force_login(users.admin)
    response = client.post(
        url("facilitykind", "add"),
        {"name": "洗车点", "code": "wash", "order": "10", "active": "on"},
    )
    assert response.status_code == 302
    assert FacilityKind.objects.get(code="wash").history.count() == 1


def test_coverage_work_list(client, places_world, users):
    w = places_world
    client.force_login(users.county)
    response = client.get(url("settlementcoverage"), {"coverage": "lacking"})
    rows = list(response.context["cl"].result_list)
    # 二号 lacks 幼儿园 (opens later); 三号 and 四号 are outside 兴义市.
    assert [r.pk for r in rows] == [w.s2.pk]
    body = response.content.decode()
    assert "幼儿园" in body and "十个一" in body
    covered = client.get(url("settlementcoverage"), {"coverage": "covered"})
    assert [r.pk for r in covered.context["cl"].result_list] == [w.s1.pk]
    assert client.get(url("settlementcoverage", "change", w.s3.pk)).status_code == 404


def test_asset_income_cannot_share_more_than_it_earned(client, places_world, users):
    w = places_world
    client.force_login(users.worker2)
    data = {
        "settlement": w.s1.pk,
        "name": "一号商铺",
        "kind": "shop",
        "incomes-TOTAL_FORMS": "1",
        "incomes-INITIAL_FORMS": "0",
        "incomes-MIN_NUM_FORMS": "0",
        "incomes-MAX_NUM_FORMS": "1000",
        "incomes-0-year": "2025",
        "incomes-0-income": "10",
        "incomes-0-distributed": "12",
        "incomes-0-sharing": "按户分红",
    }
    response = client.post(url("collectiveasset", "add"), data)
    formset = response.context["inline_admin_formsets"][0].formset
    assert "分配给搬迁户的金额不能大于当年收益。" in formset.forms[0].errors["distributed"]
    assert not CollectiveAsset.objects.filter(name="一号商铺").exists()
    response = client.post(url("collectiveasset", "add"), {**data, "incomes-0-distributed": "6"})
    assert response.status_code == 302
    asset = CollectiveAsset.objects.get(name="一号商铺")
    assert asset.incomes.get().distributed == 6


def test_service_standards_only_for_regions_in_the_administrators_area(
    client, places_world, make_user
):
    w = places_world
    fk = FacilityKind.objects.get(code="police_room")
    data = {"name": "新标准", "region": w.rt.qianxinan.pk, "year": "2030", "kinds": [fk.pk]}
    county_admin = make_user(Role.ADMINISTRATOR, regions=[w.rt.xingyi])
    client.force_login(county_admin)
    response = client.post(url("servicestandard", "add"), data)
    assert "region" in response.context["adminform"].form.errors
    assert not ServiceStandard.objects.filter(year=2030).exists()
    client.force_login(make_user(Role.ADMINISTRATOR, regions=[w.rt.guizhou]))
    assert client.post(url("servicestandard", "add"), data).status_code == 302
    response = client.post(url("servicestandard", "add"), {**data, "name": "重复"})
    assert "该地区该年度已有服务标准。" in str(response.context["adminform"].form.errors)
    assert ServiceStandard.objects.filter(year=2030).count() == 1
