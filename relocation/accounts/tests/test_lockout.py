"""Lockout by user name (django-axes): 5 failures lock for 15 minutes."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from relocation.accounts.enums import SignInResult
from relocation.accounts.models import SignInEvent

pytestmark = pytest.mark.django_db


def signed_in(client):
    return client.get(reverse("admin:index")).status_code == 200


def fail(client, sign_in, user, times, address="10.1.1.1"):
    for n in range(1, times + 1):
        response = sign_in(client, user.username, "Wrong-password-1", address)
        if n < settings.AXES_FAILURE_LIMIT:
            assert "用户名或密码不正确" in response.content.decode()
        else:
            assert response.status_code == 429


def test_settings_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]


def test_four_failures_still_let_the_right_password_in(client, sign_in, xingyi_official):
    fail(client, sign_in, xingyi_official, 4)
    assert (
        sign_in(client, xingyi_official.username, xingyi_official.plain_password).status_code == 302
    )
    assert signed_in(client)
    assert not AccessAttempt.objects.filter(username=xingyi_official.username).exists()


def test_fifth_failure_locks_and_the_right_password_is_refused(client, sign_in, xingyi_official):
    fail(client, sign_in, xingyi_official, 4)
    locking = sign_in(client, xingyi_official.username, "Wrong-password-1")
    assert locking.status_code == 429
    response = sign_in(client, xingyi_official.username, xingyi_official.plain_password)
    assert response.status_code == 429
    body = response.content.decode()
    assert "该账号因连续登录失败已被锁定，将于" in body and "自动解锁" in body
    attempt = AccessAttempt.objects.get(username=xingyi_official.username)
    from django.utils import timezone

    unlock = timezone.localtime(attempt.attempt_time + timedelta(minutes=15))
    assert unlock.strftime("%Y-%m-%d %H:%M") in body
    assert not signed_in(client)


def test_lockout_is_by_user_name_not_by_address(
    client, sign_in, xingyi_official, zhongshan_official
):
    # Five addresses cannot get more tries …
    for n in range(5):
        sign_in(client, xingyi_official.username, "Wrong-password-1", f"10.0.0.{n + 1}")
    response = sign_in(client, xingyi_official.username, xingyi_official.plain_password, "10.9.9.9")
    assert response.status_code == 429
    # … and a colleague in the same office (same address) still signs in.
    response = sign_in(client, zhongshan_official.username, zhongshan_official.plain_password)
    assert response.status_code == 302


def test_lock_ends_after_fifteen_minutes(client, sign_in, xingyi_official):
    fail(client, sign_in, xingyi_official, 5)
    AccessAttempt.objects.filter(username=xingyi_official.username).update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=14)
    )
    assert (
        sign_in(client, xingyi_official.username, xingyi_official.plain_password).status_code == 429
    )
    AccessAttempt.objects.filter(username=xingyi_official.username).update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=2)
    )
    assert (
        sign_in(client, xingyi_official.username, xingyi_official.plain_password).status_code == 302
    )


@override_settings(AXES_FAILURE_LIMIT=2)
def test_failure_limit_is_configurable(client, sign_in, xingyi_official):
    fail(client, sign_in, xingyi_official, 1)
    assert sign_in(client, xingyi_official.username, "Wrong-password-1").status_code == 429


def test_administrator_unlocks_users_in_their_area_only(
    client, sign_in, xingyi_admin, xingyi_official, zhongshan_official
):
    fail(client, sign_in, xingyi_official, 5)
    fail(client, sign_in, zhongshan_official, 5)
    admin_client = type(client)()
    admin_client.force_login(xingyi_admin)
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {
            "action": "unlock_sign_in",
            "_selected_action": [xingyi_official.pk, zhongshan_official.pk],
        },
    )
    assert response.status_code == 302
    assert (
        sign_in(client, xingyi_official.username, xingyi_official.plain_password).status_code == 302
    )
    refused = sign_in(client, zhongshan_official.username, zhongshan_official.plain_password)
    assert refused.status_code == 429
    unlocked = SignInEvent.objects.get(result=SignInResult.UNLOCKED)
    assert (unlocked.user, unlocked.actor) == (xingyi_official, xingyi_admin)


def test_unknown_user_names_lock_too_without_saying_so_differently(client, sign_in):
    bodies = [sign_in(client, "nobody", "Wrong-password-1").content.decode() for _ in range(4)]
    assert all("用户名或密码不正确" in b for b in bodies)
    assert sign_in(client, "nobody", "Wrong-password-1").status_code == 429
