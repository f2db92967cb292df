"""Work lists show the phone to call: in clear and read-audited for a worker who may see
personal data, masked (and not audited) for everyone else."""

import pytest
from django.urls import reverse

from communities.masking import may_view_sensitive
from communities.read_audit import AuditChannel, ReadAuditEntry
from communities.roles import SENSITIVE_PERMISSION, Role

pytestmark = pytest.mark.django_db

PERSON_LIST = reverse("admin:communities_person_changelist")
HOUSEHOLD_LIST = reverse("admin:communities_household_changelist")


def rows(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def audited(**filters):
    return set(
        ReadAuditEntry.objects.filter(**filters).values_list(
            "content_type__model", "object_id", "field", "channel", "path"
        )
    )


def test_worker_sees_the_members_phone_and_the_view_is_audited(client, world, jobs):
    head_a = world.heads["a"]  # 户主A, phone 18600000001 (world)
    assert may_view_sensitive(world.worker)
    client.force_login(world.worker)
    response = client.get(PERSON_LIST, {"employment": "labour"})
    assert response.status_code == 200
    assert head_a.pk in rows(response)
    body = response.content.decode()
    assert "联系电话" in body
    assert f'<td class="field-phone">{head_a.phone}</td>' in body
    with_phone = {p.pk for p in response.context["cl"].result_list if p.phone}
    assert head_a.pk in with_phone
    # One audit row per listed person whose phone was shown, nobody else.
    assert audited(field="phone") == {
        ("person", str(pk), "phone", AuditChannel.LIST, PERSON_LIST) for pk in with_phone
    }


def test_worker_without_the_permission_sees_it_masked_and_nothing_is_audited(client, world, jobs):
    client.force_login(world.worker_nopii)
    response = client.get(PERSON_LIST, {"employment": "labour"})
    assert world.heads["a"].pk in rows(response)
    body = response.content.decode()
    assert "18600000001" not in body
    assert '<td class="field-phone_masked">186****0001</td>' in body
    assert not ReadAuditEntry.objects.exists()


def test_official_sees_the_household_phone_masked(client, world, jobs):
    """A county official (no permission) on the zero-employment list: the number is masked."""
    household_b = world.households["b"]  # 零就业家庭 (conftest), phone 13900000002
    assert not may_view_sensitive(world.county)
    client.force_login(world.county)
    response = client.get(HOUSEHOLD_LIST, {"employment": "zero_employment"})
    assert household_b.pk in rows(response)
    body = response.content.decode()
    assert "13900000002" not in body
    assert '<td class="field-phone_masked">139****0002</td>' in body
    assert not ReadAuditEntry.objects.exists()


def test_permitted_official_sees_the_household_phone_and_it_is_audited(
    client, world, jobs, make_user
):
    official = make_user(
        Role.COUNTY_OFFICIAL, regions=[world.regions.xingyi], perms=[SENSITIVE_PERMISSION]
    )
    household_b = world.households["b"]
    client.force_login(official)
    response = client.get(HOUSEHOLD_LIST, {"employment": "zero_employment"})
    listed = rows(response)
    assert household_b.pk in listed
    assert '<td class="field-phone">13900000002</td>' in response.content.decode()
    entry = ReadAuditEntry.objects.get(object_id=str(household_b.pk), field="phone")
    assert (entry.user_id, entry.channel, entry.settlement_id) == (
        official.pk,
        AuditChannel.LIST,
        world.b.pk,
    )
    assert {e[1] for e in audited(field="phone")} <= {str(pk) for pk in listed}


def test_the_work_list_page_leads_to_lists_with_the_phone(client, world, jobs):
    client.force_login(world.worker)
    page = client.get(reverse("worklists"))
    # The lists of households and people (a 监测对象 or 诉求 list has no phone column).
    urls = [
        row["url"]
        for row in page.context["rows"]
        if row.get("url", "").startswith(
            ("/admin/communities/household/", "/admin/communities/person/")
        )
    ]
    assert len(urls) == 6
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert "phone" in response.context["cl"].list_display, url
