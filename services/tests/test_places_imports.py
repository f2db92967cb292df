"""服务设施, 社区活动, 评选表彰 and 资金项目 files: templates, round trips, scope and bad rows.

The importing users are administrators (only they import) of 兴义市 or of the
whole province; ``places_world`` gives the settlements and records.
"""

import io

import pytest
from openpyxl import load_workbook

from communities.roles import Role
from communities.tests.dates import tomorrow
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file, upload
from relocation.spreadsheets.workbooks import export_csv, export_xlsx, template_workbook
from services.models import Activity, Facility, FacilityKind, FundedProject, Honour

from .places_world import places_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def headers(kind):
    return [str(c.header) for c in get_kind(kind).columns if not c.export_only]


def errors_of(job):
    return {(e[0], e[1]): e[2] for e in job.errors}


@pytest.fixture
def county_admin(places_world, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[places_world.rt.xingyi])


@pytest.fixture
def province_admin(places_world, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[places_world.rt.guizhou])


def test_facilities_import_with_served_settlements_and_round_trip(places_world, county_admin):
    w = places_world
    row = {
        "安置点编码": w.s1.code,
        "设施种类": "警务室",
        "设施名称": "一号警务室",
        "同时服务的安置点": w.s2.code,
        "医务人员数": "0",
        "启用日期": "2024-05-01",
    }
    job = import_file(county_admin, "facility", csv_bytes(headers("facility"), [row]))
    assert job.state == "committed", job.errors
    facility = Facility.objects.get(name="一号警务室")
    assert (facility.kind.code, facility.state) == ("police_room", "in_use")
    assert set(facility.also_serves.all()) == {w.s2}
    assert facility.history.first().history_user == county_admin
    # What the county exports re-imports unchanged …
    again = upload(
        county_admin, "facility", export_xlsx(get_kind("facility"), county_admin), "x.xlsx"
    )
    assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0)
    # … and a file that drops the served settlement changes only that.
    job = import_file(
        county_admin, "facility", csv_bytes(headers("facility"), [{**row, "同时服务的安置点": ""}])
    )
    assert job.state == "committed" and job.updated_rows == 1, job.errors
    assert list(facility.also_serves.all()) == []


def test_facility_export_stays_in_scope(places_world, county_admin):
    body = export_csv(get_kind("facility"), county_admin).decode("utf-8-sig")
    assert places_world.s1.code in body
    assert places_world.s3.code not in body  # 钟山区
    assert "三号小学" not in body


def test_bad_facility_rows_name_row_and_column_and_save_nothing(places_world, county_admin):
    w = places_world
    before = Facility.objects.count()
    rows = [
        {"安置点编码": w.s1.code, "设施种类": "卫生室/医疗机构", "设施名称": "新卫生室"},  # good
        {"安置点编码": w.s3.code, "设施种类": "小学", "设施名称": "外县小学"},
        {"安置点编码": w.s1.code, "设施种类": "游泳馆", "设施名称": "游泳馆"},
        {"安置点编码": w.s1.code, "设施种类": "幼儿园", "设施名称": "新幼儿园", "教师数": "-2"},
        {
            "安置点编码": w.s2.code,
            "设施种类": "小学",
            "设施名称": "二号小学",
            "同时服务的安置点": w.s3.code,
        },
    ]
    job = upload(county_admin, "facility", csv_bytes(headers("facility"), rows))
    errors = errors_of(job)
    assert "不存在或不在您的管辖范围内" in errors[(3, "安置点编码")]
    assert "不是可选值" in errors[(4, "设施种类")]
    assert "不能为负数" in errors[(5, "教师数")]
    assert "不存在或不在您的管辖范围内" in errors[(6, "同时服务的安置点")]
    assert job.state != "committed"
    assert Facility.objects.count() == before


def test_facility_of_one_county_serving_another_county_is_refused(places_world, province_admin):
    w = places_world
    row = {
        "安置点编码": w.s1.code,
        "设施种类": "小学",
        "设施名称": "一号小学",
        "同时服务的安置点": f"{w.s2.code}、{w.s3.code}",
    }
    job = upload(province_admin, "facility", csv_bytes(headers("facility"), [row]))
    assert errors_of(job)[(2, "同时服务的安置点")] == (
        "“三号安置点”不在所在安置点的县（市、区），设施不能跨县服务。"
    )
    assert not Facility.objects.filter(name="一号小学").exists()


def test_template_lists_the_kinds_an_administrator_added(places_world):
    FacilityKind.objects.create(code="bath", name="公共浴室", order=900)
    FacilityKind.objects.create(code="old", name="已停用种类", order=901, active=False)
    book = load_workbook(io.BytesIO(template_workbook(get_kind("facility"))))
    options = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert "公共浴室" in options and "党群服务中心" in options
    assert "已停用种类" not in options


