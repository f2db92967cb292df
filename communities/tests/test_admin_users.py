"""User administration: nobody can grant more than they have."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from communities.models import AreaScope
from communities.roles import GROUP_NAMES, Role

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def county_admin(world, make_user):
    """An administrator whose own scope is 兴义市."""
    return make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi], username="xy_admin")


def user_change_post(user, groups=(), scopes=(), **extra):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_staff": "on",
        "groups": [g.pk for g in groups],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "area_scopes-TOTAL_FORMS": str(len(scopes)),
        "area_scopes-INITIAL_FORMS": "0",
        "area_scopes-MIN_NUM_FORMS": "0",
        "area_scopes-MAX_NUM_FORMS": "1000",
    }
    for i, (region, settlement) in enumerate(scopes):
        data[f"area_scopes-{i}-region"] = region or ""
        data[f"area_scopes-{i}-settlement"] = settlement or ""
    data.update(extra)
    return data


def test_user_list_shows_only_users_inside_own_scope(client, world, county_admin):
    client.force_login(county_admin)
    body = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "worker" in body and "county" in body
    assert "other_county" not in body and "prefecture" not in body
    assert ">admin<" not in body
    url = reverse("admin:auth_user_change", args=[world.prefecture.pk])
    assert client.get(url).status_code == 404


def test_cannot_grant_region_outside_own_scope(client, world, county_admin):
    client.force_login(county_admin)
    target = world.worker
    url = reverse("admin:auth_user_change", args=[target.pk])
    data = user_change_post(target, scopes=[("520201", None)])
    response = client.post(url, data)
    assert response.status_code == 200
    assert not AreaScope.objects.filter(user=target, region_id="520201").exists()
    data = user_change_post(target, scopes=[("522300", None)])  # wider: the prefecture
    client.post(url, data)
    assert not AreaScope.objects.filter(user=target, region_id="522300").exists()
    data = user_change_post(target, scopes=[(None, world.c.pk)])
    client.post(url, data)
    assert not AreaScope.objects.filter(user=target, settlement=world.c).exists()


def test_can_grant_inside_own_scope(client, world, county_admin):
    client.force_login(county_admin)
    target = world.worker
    url = reverse("admin:auth_user_change", args=[target.pk])
    worker_group = Group.objects.get(name=GROUP_NAMES[Role.COMMUNITY_WORKER])
    data = user_change_post(target, groups=[worker_group], scopes=[(None, world.b.pk)])
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AreaScope.objects.filter(user=target, settlement=world.b).exists()


def test_role_choices_are_limited_to_own_permissions(client, world):
    # A county official may not hand out the worker or administrator roles.
    official = world.county
    official.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client.force_login(official)
    url = reverse("admin:auth_user_change", args=[world.worker.pk])
    response = client.get(url)
    choices = {
        str(label) for _, label in response.context["adminform"].form.fields["groups"].choices
    }
    assert GROUP_NAMES[Role.COUNTY_OFFICIAL] in choices
    assert GROUP_NAMES[Role.COMMUNITY_WORKER] not in choices
    assert GROUP_NAMES[Role.ADMINISTRATOR] not in choices
    admin_group = Group.objects.get(name=GROUP_NAMES[Role.ADMINISTRATOR])
    client.post(url, user_change_post(world.worker, groups=[admin_group]))
    assert not world.worker.groups.filter(pk=admin_group.pk).exists()


def test_superuser_flag_not_offered_to_scoped_admins(client, world, county_admin):
    client.force_login(county_admin)
    url = reverse("admin:auth_user_change", args=[world.worker.pk])
    form = client.get(url).context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields
    client.post(url, user_change_post(world.worker, is_superuser="on"))
    world.worker.refresh_from_db()
    assert not world.worker.is_superuser


def test_scope_changes_are_recorded(client, world, county_admin):
    client.force_login(county_admin)
    url = reverse("admin:auth_user_change", args=[world.worker.pk])
    client.post(url, user_change_post(world.worker, scopes=[(None, world.b.pk)]))
    record = AreaScope.history.filter(settlement=world.b).get()
    assert record.history_type == "+" and record.history_user == county_admin


@pytest.mark.parametrize("editor", ["county_admin", "superuser"])
def test_user_page_asks_family_name_first_and_never_takes_sign_in_dates(
    client, world, county_admin, superuser, editor
):
    """姓 before 名 (罗文军), for a scoped administrator and a superuser alike; the last
    sign-in and the joining date are shown, not typed (a posted value changes nothing)."""
    target = User.objects.create_user("target_user", is_staff=True)
    AreaScope.objects.create(user=target, region=world.regions.xingyi)
    joined = target.date_joined
    client.force_login(county_admin if editor == "county_admin" else superuser)
    url = reverse("admin:auth_user_change", args=[target.pk])
    page = client.get(url).content.decode()
    assert page.index('name="last_name"') < page.index('name="first_name"')
    assert 'name="last_login_0"' not in page and 'name="date_joined_0"' not in page
    data = user_change_post(target, last_name="罗", first_name="文军")
    data.update({"last_login_0": "2020-01-01", "last_login_1": "08:00:00"})
    data.update({"date_joined_0": "2000-01-01", "date_joined_1": "08:00:00"})
    if editor == "superuser":
        data["is_staff"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    target.refresh_from_db()
    assert (target.last_name, target.first_name) == ("罗", "文军")
    assert target.last_login is None and target.date_joined == joined


def test_user_list_shows_the_whole_name(client, world, county_admin):
    target = User.objects.create_user("luo_wj", first_name="文军", last_name="罗", is_staff=True)
    AreaScope.objects.create(user=target, region=world.regions.xingyi)
    client.force_login(county_admin)
    page = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert '<td class="field-full_name">罗文军</td>' in page
