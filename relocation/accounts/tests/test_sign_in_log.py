"""Every sign-in, failure, lockout and sign-out is logged, readable by area administrators."""

import pytest
from django.urls import reverse

from relocation.accounts.enums import SignInResult
from relocation.accounts.models import SignInEvent

pytestmark = pytest.mark.django_db


def results(user):
    return list(
        SignInEvent.objects.filter(user=user).order_by("pk").values_list("result", flat=True)
    )


def test_sign_in_failure_sign_out_and_lockout_are_logged(client, sign_in, xingyi_official):
    sign_in(client, xingyi_official.username, "Wrong-password-1", "10.2.3.4")
    sign_in(client, xingyi_official.username, xingyi_official.plain_password, "10.2.3.5")
    client.post(reverse("admin:logout"), REMOTE_ADDR="10.2.3.5")
    for _ in range(5):
        sign_in(client, xingyi_official.username, "Wrong-password-1", "10.2.3.6")
    sign_in(client, xingyi_official.username, xingyi_official.plain_password, "10.2.3.7")
    assert results(xingyi_official) == [
        SignInResult.FAILED,
        SignInResult.SIGNED_IN,
        SignInResult.SIGNED_OUT,
        *[SignInResult.FAILED] * 5,
        SignInResult.LOCKED_OUT,
        SignInResult.REFUSED_LOCKED,
    ]
    rows = SignInEvent.objects.filter(user=xingyi_official).order_by("pk")
    assert [r.ip_address for r in rows[:3]] == ["10.2.3.4", "10.2.3.5", "10.2.3.5"]
    assert all(r.username == xingyi_official.username and r.at for r in rows)


def test_unknown_user_name_failures_are_logged_without_a_user(client, sign_in):
    sign_in(client, "nobody", "Wrong-password-1", "10.2.3.4")
    row = SignInEvent.objects.get()
    assert (row.user, row.username, row.result) == (None, "nobody", SignInResult.FAILED)


def test_non_staff_and_inactive_accounts_get_a_true_message(client, sign_in, make_user):
    not_staff = make_user(username="not_staff", is_staff=False)
    response = sign_in(client, "not_staff", not_staff.plain_password)
    assert "该账号没有登录本系统的权限，请联系管理员。" in response.content.decode()
    inactive = make_user(username="gone", is_active=False)
    response = sign_in(client, "gone", inactive.plain_password)
    assert "该账号已停用，请联系管理员。" in response.content.decode()
    # With a wrong password nothing is revealed about the account.
    response = sign_in(client, "gone", "Wrong-password-1")
    body = response.content.decode()
    assert "用户名或密码不正确" in body and "停用" not in body
    assert results(not_staff) == [SignInResult.REFUSED_INACTIVE]
    # Django's check fails first (a failure), then the true reason is logged.
    assert results(inactive) == [
        SignInResult.FAILED,
        SignInResult.REFUSED_INACTIVE,
        SignInResult.FAILED,
    ]
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.fixture
def events(xingyi_official, zhongshan_official):
    return {
        "xingyi": SignInEvent.objects.create(
            user=xingyi_official, username=xingyi_official.username, result=SignInResult.SIGNED_IN
        ),
        "zhongshan": SignInEvent.objects.create(
            user=zhongshan_official,
            username=zhongshan_official.username,
            result=SignInResult.FAILED,
        ),
        "unknown": SignInEvent.objects.create(username="nobody", result=SignInResult.FAILED),
    }


def test_log_admin_is_scoped(client, xingyi_admin, events, superuser):
    client.force_login(xingyi_admin)
    changelist = reverse("admin:accounts_signinevent_changelist")
    response = client.get(changelist)
    assert response.status_code == 200
    shown = set(response.context["cl"].result_list)
    assert events["xingyi"] in shown
    assert events["zhongshan"] not in shown and events["unknown"] not in shown
    for key in ("zhongshan", "unknown"):
        url = reverse("admin:accounts_signinevent_change", args=[events[key].pk])
        assert client.get(url).status_code == 404
    client.force_login(superuser)
    shown = set(client.get(changelist).context["cl"].result_list)
    assert {events["xingyi"], events["zhongshan"], events["unknown"]} <= shown


def test_log_cannot_be_edited_or_deleted(client, xingyi_admin, superuser, events):
    row = events["xingyi"]
    for user in (xingyi_admin, superuser):
        client.force_login(user)
        change = reverse("admin:accounts_signinevent_change", args=[row.pk])
        page = client.get(change)
        assert page.status_code == 200 and 'name="result"' not in page.content.decode()
        response = client.post(change, {"result": SignInResult.FAILED, "username": "x"})
        assert response.status_code == 403
        delete = reverse("admin:accounts_signinevent_delete", args=[row.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:accounts_signinevent_add")).status_code == 403
    row.refresh_from_db()
    assert (row.result, row.username) == (SignInResult.SIGNED_IN, "xy_official")


def test_officials_cannot_read_the_log(client, xingyi_official, events):
    client.force_login(xingyi_official)
    assert client.get(reverse("admin:accounts_signinevent_changelist")).status_code == 403


# --- retention ---------------------------------------------------------------------


def _event(days_ago, username="someone"):
    import datetime

    from django.utils import timezone

    return SignInEvent.objects.create(
        username=username,
        result=SignInResult.FAILED,
        at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def test_purge_signin_log_refuses_less_than_183_days_and_keeps_everything():
    from django.core.management import CommandError, call_command

    _event(400)
    with pytest.raises(CommandError, match="登录日志至少保留183天"):
        call_command("purge_signin_log", "--older-than", "182")
    assert SignInEvent.objects.count() == 1


def test_purge_signin_log_removes_only_older_rows(capsys):
    from django.core.management import call_command

    old = [_event(days) for days in (400, 301)]
    kept = [_event(days) for days in (0, 182, 299)]
    call_command("purge_signin_log", "--older-than", "300")
    assert set(SignInEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert not SignInEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert "已删除2条早于300天的登录日志。" in capsys.readouterr().out