def test_activities_import_and_bad_rows(places_world, county_admin):
    w = places_world
    good = {
        "安置点编码": w.s1.code,
        "活动种类": "普法教育",
        "活动名称": "宪法宣传日",
        "活动日期": "2026-05-04",
        "参与人次": "80",
    }
    rows = [
        good,
        {**good, "活动名称": "明天的活动", "活动日期": tomorrow().isoformat()},
        {**good, "活动名称": "负数", "参与人次": "-3"},
        {**good, "安置点编码": w.s3.code, "活动名称": "外县"},
        {**good, "活动种类": "不存在的活动"},
    ]
    before = Activity.objects.count()
    job = upload(county_admin, "activity", csv_bytes(headers("activity"), rows))
    errors = errors_of(job)
    assert "活动日期不能晚于今天" in errors[(3, "活动日期")]
    assert "不能为负数" in errors[(4, "参与人次")]
    assert "不存在或不在您的管辖范围内" in errors[(5, "安置点编码")]
    assert "不是可选值" in errors[(6, "活动种类")]
    assert Activity.objects.count() == before
    job = import_file(county_admin, "activity", csv_bytes(headers("activity"), [good]))
    assert job.state == "committed", job.errors
    assert Activity.objects.get(title="宪法宣传日").participants == 80
    # The same activity again updates it.
    job = import_file(
        county_admin, "activity", csv_bytes(headers("activity"), [{**good, "参与人次": "95"}])
    )
    assert job.updated_rows == 1 and Activity.objects.get(title="宪法宣传日").participants == 95
    body = export_csv(get_kind("activity"), county_admin).decode("utf-8-sig")
    assert "宪法宣传日" in body and "广场舞" not in body  # 广场舞 is 钟山区's


def test_funded_projects_import_and_bad_rows(places_world, county_admin):
    w = places_world
    good = {
        "安置点编码": w.s2.code,
        "项目名称/用途": "车间建设",
        "金额（万元）": "120.5",
        "资金来源": "东西部协作",
        "资金年度": "2026",
        "下达日期": "2026-03-15",
    }
    rows = [
        good,
        {**good, "项目名称/用途": "负数", "金额（万元）": "-1"},
        {**good, "项目名称/用途": "来源", "资金来源": "外资"},
        {**good, "项目名称/用途": "未来", "下达日期": tomorrow().isoformat()},
    ]
    before = FundedProject.objects.count()
    job = upload(county_admin, "fundedproject", csv_bytes(headers("fundedproject"), rows))
    errors = errors_of(job)
    assert "金额不能为负数" in errors[(3, "金额（万元）")]
    assert "不是可选值" in errors[(4, "资金来源")]
    assert "下达日期不能晚于今天" in errors[(5, "下达日期")]
    assert FundedProject.objects.count() == before
    job = import_file(county_admin, "fundedproject", csv_bytes(headers("fundedproject"), [good]))
    assert job.state == "committed", job.errors
    project = FundedProject.objects.get(purpose="车间建设")
    assert (str(project.amount), project.source, project.state) == (
        "120.50",
        "east_west",
        "planned",
    )


def test_honours_import_and_bad_rows(places_world, county_admin, make_user):
    w = places_world
    member = w.h2.members.get()
    good = {"户编号": w.h1.number, "表彰种类": "最美家庭", "表彰日期": "2026-02-01"}
    rows = [
        good,
        {
            "户编号": w.h1.number,
            "身份证号": member.id_number,
            "表彰种类": "身边好人",
            "表彰日期": "2026-02-01",
        },
        {"户编号": w.h3.number, "表彰种类": "文明家庭", "表彰日期": "2026-02-01"},
        {**good, "表彰种类": "勤劳致富模范户", "表彰日期": tomorrow().isoformat()},
    ]
    before = Honour.objects.count()
    job = upload(county_admin, "honour", csv_bytes(headers("honour"), rows))
    errors = errors_of(job)
    assert errors[(3, "身份证号")] == "该身份证号不是此户的成员。"
    assert "不存在或不在您的管辖范围内" in errors[(4, "户编号")]
    assert "表彰日期不能晚于今天" in errors[(5, "表彰日期")]
    assert Honour.objects.count() == before
    person_row = {**rows[1], "户编号": w.h2.number}
    job = import_file(county_admin, "honour", csv_bytes(headers("honour"), [good, person_row]))
    assert job.state == "committed", job.errors
    assert Honour.objects.get(household=w.h2, kind__code="good_person", awarded_on__year=2026)
    # The export masks ID numbers for a user without the personal-data permission.
    official = make_user(Role.COUNTY_OFFICIAL, regions=[w.rt.xingyi])
    body = export_csv(get_kind("honour"), official).decode("utf-8-sig")
    assert w.h2.number in body
    assert member.id_number not in body and w.h3.number not in body
