"""30 minutes without a request end the session; each request extends it (fake clock)."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from relocation.accounts import middleware
from relocation.accounts.enums import SignInResult
from relocation.accounts.models import SignInEvent

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self, start=1_800_000_000):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, minutes):
        self.now += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(middleware, "clock", fake)
    return fake


def page(client):
    return client.get(reverse("admin:index"))


def test_default_is_thirty_minutes():
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60


def test_activity_extends_the_session(client, clock, xingyi_official):
    client.force_login(xingyi_official)
    assert page(client).status_code == 200
    for _ in range(4):  # two hours in all, never 30 minutes idle
        clock.advance(29)
        assert page(client).status_code == 200


def test_thirty_minutes_idle_end_the_session(client, clock, xingyi_official):
    client.force_login(xingyi_official)
    assert page(client).status_code == 200
    clock.advance(31)
    response = page(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # Signed out for good: the next request is anonymous too, and says why.
    clock.advance(1)
    login_page = client.get(response["Location"])
    assert "为保护数据已自动退出" in login_page.content.decode()
    assert page(client).status_code == 302
    assert SignInEvent.objects.filter(
        user=xingyi_official, result=SignInResult.IDLE_TIMEOUT
    ).exists()


def test_exactly_at_the_limit_is_still_active(client, clock, xingyi_official):
    client.force_login(xingyi_official)
    page(client)
    clock.advance(30)
    assert page(client).status_code == 200


@override_settings(SESSION_IDLE_TIMEOUT=5 * 60)
def test_timeout_is_a_setting(client, clock, xingyi_official):
    client.force_login(xingyi_official)
    page(client)
    clock.advance(6)
    assert page(client).status_code == 302
