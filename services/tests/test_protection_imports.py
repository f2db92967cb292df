"""待遇记录 and 权益落实情况 files: dry run with cell errors, all or nothing, scope, masking."""

import datetime

import pytest
from django.utils import timezone

from communities import enums as cenums
from communities.models import Region
from communities.roles import Role
from communities.tests.conftest import world  # noqa: F401
from communities.tests.factories import PersonFactory
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file, upload
from relocation.spreadsheets.workbooks import export_csv, export_xlsx
from services.models import (
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightSide,
    RightsItem,
    RightState,
)

pytestmark = pytest.mark.django_db


def headers(kind):
    return [str(c.header) for c in get_kind(kind).columns if not c.export_only]


def errors_of(job):
    return {(e[0], e[1]): e[2] for e in job.errors}


@pytest.fixture
def importer(world, make_user):  # noqa: F811
    """An administrator of 兴义市 (A and B), who may see personal data."""
    return make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])


@pytest.fixture
def checklist(world):  # noqa: F811
    yunnan = Region.objects.create(code="530000", name="云南省", level=cenums.RegionLevel.PROVINCE)
    origin = RightsCategory.objects.create(
        province=world.regions.guizhou, name="迁出地权益", side=RightSide.ORIGIN
    )
    RightsItem.objects.create(category=origin, name="承包地")
    RightsItem.objects.create(category=origin, name="林地")
    RightsItem.objects.create(
        category=RightsCategory.objects.create(
            province=yunnan, name="云南权益", side=RightSide.ORIGIN
        ),
        name="宅基地复垦",
    )


def benefit_row(person, kind, start, end="", amount=""):
    return {
        "身份证号": person.id_number,
        "姓名": person.name,
        "待遇类型": kind,
        "开始日期": start,
        "停止日期": end,
        "月发放金额（元）": amount,
    }


def test_benefit_file_bad_rows_name_row_and_column_and_save_nothing(world, importer):  # noqa: F811
    head_a, head_b, head_c = (world.heads[k] for k in "abc")
    BenefitRecord.objects.create(
        person=head_b, kind=BenefitKind.PENSION, start_date=datetime.date(2024, 1, 1)
    )
    rows = [
        benefit_row(head_a, "城市低保", "2025-03-01", amount="650"),  # fine
        benefit_row(head_a, "基本养老保险", "2025-03-01", "2025-02-01"),  # ends before it starts
        benefit_row(head_c, "农村低保", "2025-01-01"),  # another county: not revealed
        benefit_row(head_b, "基本养老保险", "2024-06-01"),  # overlaps the stored record
        benefit_row(head_a, "低保户", "2025-01-01"),  # not a choice
        benefit_row(head_a, "特困供养", "2025-01-01", amount="-1"),
    ]
    before = BenefitRecord.objects.count()
    job = upload(importer, "benefit_records", csv_bytes(headers("benefit_records"), rows))
    errors = errors_of(job)
    assert errors[(3, "停止日期")] == "停止日期不能早于开始日期。"
    assert "未在您管辖范围内登记" in errors[(4, "身份证号")]
    assert "重叠" in errors[(5, "开始日期")]
    assert "“低保户”不是可选值" in errors[(6, "待遇类型")]
    assert "不能为负数" in errors[(7, "月发放金额（元）")]
    assert (2, "身份证号") not in errors
    # The message for C is the one a person who is not registered at all gets.
    missing = benefit_row(head_a, "农村低保", "2025-01-01")
    missing["身份证号"] = "522301199001011236"
    other = upload(importer, "benefit_records", csv_bytes(headers("benefit_records"), [missing]))
    assert errors_of(other)[(2, "身份证号")] == errors[(4, "身份证号")]
    # A number that cannot be anybody's says so, rather than "not registered".
    missing["身份证号"] = "522301199001011234"
    wrong = upload(importer, "benefit_records", csv_bytes(headers("benefit_records"), [missing]))
    assert "校验码不符" in errors_of(wrong)[(2, "身份证号")]
    assert job.state != "committed" and BenefitRecord.objects.count() == before
    head_a.refresh_from_db()
    assert head_a.dibao == ""


