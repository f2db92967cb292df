"""The read-only API: tokens, scope, masking, the read audit, keyset pages and the rate limit."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Household, Person
from communities.read_audit import ReadAuditEntry
from relocation.api.auth import ApiRateThrottle
from relocation.api.models import ApiToken

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"
PEOPLE = "/api/v1/people/"


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- who may call --------------------------------------------------------------------


def test_without_a_token_nothing_is_answered(client, world):
    response = client.get(HOUSEHOLDS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    # A signed-in official's session is not an API credential either.
    client.force_login(world.county)
    assert client.get(HOUSEHOLDS).status_code == 401


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer", "Token a b", "Basic eDp5"])
def test_a_bad_token_is_refused_in_chinese(client, world, header):
    response = client.get(HOUSEHOLDS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    if header != "Basic eDp5":
        assert "密钥" in response.json()["detail"] or "认证" in response.json()["detail"]


def test_revoked_expired_and_inactive_tokens_stop_working(client, world, bearer):
    headers = bearer(world.county)
    assert client.get(HOUSEHOLDS, **headers).status_code == 200
    ApiToken.objects.get(user=world.county).revoke()
    assert client.get(HOUSEHOLDS, **headers).status_code == 401

    expired = bearer(world.county, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(HOUSEHOLDS, **expired).status_code == 401

    live = bearer(world.prefecture)
    world.prefecture.is_active = False
    world.prefecture.save()
    assert client.get(HOUSEHOLDS, **live).status_code == 401


def test_only_a_hash_of_the_key_is_stored(world):
    token, key = ApiToken.issue(name="省系统", user=world.county)
    stored = ApiToken.objects.filter(pk=token.pk).values_list("key_hash", "prefix").get()
    assert key not in stored and stored[1] == key[:8] and len(stored[0]) == 64


def test_an_account_without_the_view_permission_gets_403(client, make_user, world, bearer):
    nobody = make_user(regions=[world.regions.xingyi])  # an area, no permissions
    response = client.get(PEOPLE, **bearer(nobody))
    assert response.status_code == 403
    assert "权限" in response.json()["detail"]


# --- scope -----------------------------------------------------------------------------


def test_lists_and_details_stop_at_the_accounts_area(client, world, bearer):
    headers = bearer(world.county)  # 兴义市: settlements A and B
    numbers = {row["number"] for row in rows(client.get(HOUSEHOLDS, **headers))}
    assert numbers == {world.households["a"].number, world.households["b"].number}
    people = {row["household"] for row in rows(client.get(PEOPLE, **headers))}
    assert people == {world.households["a"].pk, world.households["b"].pk}
    other = world.households["c"]
    assert client.get(f"{HOUSEHOLDS}{other.pk}/", **headers).status_code == 404
    assert client.get(f"{PEOPLE}{world.heads['c'].pk}/", **headers).status_code == 404
    assert client.get(f"{HOUSEHOLDS}{world.orphan.pk}/", **headers).status_code == 404
    # An area outside the account lists nothing; a bad one is a 400 in Chinese.
    assert rows(client.get(HOUSEHOLDS, {"area": "520201"}, **headers)) == []
    assert rows(client.get(HOUSEHOLDS, {"area": f"s{other.settlement_id}"}, **headers)) == []
    response = client.get(HOUSEHOLDS, {"area": "abc"}, **headers)
    assert response.status_code == 400 and "区域代码" in response.json()["area"][0]
    narrowed = rows(client.get(HOUSEHOLDS, {"area": f"s{world.a.pk}"}, **headers))
    assert [row["number"] for row in narrowed] == [world.households["a"].number]


@pytest.mark.parametrize("bad", ["99999999999999999999", "-1", "1.0", "%E4%B8%80"])
def test_odd_ids_are_a_plain_404(client, world, bearer, bad):
    response = client.get(f"{PEOPLE}{bad}/", **bearer(world.county))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_employment_and_income_endpoints_are_scoped_too(client, world, bearer):
    from employment import enums
    from employment.models import EmploymentRecord

    for head in (world.heads["a"], world.heads["c"]):
        EmploymentRecord.objects.create(
            person=head,
            kind=enums.EmploymentKind.WAGE,
            employer_name="帮扶车间",
            place=enums.WorkPlace.IN_COUNTY,
            start_date=datetime.date(2024, 3, 1),
        )
    listed = rows(client.get("/api/v1/employment-records/", **bearer(world.county)))
    assert [row["person"] for row in listed] == [world.heads["a"].pk]


# --- masking and the read audit ------------------------------------------------------------


def test_personal_data_is_masked_for_an_account_that_may_not_see_it(client, world, bearer):
    head = world.heads["a"]
    head.health = "disabled"
    head.disability_grade = 2
    head.save()
    row = client.get(f"{PEOPLE}{head.pk}/", **bearer(world.county)).json()
    assert row["id_number"] != head.id_number and "*" in row["id_number"]
    assert (
        row["id_number"][:6] == head.id_number[:6] and row["id_number"][-4:] == head.id_number[-4:]
    )
    assert "*" in row["phone"] and row["phone"] != head.phone
    assert row["health"] is None and row["disability_grade"] is None
    assert row["birth_date"] is None  # it would give the masked digits back
    assert row["birth_year"] == head.birth_date.year
    household = client.get(f"{HOUSEHOLDS}{head.household_id}/", **bearer(world.county)).json()
    assert "*" in household["phone"]
    assert not ReadAuditEntry.objects.exists()  # nothing shown, nothing recorded


def test_an_account_that_may_see_it_gets_it_and_is_audited(client, world, bearer):
    head = world.heads["a"]
    response = client.get(PEOPLE, {"area": f"s{world.a.pk}"}, **bearer(world.worker))
    shown = {row["id"]: row for row in rows(response)}
    assert shown[head.pk]["id_number"] == head.id_number
    assert shown[head.pk]["birth_date"] == head.birth_date.isoformat()
    entries = ReadAuditEntry.objects.filter(user=world.worker)
    assert {(e.object_id, e.field) for e in entries} >= {
        (str(head.pk), "id_number"),
        (str(head.pk), "phone"),
    }
    assert {e.channel for e in entries} == {"export"}
    assert {e.export_format for e in entries} == {"api"}
    assert all(e.path.startswith(PEOPLE) for e in entries)


# --- keyset pages ---------------------------------------------------------------------------


def walk(client, url, headers, link="next"):
    """Every page from ``url`` following ``link``: a list of pages of ids."""
    pages = []
    while url:
        body = client.get(url, **headers).json()
        pages.append([row["id"] for row in body["results"]])
        url = body[link]
    return pages


def add_late_person(world):
    """A person of settlement A written after settlement B's people (a higher id)."""
    from communities import enums
    from communities.tests.factories import PersonFactory

    return PersonFactory(
        household=world.households["a"], relationship=enums.Relationship.DAUGHTER, age=9
    )


