"""A user's name is written as people write it: 罗文军, not Django's "文军 罗"."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from relocation.accounts.names import display_name, name_and_username


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("文军", "罗", "罗文军"),
        ("𬌗", "𠮷", "𠮷𬌗"),  # both beyond the Basic Multilingual Plane
        ("文军", "", "文军"),
        ("", "欧阳", "欧阳"),
        (" 晓燕 ", " 吴", "吴晓燕"),
        ("Wenjun", "Luo", "Wenjun Luo"),
        ("Anna", "", "Anna"),
        ("", "", "xy_user"),
    ],
)
def test_display_name(first, last, expected):
    assert display_name(User(username="xy_user", first_name=first, last_name=last)) == expected


def test_display_name_of_nobody_is_empty():
    assert display_name(None) == ""


def test_name_and_username_names_the_account_beside_the_person():
    assert name_and_username(User(username="manager", first_name="晓燕", last_name="吴")) == (
        "吴晓燕（manager）"
    )
    assert name_and_username(User(username="manager")) == "manager"
    assert name_and_username(None) == ""


@pytest.mark.django_db
def test_pages_greet_the_official_by_the_chinese_name(client, xingyi_official):
    xingyi_official.first_name, xingyi_official.last_name = "文军", "罗"
    xingyi_official.save()
    client.force_login(xingyi_official)
    body = client.get(reverse("admin:index")).content.decode()
    # Set off from the links beside it as they are from each other.
    assert "欢迎，<strong>罗文军</strong> /" in body
    assert "文军 罗" not in body and "<strong>文军</strong>" not in body
    english = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Welcome, <strong>罗文军</strong> /" in english


@pytest.mark.django_db
def test_the_greeting_escapes_the_name(client, xingyi_official):
    xingyi_official.first_name = "<b>x</b>"
    xingyi_official.save()
    client.force_login(xingyi_official)
    body = client.get(reverse("admin:index")).content.decode()
    assert "<strong>&lt;b&gt;x&lt;/b&gt;</strong>" in body
