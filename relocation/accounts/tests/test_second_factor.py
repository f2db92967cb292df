"""Optional TOTP second factor (django-otp), required per role by a superuser."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities.roles import GROUP_NAMES, Role
from relocation.accounts.enums import SignInResult
from relocation.accounts.models import SecondFactorRole, SignInEvent

pytestmark = pytest.mark.django_db


def code_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_code(device):
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


@pytest.fixture
def officials_need_codes(db):
    group = Group.objects.get(name=GROUP_NAMES[Role.COUNTY_OFFICIAL])
    return SecondFactorRole.objects.create(group=group)


def test_only_superusers_decide_which_roles_need_codes(client, superuser, xingyi_admin):
    url = reverse("admin:accounts_secondfactorrole_add")
    client.force_login(xingyi_admin)
    assert client.get(url).status_code == 403
    group = Group.objects.get(name=GROUP_NAMES[Role.COUNTY_OFFICIAL])
    assert client.post(url, {"group": group.pk}).status_code == 403
    assert not SecondFactorRole.objects.exists()
    client.force_login(superuser)
    assert client.post(url, {"group": group.pk}).status_code == 302
    assert SecondFactorRole.objects.get().group == group


def test_enrolment_then_code_at_every_sign_in(
    client, sign_in, xingyi_official, officials_need_codes
):
    response = sign_in(client, xingyi_official.username, xingyi_official.plain_password)
    assert response.status_code == 302
    # Every page leads to enrolment until a device is bound.
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_enrol"))
    enrol = client.get(response["Location"])
    body = enrol.content.decode()
    assert "<svg" in body and "<path" in body  # the QR code, drawn on the server
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)  # no inline script
    assert not re.search(r"\son[a-z]+=", enrol.content.decode().split("</header>")[-1])
    device = TOTPDevice.objects.get(user=xingyi_official, confirmed=False)
    assert device.key and enrol.context["secret"]
    response = client.post(reverse("accounts:otp_enrol"), {"token": wrong_code(device)})
    assert response.status_code == 200
    assert "动态验证码不正确" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
    # django-otp makes each retry after a wrong code wait (1 s, 2 s, 4 s …): skip the wait.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = client.post(
        reverse("accounts:otp_enrol"), {"token": code_for(device), "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed

    # Next sign-in: the password alone is not enough.
    client.post(reverse("admin:logout"))
    sign_in(client, xingyi_official.username, xingyi_official.plain_password)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    # … and enrolment cannot be used to bind another phone.
    response = client.get(reverse("accounts:otp_enrol"))
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert TOTPDevice.objects.filter(user=xingyi_official).count() == 1
    response = client.post(reverse("accounts:otp_verify"), {"token": wrong_code(device)})
    assert "动态验证码不正确" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    response = client.post(reverse("accounts:otp_verify"), {"token": code_for(device)})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    results = list(
        SignInEvent.objects.filter(user=xingyi_official)
        .order_by("pk")
        .values_list("result", flat=True)
    )
    assert results == [
        SignInResult.SIGNED_IN,
        SignInResult.SECOND_FACTOR_FAILED,
        SignInResult.SECOND_FACTOR_OK,
        SignInResult.SIGNED_OUT,
        SignInResult.SIGNED_IN,
        SignInResult.SECOND_FACTOR_FAILED,
        SignInResult.SECOND_FACTOR_OK,
    ]


@pytest.mark.parametrize("token", ["12345", "abcdef", "1234567"])
def test_malformed_codes_get_a_chinese_error(client, xingyi_official, officials_need_codes, token):
    client.force_login(xingyi_official)
    response = client.post(reverse("accounts:otp_enrol"), {"token": token})
    body = response.content.decode()
    assert "6 位数字" in body or "确保该值" in body
    assert not TOTPDevice.objects.filter(user=xingyi_official, confirmed=True).exists()


def test_repeated_wrong_codes_are_throttled(client, xingyi_official, officials_need_codes):
    device = TOTPDevice.objects.create(user=xingyi_official, name="phone", confirmed=True)
    client.force_login(xingyi_official)
    for _ in range(3):
        client.post(reverse("accounts:otp_verify"), {"token": wrong_code(device)})
    response = client.post(reverse("accounts:otp_verify"), {"token": code_for(device)})
    assert "请稍候再试" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_other_roles_are_not_asked(client, sign_in, xingyi_admin, officials_need_codes):
    sign_in(client, xingyi_admin.username, xingyi_admin.plain_password)
    assert client.get(reverse("admin:index")).status_code == 200


def test_administrator_resets_a_lost_phone(
    client, xingyi_admin, xingyi_official, zhongshan_official, officials_need_codes
):
    mine = TOTPDevice.objects.create(user=xingyi_official, name="phone", confirmed=True)
    theirs = TOTPDevice.objects.create(user=zhongshan_official, name="phone", confirmed=True)
    client.force_login(xingyi_admin)
    client.post(
        reverse("admin:auth_user_changelist"),
        {
            "action": "reset_second_factor",
            "_selected_action": [xingyi_official.pk, zhongshan_official.pk],
        },
    )
    assert not TOTPDevice.objects.filter(pk=mine.pk).exists()
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


def test_a_new_requirement_reaches_signed_in_users_within_a_minute(
    client, monkeypatch, xingyi_official
):
    from relocation.accounts import middleware

    now = [1_800_000_000]
    monkeypatch.setattr(middleware, "clock", lambda: now[0])
    client.force_login(xingyi_official)
    assert client.get(reverse("admin:index")).status_code == 200
    group = Group.objects.get(name=GROUP_NAMES[Role.COUNTY_OFFICIAL])
    SecondFactorRole.objects.create(group=group)
    now[0] += 61
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_enrol"))
