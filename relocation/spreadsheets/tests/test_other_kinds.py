"""Settlements, buildings, grids, employers, employment records and household income."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from communities.models import Building, GridUnit, Settlement
from employment import enums
from employment.models import Employer, EmploymentRecord, HouseholdIncome
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.workbooks import export_csv, export_xlsx

from .helpers import csv_bytes, import_file, upload

pytestmark = pytest.mark.django_db


def headers(kind):
    return [str(c.header) for c in get_kind(kind).columns if not c.export_only]


def test_settlements_buildings_grids_create_then_round_trip(world):
    settlement = {
        "安置点编码": "AZD522301009",
        "安置点名称": "新城安置点",
        "所在县代码": "522301",
        "所在乡镇代码": "522301002",
        "安置方式": "城镇集中安置",
        "占地面积（亩）": "401",
        "建筑面积（㎡）": "480000.5",
    }
    job = import_file(world.admin, "settlement", csv_bytes(headers("settlement"), [settlement]))
    assert job.state == "committed", job.errors
    s = Settlement.objects.get(code="AZD522301009")
    assert (s.county_id, s.township_id, s.floor_area_m2) == (
        "522301",
        "522301002",
        Decimal("480000.50"),
    )
    buildings = [{"安置点编码": s.code, "楼栋": f"{n}栋", "层数": "18"} for n in (1, 2)]
    job = import_file(world.admin, "building", csv_bytes(headers("building"), buildings))
    assert job.state == "committed", job.errors
    grid = {"安置点编码": s.code, "网格名称": "第1网格", "包含楼栋": "1栋、2栋"}
    job = import_file(world.admin, "grid", csv_bytes(headers("grid"), [grid]))
    assert job.state == "committed", job.errors
    assert set(GridUnit.objects.get(settlement=s).buildings.values_list("name", flat=True)) == {
        "1栋",
        "2栋",
    }
    for kind in ("settlement", "building", "grid"):
        again = upload(world.admin, kind, export_xlsx(get_kind(kind), world.admin), "x.xlsx")
        assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0), kind
    assert Building.objects.filter(settlement=s).count() == 2


def test_a_grids_buildings_export_in_counting_order(world):
    """包含楼栋 lists 2栋 before 10栋 (communities.ordering), as the lists do."""
    for n in (10, 2):  # 1栋 is the world's
        Building.objects.create(settlement=world.a, name=f"{n}栋", units=2, floors=6)
    grid = {"安置点编码": world.a.code, "网格名称": "第2网格", "包含楼栋": "10栋、2栋、1栋"}
    job = import_file(world.admin, "grid", csv_bytes(headers("grid"), [grid]))
    assert job.state == "committed", job.errors
    rows = list(
        csv.reader(io.StringIO(export_csv(get_kind("grid"), world.admin).decode("utf-8-sig")))
    )
    name, buildings = rows[0].index("网格名称"), rows[0].index("包含楼栋")
    (row,) = [r for r in rows[1:] if r[name] == "第2网格"]
    assert row[buildings] == "1栋、2栋、10栋"


def test_settlement_outside_scope(world, make_user):
    from communities.roles import Role

    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])
    rows = [
        {"安置点编码": "NEW1", "安置点名称": "外县", "所在县代码": "520201"},
        {"安置点编码": world.c.code, "安置点名称": "改名", "所在县代码": "522301"},
    ]
    job = upload(manager, "settlement", csv_bytes(headers("settlement"), rows))
    errors = {(e[0], e[1]): e[2] for e in job.errors}
    assert "不在您的管辖范围" in errors[(2, "所在县代码")]
    assert "管辖范围以外" in errors[(3, "安置点编码")]
    world.c.refresh_from_db()
    assert world.c.name == "德坞新区"


def test_employers_employment_and_income(world):
    employer = {
        "单位名称": "阳光帮扶车间",
        "类型": "帮扶车间",
        "登记县代码": "522301",
        "服务安置点编码": world.a.code,
        "相对安置点位置": "安置点内",
        "联系电话": "0859-3221234",
    }
    job = import_file(world.admin, "employer", csv_bytes(headers("employer"), [employer]))
    assert job.state == "committed", job.errors
    head = world.heads["a"]
    jobs = [
        {
            "身份证号": head.id_number,
            "姓名": head.name,
            "就业类型": "务工",
            "用工主体": "阳光帮扶车间",
            "就业地点": "县内",
            "月收入（元）": "2800",
            "开始日期": "2024-03-01",
        },
        {
            "身份证号": head.id_number,
            "姓名": head.name,
            "就业类型": "公益性岗位",
            "就业地点": "县内",
            "开始日期": "2024/6/1",
        },
    ]
    job = upload(world.admin, "employment", csv_bytes(headers("employment"), jobs))
    assert job.state == "invalid"
    assert any("重叠" in e[2] for e in job.errors), job.errors
    jobs[1]["开始日期"], jobs[0]["结束日期"] = "2024-06-01", "2024-05-31"
    job = import_file(world.admin, "employment", csv_bytes(headers("employment"), jobs))
    assert job.state == "committed", job.errors
    record = EmploymentRecord.objects.get(person=head, kind=enums.EmploymentKind.WAGE)
    assert record.employer.name == "阳光帮扶车间" and record.monthly_income == Decimal("2800")
    income = {
        "户编号": world.households["a"].number,
        "年度": "2024",
        "工资性收入": "36000",
        "转移性收入": "4200",
        "生产经营费用支出": "200",
    }
    job = import_file(world.admin, "income", csv_bytes(headers("income"), [income]))
    assert job.state == "committed", job.errors
    saved = HouseholdIncome.objects.get()
    assert saved.household_size == 3  # from the members when left blank
    assert saved.net_income == Decimal("40000.00")
    assert saved.per_capita_net == Decimal("13333.33")
    for kind in ("employer", "employment", "income"):
        again = upload(world.admin, kind, export_csv(get_kind(kind), world.admin), "x.csv")
        assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0), kind
    assert Employer.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "place", "stored_kind", "stored_place"),
    [
        ("个体经营", "县内务工", "self_employed", "in_county"),
        ("打零工", "州内县外", "flexible", "in_province"),
        ("务工", "省外务工", "wage", "out_of_province"),
        ("种植", "县内", "farming", "in_county"),
    ],
)
def test_counties_words_for_employment_kinds_and_places(
    world, kind, place, stored_kind, stored_place
):
    head = world.heads["a"]
    row = {
        "身份证号": head.id_number,
        "姓名": head.name,
        "就业类型": kind,
        "就业地点": place,
        "开始日期": "2024年3月",
    }
    job = import_file(world.admin, "employment", csv_bytes(headers("employment"), [row]))
    assert job.state == "committed", job.errors
    record = EmploymentRecord.objects.get(person=head)
    assert (record.kind, record.place) == (stored_kind, stored_place)
    assert record.start_date == datetime.date(2024, 3, 1)


@pytest.fixture
def manager_a(world, make_user):
    from communities.roles import Role

    return make_user(Role.ADMINISTRATOR, settlements=[world.a])


def test_income_duplicates_and_unknown_household(world, manager_a):
    number = world.households["a"].number
    rows = [
        {"户编号": number, "年度": "2024", "工资性收入": "100"},
        {"户编号": number, "年度": "2024", "工资性收入": "200"},
        {"户编号": "NOPE", "年度": "2024"},
        {"户编号": world.households["c"].number, "年度": "2024"},
    ]
    job = upload(manager_a, "income", csv_bytes(headers("income"), rows))
    errors = {(e[0], e[1]): e[2] for e in job.errors}
    assert errors[(2, "年度")] == "户编号和年度与第3行重复。"
    assert errors[(3, "年度")] == "户编号和年度与第2行重复。"
    assert errors[(4, "户编号")] == errors[(5, "户编号")].replace(
        world.households["c"].number, "NOPE"
    )


def test_employment_unknown_person_reveals_nothing(world, manager_a):
    other = world.heads["c"]
    rows = [
        {
            "身份证号": other.id_number,
            "就业类型": "务工",
            "就业地点": "县内",
            "开始日期": datetime.date(2024, 1, 1).isoformat(),
        }
    ]
    job = upload(manager_a, "employment", csv_bytes(headers("employment"), rows))
    assert job.errors == [
        [2, "身份证号", "该身份证号未在您管辖范围内登记为搬迁人员，请先导入花名册。"]
    ]


def test_employment_id_number_that_cannot_be_anybodys_says_why(world, manager_a):
    """A mistyped ID number is named as one (the check digit), not as an unregistered
    person, and nothing is saved."""
    person = world.heads["a"]
    wrong = person.id_number[:17] + ("0" if person.id_number[17] != "0" else "1")
    rows = [
        {
            "身份证号": wrong,
            "就业类型": "务工",
            "就业地点": "县内",
            "开始日期": datetime.date(2024, 1, 1).isoformat(),
        }
    ]
    before = EmploymentRecord.objects.count()
    job = upload(manager_a, "employment", csv_bytes(headers("employment"), rows))
    assert job.errors == [
        [2, "身份证号", "身份证号有误（校验码不符），请对照身份证逐位核对后重新填写。"]
    ]
    assert job.state != "committed"
    assert EmploymentRecord.objects.count() == before
