"""Issue 9 item 6: a province's 防返贫监测线 is reference data, not a county's to edit.

It is written by superusers and the administrators of that whole province; everyone
else reads it.  (Regions: communities/tests/test_reference_data_writes.py.)
"""

# ruff: noqa: F811  (the fixtures below are parameters of the tests)
from decimal import Decimal

import pytest
from django.urls import reverse

from communities.roles import Role
from communities.tests.test_reference_data_writes import (  # noqa: F401  (fixtures)
    beijing,
    manager,
    province_admin,
)
from employment.models import MonitoringLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(region_tree):
    return MonitoringLine.objects.create(
        province=region_tree.guizhou, year=2025, amount=Decimal("8000"), source="省文件"
    )


def line_url(action, *args):
    return reverse(f"admin:employment_monitoringline_{action}", args=args)


def line_post(line, **changes):
    data = {
        "province": line.province_id,
        "year": line.year,
        "amount": str(line.amount),
        "source": line.source,
    }
    data.update(changes)
    return data


def test_county_admin_reads_but_cannot_write_the_monitoring_line(client, manager, line):
    client.force_login(manager)
    page = client.get(line_url("change", line.pk))
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()
    assert client.post(line_url("change", line.pk), line_post(line, amount="1")).status_code == 403
    assert client.get(line_url("delete", line.pk)).status_code == 403
    assert client.post(line_url("delete", line.pk), {"post": "yes"}).status_code == 403
    assert client.get(line_url("add")).status_code == 403
    response = client.post(line_url("add"), line_post(line, year=2026))
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.amount == Decimal("8000")
    assert MonitoringLine.objects.count() == 1


def test_prefecture_admin_cannot_write_the_monitoring_line(client, region_tree, make_user, line):
    client.force_login(make_user(Role.ADMINISTRATOR, regions=[region_tree.qianxinan]))
    assert client.post(line_url("change", line.pk), line_post(line, amount="1")).status_code == 403
    assert client.post(line_url("delete", line.pk), {"post": "yes"}).status_code == 403
    line.refresh_from_db()
    assert line.amount == Decimal("8000")


def test_province_admin_writes_own_province_line_only(client, province_admin, line, beijing):
    client.force_login(province_admin)
    response = client.post(line_url("change", line.pk), line_post(line, amount="8100"))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("8100")
    beijing_line = MonitoringLine.objects.create(
        province=beijing[0], year=2025, amount=Decimal("9000")
    )
    response = client.post(line_url("change", beijing_line.pk), line_post(beijing_line, amount="1"))
    assert response.status_code == 403
    assert client.post(line_url("delete", beijing_line.pk), {"post": "yes"}).status_code == 403
    # Adding a line for another province is refused with a form error.
    response = client.post(line_url("add"), line_post(beijing_line, year=2026))
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not MonitoringLine.objects.filter(year=2026).exists()
    beijing_line.refresh_from_db()
    assert beijing_line.amount == Decimal("9000")


def test_superuser_deletes_a_monitoring_line(client, superuser, line):
    client.force_login(superuser)
    assert client.post(line_url("delete", line.pk), {"post": "yes"}).status_code == 302
    assert not MonitoringLine.objects.exists()
