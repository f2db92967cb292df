"""Sign-in hardening in a real browser: the user form in Chinese, lockout, authenticator binding.

Screenshots go to ``artifacts/screenshots/`` (signin-*.png).
"""

import re

from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from communities.roles import GROUP_NAMES, Role
from relocation.accounts.models import SecondFactorRole
from tests.browser.conftest import login, shot


def test_user_form_filter_widget_is_chinese(transactional_db, live_server, world, page):
    login(page, live_server, world.admin)
    page.goto(f"{live_server.url}/admin/auth/user/{world.county.pk}/change/")
    groups = page.locator(".selector").first
    expect(groups).to_contain_text("在左框中选中组，再点击“选择”箭头按钮。")
    expect(groups).to_contain_text("在右框中选中组，再点击“删除”箭头按钮。")
    expect(page.locator(".selector-chooseall").first).to_have_text("选择全部组")
    text = page.locator("#content-main").inner_text()
    assert "by selecting them" not in text and "Choose all" not in text
    # django-otp's device admin (English, shows secret keys) is not offered.
    assert "TOTP" not in page.locator("#nav-sidebar").inner_text()
    shot(page, "signin-01-user-form")


def test_lockout_page_says_until_when(transactional_db, live_server, world, page):
    for _ in range(5):
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.get_by_label("用户名").fill(world.county.username)
        page.get_by_label("密码").fill("Wrong-password-1")
        page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("用户名").fill(world.county.username)
    page.get_by_label("密码").fill(world.county.plain_password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".errornote")).to_contain_text(
        re.compile(r"已被锁定，将于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 自动解锁")
    )
    shot(page, "signin-02-locked")


def test_binding_an_authenticator(transactional_db, live_server, world, page):
    group = Group.objects.get(name=GROUP_NAMES[Role.COUNTY_OFFICIAL])
    SecondFactorRole.objects.create(group=group)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("用户名").fill(world.county.username)
    page.get_by_label("密码").fill(world.county.plain_password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/enrol/"))
    qr = page.locator(".qr-code svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["height"] >= 200
    shot(page, "signin-03-enrol")
    device = TOTPDevice.objects.get(user=world.county)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    page.get_by_label("动态验证码").fill(code)
    page.get_by_role("button", name="绑定并登录").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    expect(page.locator("#content h1")).to_have_text("工作台")


def test_forbidden_page_is_chinese(transactional_db, live_server, world, page):
    login(page, live_server, world.county)
    response = page.goto(f"{live_server.url}/admin/communities/household/add/")
    assert response.status == 403
    expect(page.locator("#content h1")).to_have_text("没有权限")
    shot(page, "signin-04-forbidden")