def test_benefit_file_commits_and_keeps_the_fields_in_step(world, importer):  # noqa: F811
    head_a = world.heads["a"]
    today = timezone.localdate()
    rows = [
        benefit_row(
            head_a, "农村低保", "2023-01-01", (today - datetime.timedelta(days=1)).isoformat()
        ),
        benefit_row(head_a, "城市低保", today.isoformat()),
        benefit_row(head_a, "基本医疗保险", "2020-01-01", "2024-12-31"),
    ]
    job = import_file(importer, "benefit_records", csv_bytes(headers("benefit_records"), rows))
    assert job.state == "committed", job.errors
    head_a.refresh_from_db()
    assert (head_a.dibao, head_a.medical_insurance) == ("urban", False)
    assert BenefitRecord.history.filter(person_id=head_a.pk).count() == 3
    # The export reads back as the same file: nothing new, nothing changed.
    again = upload(
        importer, "benefit_records", export_xlsx(get_kind("benefit_records"), importer), "x.xlsx"
    )
    assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0)


def test_disability_rows_need_the_health_permission(world, make_user):  # noqa: F811
    disabled = PersonFactory(
        household=world.households["a"],
        name="残疾A",
        health=cenums.Health.DISABLED,
        disability_grade=2,
    )
    BenefitRecord.objects.create(
        person=disabled, kind=BenefitKind.DISABILITY_CARE, start_date=datetime.date(2024, 1, 1)
    )
    BenefitRecord.objects.create(
        person=world.heads["a"], kind=BenefitKind.DIBAO_URBAN, start_date=datetime.date(2024, 1, 1)
    )
    clerk = make_user(
        regions=[world.regions.xingyi],
        perms=["services.import_benefitrecord", "services.export_benefitrecord"],
    )
    rows = [benefit_row(disabled, "困难残疾人生活补贴", "2025-01-01")]
    job = upload(clerk, "benefit_records", csv_bytes(headers("benefit_records"), rows))
    assert "涉及健康信息" in errors_of(job)[(2, "待遇类型")]
    assert BenefitRecord.objects.filter(person=disabled).count() == 1
    text = export_csv(get_kind("benefit_records"), clerk).decode("utf-8-sig")
    assert "城市低保" in text
    assert "残疾" not in text
    assert world.heads["a"].id_number not in text  # masked for this user


def test_rights_file(world, importer, checklist):  # noqa: F811
    today = timezone.localdate().isoformat()
    ha, hc = world.households["a"], world.households["c"]
    base = {"权益类别": "迁出地权益", "落实情况": "已落实", "核实日期": today}
    rows = [
        {**base, "户编号": ha.number, "权益事项": "承包地"},
        {**base, "户编号": ha.number, "权益类别": "云南权益", "权益事项": "宅基地复垦"},
        {**base, "户编号": hc.number, "权益事项": "承包地"},  # another county
        {**base, "户编号": ha.number, "权益事项": "林地", "核实日期": "2999-01-01"},
        {**base, "户编号": ha.number, "权益事项": "承包地"},  # the same key twice
    ]
    job = upload(importer, "household_rights", csv_bytes(headers("household_rights"), rows))
    errors = errors_of(job)
    assert "没有“云南权益·宅基地复垦”" in errors[(3, "权益事项")]
    assert "不存在或不在您的管辖范围内" in errors[(4, "户编号")]
    assert errors[(5, "核实日期")] == "核实日期不能晚于今天。"
    assert any(e[0] in (2, 6) and e[1] == "权益事项" for e in job.errors), job.errors
    assert not HouseholdRight.objects.exists()
    good = [
        {**base, "户编号": ha.number, "权益事项": "承包地"},
        {**base, "户编号": ha.number, "权益事项": "林地", "落实情况": "不适用"},
    ]
    job = import_file(importer, "household_rights", csv_bytes(headers("household_rights"), good))
    assert job.state == "committed", job.errors
    assert dict(HouseholdRight.objects.filter(household=ha).values_list("item__name", "state")) == {
        "承包地": RightState.SECURED,
        "林地": RightState.NOT_APPLICABLE,
    }
    again = upload(
        importer, "household_rights", export_xlsx(get_kind("household_rights"), importer), "x.xlsx"
    )
    assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0)
