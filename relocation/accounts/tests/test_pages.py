"""The 403 page and the admin's own strings are Chinese."""

import html
import json
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from communities.models import Household
from communities.tests.factories import HouseholdFactory, SettlementFactory

pytestmark = pytest.mark.django_db


def test_forbidden_page_is_chinese(client, xingyi_official):
    client.force_login(xingyi_official)  # a read-only official
    response = client.get(reverse("admin:communities_household_add"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "没有权限" in body and "请联系本级系统管理员" in body
    assert "403 Forbidden" not in body


def test_filter_widget_strings_are_chinese(client, xingyi_admin):
    client.force_login(xingyi_admin)
    catalog = client.get(reverse("admin:jsi18n")).content.decode()
    for english in (
        'Choose %s by selecting them and then select the \\"Choose\\" arrow button.',
        "Choose all %s",
        "Remove selected %s",
    ):
        assert f'"{english}": "' in catalog, english
    assert json.dumps("在左框中选中%s，再点击“选择”箭头按钮。")[1:-1] in catalog


def test_user_add_form_has_no_english_left(client, xingyi_admin):
    client.force_login(xingyi_admin)
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "x", "password1": "Ab1-x", "password2": "Ab1-x"},
    )
    body = response.content.decode()
    for english in ("Error:", "This password is too short", "After you", "Change or view"):
        assert english not in body, english
    assert "密码长度太短。密码必须包含至少 10 个字符。" in body
    assert "创建用户后，即可编辑角色、管辖范围等更多选项。" in body


def test_user_add_form_asks_the_name_and_offers_no_account_without_password(client, xingyi_admin):
    """This product signs in with passwords only: Django's 「基于密码的验证：禁用」 made
    accounts that could never sign in.  The rules speak to whoever sets the password."""
    client.force_login(xingyi_admin)
    page = client.get(reverse("admin:auth_user_add")).content.decode()
    assert 'name="usable_password"' not in page and "基于密码的验证" not in page
    assert 'name="last_name"' in page and 'name="first_name"' in page
    assert "你的密码" not in page and "密码至少需要 10 个字符。" in page
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "luowenjun",
            "last_name": "罗",
            "first_name": "文军",
            "password1": "Qianxi-2026-pass",
            "password2": "Qianxi-2026-pass",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    user = User.objects.get(username="luowenjun")
    assert (user.last_name, user.first_name, user.has_usable_password()) == ("罗", "文军", True)
    assert user.check_password("Qianxi-2026-pass") and user.is_staff


def test_csrf_failure_page_is_chinese(xingyi_official):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("admin:login"),
        {"username": xingyi_official.username, "password": xingyi_official.plain_password},
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "请求未被接受" in body and "刷新后重新提交" in body
    assert "CSRF verification failed" not in body


def test_list_and_form_titles_are_in_chinese_word_order(client, xingyi_admin, region_tree):
    settlement = SettlementFactory(county=region_tree.xingyi)
    HouseholdFactory.create_batch(3, settlement=settlement)
    client.force_login(xingyi_admin)
    listing = client.get(reverse("admin:communities_household_changelist")).content.decode()
    assert "<h1>搬迁户列表</h1>" in listing and "<title>搬迁户列表 |" in listing
    assert "按入住状态" in listing
    count = Household.objects.visible_to(xingyi_admin).count()
    assert count == 3
    assert f"共 {count} 条" in listing  # the footer, not 「1 搬迁户」
    english = client.get(
        reverse("admin:communities_household_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert f"{count} records" in english
    for django_order in ("选择 搬迁户 来修改", "以 入住状态", "增加 搬迁户", "删除所选的 搬迁户"):
        assert django_order not in listing, django_order
    assert "增加搬迁户" in listing  # the button above the list
    assert "删除所选搬迁户" in listing  # the action
    adding = client.get(reverse("admin:communities_household_add")).content.decode()
    assert "<h1>增加搬迁户</h1>" in adding
    members = re.search(r'id="members-group".*?data-inline-formset="([^"]*)"', adding, re.S)
    assert json.loads(html.unescape(members[1]))["options"]["addText"] == "添加另一个家庭成员"


def test_read_only_list_title_is_the_same(client, xingyi_official):
    client.force_login(xingyi_official)  # may view households, not change them
    listing = client.get(reverse("admin:communities_household_changelist")).content.decode()
    assert "<h1>搬迁户列表</h1>" in listing and "选择搬迁户查看" not in listing
