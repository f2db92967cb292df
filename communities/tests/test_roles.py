"""The four role groups and the permissions that follow from the rules in roles.py.

Assertions are rules over every permission of the data apps, so that a model
added later is covered without editing this file.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from communities.roles import (
    ADMIN_ONLY_MODELS,
    DATA_APPS,
    GROUP_NAMES,
    SENSITIVE_PERMISSION,
    Role,
    ensure_role_groups,
    role_of,
)
from communities.scope import get_scope
from communities.tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


def perms_of(role):
    group = Group.objects.get(name=GROUP_NAMES[role])
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def data_perms(historical=False):
    """Every permission of the data apps, as "app.codename"."""
    rows = Permission.objects.filter(content_type__app_label__in=DATA_APPS).values_list(
        "content_type__app_label", "content_type__model", "codename"
    )
    return {
        f"{app}.{codename}"
        for app, model, codename in rows
        if model.startswith("historical") == historical
    }


@pytest.fixture
def groups():
    return ensure_role_groups()


class TestEnsureRoleGroups:
    def test_creates_the_four_groups_with_chinese_names(self, groups):
        names = {"社区工作人员", "乡镇/县级干部", "市（州）/省级干部", "系统管理员"}
        assert set(Group.objects.filter(name__in=names).values_list("name", flat=True)) == names
        assert {g.name for g in groups.values()} == names
        assert set(groups) == set(Role)

    def test_idempotent(self, groups):
        before = {role: perms_of(role) for role in Role}
        group_count = Group.objects.count()
        again = ensure_role_groups()
        assert Group.objects.count() == group_count
        assert {r: g.pk for r, g in again.items()} == {r: g.pk for r, g in groups.items()}
        assert {role: perms_of(role) for role in Role} == before

    def test_restores_a_removed_permission_and_drops_an_added_one(self, groups):
        worker = groups[Role.COMMUNITY_WORKER]
        worker.permissions.remove(Permission.objects.get(codename="add_household"))
        worker.permissions.add(Permission.objects.get(codename="delete_household"))
        ensure_role_groups()
        assert "communities.add_household" in perms_of(Role.COMMUNITY_WORKER)
        assert "communities.delete_household" not in perms_of(Role.COMMUNITY_WORKER)

    def test_every_role_has_permissions(self, groups):
        for role in Role:
            assert perms_of(role), role


class TestCommunityWorker:
    def test_enters_households_and_people_but_does_not_delete(self, groups):
        perms = perms_of(Role.COMMUNITY_WORKER)
        for model in ("household", "person"):
            assert {
                f"communities.view_{model}",
                f"communities.add_{model}",
                f"communities.change_{model}",
            } <= perms
            assert f"communities.delete_{model}" not in perms
            assert f"communities.import_{model}" not in perms

    def test_sees_full_personal_data(self, groups):
        assert SENSITIVE_PERMISSION in perms_of(Role.COMMUNITY_WORKER)

    def test_no_delete_or_import_anywhere(self, groups):
        actions = {p.split(".", 1)[1].split("_", 1)[0] for p in perms_of(Role.COMMUNITY_WORKER)}
        assert "delete" not in actions
        assert "import" not in actions

    def test_reference_data_is_limited(self, groups):
        perms = perms_of(Role.COMMUNITY_WORKER)
        assert "communities.view_region" in perms
        assert not {"communities.add_region", "communities.change_region"} & perms
        assert {"communities.view_settlement", "communities.change_settlement"} <= perms
        assert "communities.add_settlement" not in perms
        assert not {p for p in perms if p.endswith("_areascope")}
        assert not {p for p in perms if p.startswith("auth.")}


@pytest.mark.parametrize("role", [Role.COUNTY_OFFICIAL, Role.PREFECTURE_OFFICIAL])
class TestOfficials:
    def test_only_view_and_export(self, groups, role):
        perms = perms_of(role)
        actions = {p.split(".", 1)[1].split("_", 1)[0] for p in perms}
        assert actions == {"view", "export"}
        assert {
            "communities.view_household",
            "communities.view_person",
            "communities.export_household",
            "communities.export_person",
        } <= perms

    def test_every_view_of_the_data_apps_except_admin_only_models(self, groups, role):
        admin_only = {f"view_{model}" for model in ADMIN_ONLY_MODELS}
        views = {
            p
            for p in data_perms()
            if p.split(".", 1)[1].startswith("view_") and p != SENSITIVE_PERMISSION
        }
        expected = {p for p in views if p.split(".", 1)[1] not in admin_only}
        assert perms_of(role) >= expected
        assert "communities.view_region" in expected
        assert "communities.view_areascope" not in perms_of(role)

    def test_no_sensitive_data(self, groups, role):
        assert SENSITIVE_PERMISSION not in perms_of(role)

    def test_nothing_outside_the_data_apps(self, groups, role):
        assert {p.split(".", 1)[0] for p in perms_of(role)} <= set(DATA_APPS)


class TestAdministrator:
    def test_everything_of_the_data_apps_and_user_admin(self, groups):
        expected = data_perms() | {
            "auth.view_user",
            "auth.add_user",
            "auth.change_user",
            "auth.delete_user",
            "auth.view_group",
        }
        # and the dashboards' programme views (layouts, no personal data)
        expected |= {
            f"dashboards.{action}_{model}"
            for action in ("view", "add", "change", "delete")
            for model in ("programmeview", "programmetheme", "programmeitem")
        }
        assert perms_of(Role.ADMINISTRATOR) == expected

    def test_includes_imports_deletes_and_sensitive_data(self, groups):
        perms = perms_of(Role.ADMINISTRATOR)
        assert {
            "communities.import_household",
            "communities.import_person",
            "communities.delete_person",
            "communities.add_areascope",
            SENSITIVE_PERMISSION,
        } <= perms

    def test_cannot_edit_groups(self, groups):
        # Roles are kept by ensure_role_groups(), not edited by hand.
        assert "auth.change_group" not in perms_of(Role.ADMINISTRATOR)


def test_no_role_has_history_permissions(groups):
    historical = data_perms(historical=True)
    assert "communities.view_historicalperson" in historical
    for role in Role:
        assert not perms_of(role) & historical, role


class TestRoleOf:
    def test_each_role(self, make_user):
        for role in Role:
            assert role_of(make_user(role=role)) == role

    def test_no_group(self, make_user):
        assert role_of(make_user()) is None

    def test_widest_role_wins(self, make_user):
        user = make_user(role=Role.COMMUNITY_WORKER)
        user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.PREFECTURE_OFFICIAL]))
        assert role_of(user) == Role.PREFECTURE_OFFICIAL
        user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.COUNTY_OFFICIAL]))
        assert role_of(user) == Role.PREFECTURE_OFFICIAL

    def test_other_groups_are_ignored(self, make_user):
        user = make_user()
        user.groups.add(Group.objects.create(name="档案室"))
        assert role_of(user) is None

    def test_role_group_grants_permissions_to_the_user(self, make_user):
        worker = make_user(role=Role.COMMUNITY_WORKER)
        official = make_user(role=Role.COUNTY_OFFICIAL)
        assert worker.has_perm("communities.add_person")
        assert worker.has_perm(SENSITIVE_PERMISSION)
        assert official.has_perm("communities.view_person")
        assert not official.has_perm("communities.add_person")
        assert not official.has_perm(SENSITIVE_PERMISSION)


class TestUserFixtures:
    """The shared conftest fixtures other modules build on."""

    def test_make_user_gives_role_scope_and_extra_permissions(self, make_user, region_tree, client):
        settlement = SettlementFactory(county=region_tree.xingren)
        user = make_user(
            Role.COUNTY_OFFICIAL,
            regions=[region_tree.xingyi, "520201"],
            settlements=[settlement],
            perms=["communities.import_person"],
        )
        assert user.is_staff and user.is_active and not user.is_superuser
        assert role_of(user) == Role.COUNTY_OFFICIAL
        scope = get_scope(user)
        assert scope.region_prefixes == ("520201", "522301")
        assert scope.settlement_ids == (settlement.pk,)
        assert user.has_perm("communities.import_person")
        assert not user.has_perm("communities.import_household")
        assert client.login(username=user.username, password=user.plain_password)

    def test_superuser(self, superuser, client):
        assert superuser.is_superuser and superuser.is_staff
        assert role_of(superuser) is None
        assert client.login(username="admin", password=superuser.plain_password)
