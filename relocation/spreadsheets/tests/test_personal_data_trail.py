"""Imports leave no clear ID number or phone in the history; exports are read-audited."""

import datetime

import pytest
from django.urls import reverse

from communities.models import Household, Person
from communities.read_audit import ReadAuditEntry
from communities.tests.test_history_pii import clear_copies, live_values
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.workbooks import export_csv

from .helpers import ROSTER_HEADERS, csv_bytes, import_file, person_row

pytestmark = pytest.mark.django_db


def test_import_commit_new_and_updated_rows(world):
    rows = [
        person_row("T001", world.a.code, name="户主甲", sex="M", seq=11, 联系电话="13811112222"),
        person_row(
            "T001",
            world.a.code,
            relationship="子",
            name="成员",
            seq=12,
            birth=datetime.date(2005, 3, 1),
        ),
    ]
    for row in rows:
        row["户联系电话"] = "13833334444"
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "县花名册.csv")
    assert job.state == "committed", job.errors or job.failure
    assert Person.objects.filter(household__number="T001").count() == 2
    assert Household.objects.get(number="T001").phone == "13833334444"
    # An update through the import: a new phone for an existing person.
    head = world.heads["a"]
    old_phone = head.phone
    content = (
        export_csv(get_kind("roster"), world.admin)
        .decode("utf-8-sig")
        .replace(old_phone, "13955556666")
        .encode("utf-8")
    )
    job = import_file(world.admin, "roster", content)
    assert job.state == "committed", job.errors or job.failure
    head.refresh_from_db()
    assert head.phone == "13955556666"
    values = live_values() | {old_phone}
    assert {"13811112222", "13833334444"} <= values
    assert clear_copies(values) == []


def test_employer_import_and_export_audit(client, world):
    from employment.models import Employer

    header = [str(c.header) for c in get_kind("employer").columns]
    employer = {
        "单位名称": "阳光帮扶车间",
        "类型": "帮扶车间",
        "登记县代码": "522301",
        "服务安置点编码": world.a.code,
        "相对安置点位置": "安置点内",
        "联系电话": "0859-3221234",
    }
    job = import_file(world.admin, "employer", csv_bytes(header, [employer]))
    assert job.state == "committed", job.errors
    assert clear_copies({"0859-3221234"}) == []
    saved = Employer.objects.get()
    client.force_login(world.admin)
    response = client.post(
        reverse("admin:employment_employer_export"), {"format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    assert "0859-3221234" in response.content.decode("utf-8-sig")
    row = ReadAuditEntry.objects.get()
    assert (row.content_type.model, row.object_id, row.field) == (
        "employer",
        str(saved.pk),
        "contact_phone",
    )
    assert row.region_code == "522301" and row.channel == "export"


def test_employment_ledger_export_audits_the_person(client, world):
    from employment.models import EmploymentRecord

    head = world.heads["a"]
    EmploymentRecord.objects.create(
        person=head,
        kind="wage",
        place="county",
        employer_name="某厂",
        start_date=datetime.date(2024, 3, 1),
    )
    client.force_login(world.worker)
    response = client.post(
        reverse("admin:employment_employmentrecord_export"), {"format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    assert head.id_number in response.content.decode("utf-8-sig")
    got = {
        (e.content_type.model, e.object_id, e.field, e.settlement_id)
        for e in ReadAuditEntry.objects.all()
    }
    assert got == {("person", str(head.pk), "id_number", world.a.pk)}


def test_employer_page_audits_the_contact_phone(client, world, make_user):
    from communities.roles import Role
    from employment.models import Employer

    employer = Employer.objects.create(
        name="阳光帮扶车间",
        kind="workshop",
        county=world.regions.xingyi,
        location="in_settlement",
        contact_phone="0859-3221234",
    )
    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])
    client.force_login(manager)
    page = client.get(reverse("admin:employment_employer_change", args=[employer.pk]))
    assert page.status_code == 200 and "0859-3221234" in page.content.decode()
    row = ReadAuditEntry.objects.get()
    assert (row.field, row.object_id, row.region_code, row.channel) == (
        "contact_phone",
        str(employer.pk),
        "522301",
        "page",
    )
    other = make_user(Role.ADMINISTRATOR, regions=[world.regions.zhongshan])
    assert not ReadAuditEntry.objects.visible_to(other).exists()
    assert ReadAuditEntry.objects.visible_to(manager).get() == row
