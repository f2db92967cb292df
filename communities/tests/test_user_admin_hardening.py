"""Issue 9 item 7 and the user form: area-less users, staff status, password policy.

A user with no area lies "inside" every administrator's scope; only the
administrator who created them (and superusers) may see or change them.  Users
created in the admin can sign in (they are staff), and passwords set there obey
the policy (length ≥ 10, three character classes, Django's validators).
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from communities.admin_users import manageable_users
from communities.models import AreaScope
from communities.roles import Role
from relocation.accounts.models import UserCreator

pytestmark = pytest.mark.django_db
User = get_user_model()
STRONG = "Xin-mima-2025"


@pytest.fixture
def xingyi_admin(region_tree, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[region_tree.xingyi], username="xy_admin")


@pytest.fixture
def zhongshan_admin(region_tree, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[region_tree.zhongshan], username="zs_admin")


def add_user(client, username, password=STRONG, password2=None):
    return client.post(
        reverse("admin:auth_user_add"),
        {
            "username": username,
            "usable_password": "true",
            "password1": password,
            "password2": password if password2 is None else password2,
        },
    )


def test_area_less_user_made_elsewhere_is_invisible_to_county_admins(
    client, xingyi_admin, make_user
):
    orphan = make_user(username="no_area_user")  # e.g. made by a superuser or a script
    client.force_login(xingyi_admin)
    assert "no_area_user" not in client.get(reverse("admin:auth_user_changelist")).content.decode()
    change = reverse("admin:auth_user_change", args=[orphan.pk])
    assert client.get(change).status_code == 404
    password = reverse("admin:auth_user_password_change", args=[orphan.pk])
    assert client.get(password).status_code == 404
    response = client.post(password, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 404
    orphan.refresh_from_db()
    assert orphan.check_password(orphan.plain_password)
    # Pulling them into the county is refused too.
    response = client.post(
        change,
        {
            "username": orphan.username,
            "is_active": "on",
            "area_scopes-TOTAL_FORMS": "1",
            "area_scopes-INITIAL_FORMS": "0",
            "area_scopes-MIN_NUM_FORMS": "0",
            "area_scopes-MAX_NUM_FORMS": "1000",
            "area_scopes-0-region": "522301",
        },
    )
    assert response.status_code == 404
    assert not AreaScope.objects.filter(user=orphan).exists()


def test_creator_alone_sees_their_new_area_less_user(
    client, xingyi_admin, zhongshan_admin, superuser
):
    client.force_login(xingyi_admin)
    assert add_user(client, "new_worker").status_code == 302
    new = User.objects.get(username="new_worker")
    assert UserCreator.objects.get(user=new).created_by == xingyi_admin
    assert client.get(reverse("admin:auth_user_change", args=[new.pk])).status_code == 200
    assert new in manageable_users(xingyi_admin)
    assert new not in manageable_users(zhongshan_admin)
    client.force_login(zhongshan_admin)
    assert client.get(reverse("admin:auth_user_change", args=[new.pk])).status_code == 404
    assert "new_worker" not in client.get(reverse("admin:auth_user_changelist")).content.decode()
    client.force_login(superuser)
    assert client.get(reverse("admin:auth_user_change", args=[new.pk])).status_code == 200


def test_once_given_an_area_the_user_follows_the_area_rule(
    region_tree, xingyi_admin, zhongshan_admin, make_user
):
    user = make_user(username="later_xingyi")
    UserCreator.objects.create(user=user, created_by=zhongshan_admin)
    assert user in manageable_users(zhongshan_admin)
    AreaScope.objects.create(user=user, region=region_tree.xingyi)
    assert user in manageable_users(xingyi_admin)
    assert user not in manageable_users(zhongshan_admin)


def test_admin_without_area_sees_only_self_and_own_creations(make_user):
    lonely = make_user(Role.ADMINISTRATOR, username="lonely")
    mine = make_user(username="mine")
    UserCreator.objects.create(user=mine, created_by=lonely)
    make_user(username="theirs")
    assert set(manageable_users(lonely)) == {lonely, mine}


def test_new_user_is_staff_and_can_sign_in(client, xingyi_admin):
    client.force_login(xingyi_admin)
    assert add_user(client, "fresh").status_code == 302
    fresh = User.objects.get(username="fresh")
    assert fresh.is_staff and fresh.is_active
    client.logout()
    response = client.post(
        reverse("admin:login"), {"username": "fresh", "password": STRONG, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_scoped_admin_is_not_offered_the_staff_flag(client, region_tree, xingyi_admin, make_user):
    target = make_user(regions=[region_tree.xingyi], username="target", is_staff=False)
    client.force_login(xingyi_admin)
    form = client.get(reverse("admin:auth_user_change", args=[target.pk])).context["adminform"]
    assert "is_staff" not in form.form.fields
    response = client.post(
        reverse("admin:auth_user_change", args=[target.pk]),
        {
            "username": "target",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
            "area_scopes-TOTAL_FORMS": "0",
            "area_scopes-INITIAL_FORMS": "0",
            "area_scopes-MIN_NUM_FORMS": "0",
            "area_scopes-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_staff  # saving repairs an account that could not sign in


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1-xyz", "密码长度太短。密码必须包含至少 10 个字符。"),
        ("abcdefghijkl", "密码至少要包含以下四类字符中的 3 类"),
        ("abcdef123456", "密码至少要包含以下四类字符中的 3 类"),
        ("1234567890123", "密码不能全是数字。"),
    ],
)
def test_weak_passwords_are_refused_when_an_admin_adds_a_user(
    client, xingyi_admin, password, message
):
    client.force_login(xingyi_admin)
    response = add_user(client, "weak_one", password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="weak_one").exists()


def test_weak_password_refused_on_the_change_password_form(
    client, region_tree, xingyi_admin, make_user
):
    target = make_user(regions=[region_tree.xingyi], username="pw_target")
    client.force_login(xingyi_admin)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    response = client.post(url, {"password1": "abcdefghijk", "password2": "abcdefghijk"})
    assert response.status_code == 200
    assert "密码至少要包含以下四类字符中的 3 类" in response.content.decode()
    target.refresh_from_db()
    assert target.check_password(target.plain_password)
    response = client.post(url, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(STRONG)


def test_own_password_change_obeys_the_policy(client, xingyi_admin):
    client.force_login(xingyi_admin)
    url = reverse("admin:password_change")
    data = {
        "old_password": xingyi_admin.plain_password,
        "new_password1": "password12",
        "new_password2": "password12",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "密码至少要包含以下四类字符中的 3 类" in body
    xingyi_admin.refresh_from_db()
    assert xingyi_admin.check_password(xingyi_admin.plain_password)


def test_user_list_can_unlock_and_reset_second_factor_only_in_scope(
    client, region_tree, xingyi_admin
):
    changelist = client.get(reverse("admin:auth_user_changelist"))
    assert changelist.status_code == 302  # not signed in yet
    client.force_login(xingyi_admin)
    body = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "unlock_sign_in" in body and "reset_second_factor" in body