def test_pages_follow_the_key_and_never_use_offset(client, world, bearer):
    late = add_late_person(world)
    headers = bearer(world.province)
    # Settlement by settlement, household by household, then by id: the late person
    # of A comes before B's people, although its id is higher.
    expected = list(
        Person.objects.exclude(household=world.orphan)
        .order_by("household__settlement_id", "household_id", "pk")
        .values_list("pk", flat=True)
    )
    assert expected != sorted(expected) and late.pk in expected
    with CaptureQueriesContext(connection) as queries:
        pages = walk(client, PEOPLE + "?page_size=2", headers)
    seen = [pk for page in pages for pk in page]
    assert seen == expected
    assert len(pages) == -(-len(expected) // 2)
    person_selects = [q["sql"] for q in queries if 'FROM "communities_person"' in q["sql"]]
    assert person_selects and not any("OFFSET" in sql.upper() for sql in person_selects)


def test_previous_links_lead_back_page_by_page(client, world, bearer):
    add_late_person(world)
    headers = bearer(world.province)
    forward = walk(client, PEOPLE + "?page_size=3", headers)
    last = client.get(PEOPLE + "?page_size=3", **headers).json()
    while last["next"]:
        last = client.get(last["next"], **headers).json()
    backward = walk(client, last["previous"], headers, link="previous")
    assert list(reversed(backward)) == forward[:-1]
    assert len(forward) >= 3


def test_employment_records_and_households_page_by_settlement(client, world, bearer):
    from employment import enums
    from employment.models import EmploymentRecord

    records = [
        EmploymentRecord.objects.create(
            person=world.heads[key],
            kind=enums.EmploymentKind.WAGE,
            employer_name="帮扶车间",
            place=enums.WorkPlace.IN_COUNTY,
            start_date=datetime.date(2024, 3, 1),
        )
        for key in ("b", "a", "b", "a")
    ]
    headers = bearer(world.prefecture)
    seen = [
        pk
        for page in walk(client, "/api/v1/employment-records/?page_size=1", headers)
        for pk in page
    ]
    order = {world.a.pk: 0, world.b.pk: 1}
    settlement = {r.pk: r.person.household.settlement_id for r in records}
    assert seen == sorted(seen, key=lambda pk: (order[settlement[pk]], pk))
    assert seen[:2] == [records[1].pk, records[3].pk]

    from communities.tests.factories import HouseholdFactory

    later = HouseholdFactory(settlement=world.a)
    seen = [pk for page in walk(client, HOUSEHOLDS + "?page_size=1", headers) for pk in page]
    assert seen == [world.households["a"].pk, later.pk, world.households["b"].pk]


def test_an_account_that_sees_everything_pages_by_id_with_households_without_a_place(
    client, world, bearer
):
    late = add_late_person(world)
    seen = [
        pk for page in walk(client, PEOPLE + "?page_size=2", bearer(world.admin)) for pk in page
    ]
    assert seen == list(Person.objects.order_by("pk").values_list("pk", flat=True))
    assert late.pk == seen[-1] and world.orphan.members.exists()
    assert set(world.orphan.members.values_list("pk", flat=True)) <= set(seen)
    # With an area it reads settlement by settlement like everyone else.
    area = [
        pk
        for page in walk(client, PEOPLE + "?page_size=2&area=52", bearer(world.admin))
        for pk in page
    ]
    assert area.index(late.pk) < area.index(world.heads["b"].pk)


@pytest.mark.parametrize(
    "cursor",
    [
        b"p=abc",
        b"p=1",
        b"p=1.2",
        b"p=1.2.x",
        b"p=1.2.3.4",
        b"p=1.-2.3",
        b"o=4&p=1.2.3",
        b"p=1.2.99999999999999999999",
        "p=1.2.\u0663".encode(),
    ],
)
def test_a_forged_cursor_is_a_404_not_a_crash(client, world, bearer, cursor):
    import base64

    forged = base64.b64encode(cursor).decode()
    response = client.get(PEOPLE, {"cursor": forged}, **bearer(world.county))
    assert response.status_code == 404
    assert response.json()["detail"]


def test_updated_since(client, world, bearer):
    headers = bearer(world.county)
    later = timezone.now() + datetime.timedelta(minutes=5)
    assert rows(client.get(HOUSEHOLDS, {"updated_since": later.isoformat()}, **headers)) == []
    Household.objects.filter(pk=world.households["a"].pk).update(
        updated_at=later + datetime.timedelta(minutes=1)
    )
    listed = rows(client.get(HOUSEHOLDS, {"updated_since": later.isoformat()}, **headers))
    assert [row["number"] for row in listed] == [world.households["a"].number]
    response = client.get(HOUSEHOLDS, {"updated_since": "yesterday"}, **headers)
    assert response.status_code == 400 and "ISO 8601" in response.json()["updated_since"][0]
    response = client.get("/api/v1/settlements/", {"updated_since": later.isoformat()}, **headers)
    assert response.status_code == 400


def test_updated_since_with_an_offset_postgresql_refuses(client, world, bearer):
    # ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59: the moment is the
    # same instant in UTC, found by schemathesis as a 500 on PostgreSQL.
    headers = bearer(world.county)
    moment = timezone.now() + datetime.timedelta(minutes=5)
    Household.objects.filter(pk=world.households["a"].pk).update(
        updated_at=moment + datetime.timedelta(minutes=1)
    )
    far_west = datetime.timezone(-datetime.timedelta(hours=18, minutes=50))
    for text in (moment.astimezone(far_west).isoformat(), "6825-03-23T22:56:44.6-18:50"):
        response = client.get(HOUSEHOLDS, {"updated_since": text}, **headers)
        assert response.status_code == 200, response.content
    listed = rows(
        client.get(
            HOUSEHOLDS, {"updated_since": moment.astimezone(far_west).isoformat()}, **headers
        )
    )
    assert [row["number"] for row in listed] == [world.households["a"].number]


# --- the rate limit -------------------------------------------------------------------------


def test_the_rate_limit_answers_429(client, world, bearer, monkeypatch):
    monkeypatch.setattr(ApiRateThrottle, "THROTTLE_RATES", {"api": "3/min"})
    headers = bearer(world.county)
    answers = [client.get(HOUSEHOLDS, **headers).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "Retry-After" in client.get(HOUSEHOLDS, **headers)
    # Per account: another system is not slowed down by the first.
    assert client.get(HOUSEHOLDS, **bearer(world.prefecture)).status_code == 200


# --- the document -----------------------------------------------------------------------------


def test_the_openapi_document_is_served_without_a_token(client, db):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/people/", "/api/v1/households/{id}/", "/api/v1/indicators/"):
        assert path in document["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


# --- indicators -------------------------------------------------------------------------------


@pytest.fixture
def computed(world):
    from relocation.dashboards import engine

    engine.refresh_live(full=True)
    return world


def _values(body):
    return {item["key"]: item["value"] for item in body["indicators"]}


def test_indicators_of_an_area_as_the_dashboards_show_them(client, computed, bearer):
    world = computed
    headers = bearer(world.county)
    body = client.get("/api/v1/indicators/", {"area": "522301"}, **headers).json()
    # Hand count: 兴义市 has settlements A and B, one household of three in each.
    assert (_values(body)["households"], _values(body)["persons"]) == (2, 6)
    assert body["area_name"] == "兴义市" and body["kind"] == "month" and body["reference_date"]
    assert sum(child["values"]["households"] for child in body["children"]) == 2
    # No area: where the account's dashboard lands, its only county (read from the stored
    # roll-up, with the same child areas), so the same figures.
    landing = client.get("/api/v1/indicators/", **headers).json()
    assert _values(landing)["households"] == 2 and landing["area_name"] == "兴义市"
    assert landing["children"] == body["children"] and landing["indicators"] == body["indicators"]
    # The province official sees all three settlements.
    province = client.get("/api/v1/indicators/", {"area": "52"}, **bearer(world.province)).json()
    assert (_values(province)["households"], _values(province)["persons"]) == (3, 9)
    unit = {item["key"]: item for item in province["indicators"]}["persons"]
    assert unit["direction"] in ("up", "down", "neutral") and unit["label"] == "搬迁人口"


def test_indicators_outside_the_area_are_a_404(client, computed, bearer):
    headers = bearer(computed.county)
    for area in ("520201", f"s{computed.c.pk}", "53", "s99999999999999999"):
        response = client.get("/api/v1/indicators/", {"area": area}, **headers)
        assert response.status_code == 404, area
        assert "区域" in response.json()["detail"] or response.status_code == 404
    response = client.get("/api/v1/indicators/", {"area": "x1"}, **headers)
    assert response.status_code == 400
    response = client.get("/api/v1/indicators/", {"kind": "week"}, **headers)
    assert response.status_code == 400 and "month" in response.json()["kind"][0]


# --- every endpoint, every role ---------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["worker", "worker_nopii", "county", "prefecture", "province", "other_county", "admin"]
)
def test_every_endpoint_lists_exactly_what_the_role_may_see(client, world, bearer, role):
    """Each app's endpoints (``<app>/api.py``), as each role: 200 with exactly the rows in
    its area, or 403 without the view permission; never another area's row."""
    from relocation.api import endpoints

    user = getattr(world, role)
    headers = bearer(user)
    assert endpoints()
    for prefix, viewset, _basename in endpoints():
        model = viewset.queryset.model
        response = client.get(f"/api/v1/{prefix}/", {"page_size": 1000}, **headers)
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            assert response.status_code == 403, (role, prefix)
            continue
        visible = set(model.objects.visible_to(user).values_list("pk", flat=True))
        assert {row["id"] for row in rows(response)} == visible, (role, prefix)
        hidden = model.objects.exclude(pk__in=visible).values_list("pk", flat=True).first()
        if hidden is not None:
            assert client.get(f"/api/v1/{prefix}/{hidden}/", **headers).status_code == 404
