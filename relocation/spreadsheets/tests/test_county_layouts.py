"""Counties' own files: a title above the column names, other names for columns,
total rows and months without their day."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from communities.models import Household, Person
from communities.roles import Role
from employment.models import EmploymentRecord, HouseholdIncome
from relocation.spreadsheets.columns import HEADER_ALIASES, find_header_row, headers_for_matching
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.models import ImportJob
from relocation.spreadsheets.reading import clean_header

from .helpers import ROSTER_HEADERS, csv_bytes, import_file, person_row, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


# The names a county's roster often uses instead of ours.
COUNTY_NAMES = {"户编号": "户号", "身份证号": "公民身份号码", "与户主关系": "与户主的关系"}


def county_workbook(rows, title="兴义市易地扶贫搬迁安置户花名册（2025年12月）"):
    """A roster as a county keeps it: a merged title, a note, then the column names."""
    headers = [COUNTY_NAMES.get(h, h) for h in ROSTER_HEADERS]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append(["填报单位：兴义市易地扶贫搬迁后续扶持工作领导小组办公室"])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in ROSTER_HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_aliases_point_at_real_columns():
    chinese = {
        str(c.header)
        for kind in ("roster", "employment", "income", "employer")
        for c in get_kind(kind).columns
    }
    assert set(HEADER_ALIASES.values()) <= chinese
    mapping = headers_for_matching(get_kind("roster").columns)
    assert mapping["公民身份号码"].key == "id_number"
    assert mapping["手机号码"].key == "phone"  # the person's phone, not the household's


def test_title_rows_above_the_headers_are_skipped(world):
    rows = [
        person_row("T001", world.a.code, name="户主甲", sex="M", seq=1),
        person_row("T001", world.a.code, relationship="子", name="儿子", sex="M", seq=2),
    ]
    job = upload(world.admin, "roster", county_workbook(rows), "兴义市花名册.xlsx")
    assert job.errors == []
    assert (job.total_rows, job.new_rows) == (2, 2)
    job = upload_and_confirm(world, job)
    assert job.state == "committed"
    assert sorted(
        Person.objects.filter(household__number="T001").values_list("name", flat=True)
    ) == [
        "儿子",
        "户主甲",
    ]


def upload_and_confirm(world, job):
    from relocation.spreadsheets import services

    return services.job_confirm(job, world.admin)


def test_errors_keep_the_row_numbers_of_the_file(client, world):
    bad = person_row("T002", world.a.code, 民族="火星族", seq=3)
    client.force_login(world.admin)
    content = county_workbook([bad])
    job = upload(world.admin, "roster", content, "兴义市花名册.xlsx")
    # Title on row 1, note on row 2, column names on row 3: the person is on row 4.
    assert [(e[0], e[1]) for e in job.errors] == [(4, "民族")]
    assert not Household.objects.filter(number="T002").exists()
    response = client.get(reverse("spreadsheets:errors", args=[ImportJob.objects.latest("pk").pk]))
    data = load_workbook(io.BytesIO(response.content))["数据"]
    column = ROSTER_HEADERS.index("民族") + 1
    assert data.cell(row=3, column=column).value == "民族"
    assert data.cell(row=4, column=column).value == "火星族"
    assert "不是可选值" in data.cell(row=4, column=column).comment.text


def test_missing_column_is_reported_on_the_header_row(world):
    headers = [h for h in ROSTER_HEADERS if h != "与户主关系"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["某县花名册"])
    sheet.append(headers)
    sheet.append([person_row("T003", world.a.code, seq=4).get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload(world.admin, "roster", buffer.getvalue(), "缺列.xlsx")
    assert (2, "与户主关系", "缺少必填列“与户主关系”。请使用下载的模板。") in [
        tuple(e) for e in job.errors
    ]


def test_a_first_line_of_data_is_never_taken_for_headers():
    mapping = headers_for_matching(get_kind("roster").columns)
    headers = ["户编号", "姓名", "身份证号"]
    rows = [(2, ["H1", "户编号", "x"]), (3, ["户编号", "姓名", "身份证号", "民族"])]
    # Row 3 names four known columns, more than the first line's three: it wins.
    assert find_header_row(headers, rows, mapping)[2] == 3
    # When no later row names more known columns, the first line stays the header.
    assert find_header_row(headers, rows[:1], mapping) == (headers, rows[:1], 1)


def test_household_cells_merged_down_the_members_rows(world):
    """户编号 and the other household cells merged over a household's rows, as counties do."""
    members = [
        person_row("M001", world.a.code, name="户主乙", sex="M", seq=11),
        person_row("M001", world.a.code, relationship="配偶", name="妻子", seq=12),
        person_row("M001", world.a.code, relationship="女", name="女儿", seq=13),
    ]
    household_columns = ["户编号", "安置点编码", "楼栋", "网格", "搬迁年度", "搬迁户类别"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["花名册"])
    sheet.append(ROSTER_HEADERS)
    for index, row in enumerate(members):
        sheet.append(
            [
                None if index and header in household_columns else row.get(header)
                for header in ROSTER_HEADERS
            ]
        )
    for header in household_columns:
        column = ROSTER_HEADERS.index(header) + 1
        sheet.merge_cells(start_row=3, start_column=column, end_row=5, end_column=column)
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload(world.admin, "roster", buffer.getvalue(), "合并单元格.xlsx")
    assert job.errors == []
    assert job.new_rows == 3
    upload_and_confirm(world, job)
    household = Household.objects.get(number="M001")
    assert household.members.count() == 3
    assert household.settlement == world.a


HOUSEHOLD_HEADERS = [
    "户编号",
    "安置点编码",
    "楼栋",
    "网格",
    "搬迁年度",
    "搬迁户类别",
    "入住状态",
    "户籍状态",
]


def _unmerged(*households):
    """Rows of households whose household cells are blank below the first row, as Excel
    leaves them when merged cells are unmerged."""
    rows = []
    for members in households:
        for index, row in enumerate(members):
            rows.append(
                {h: ("" if index and h in HOUSEHOLD_HEADERS else v) for h, v in row.items()}
            )
    return rows


def test_household_cells_unmerged_count_for_the_household_above(client, world):
    """户编号 and the household's cells blank below its first row belong to it; the
    preview says which rows were counted so, and the commit writes what it previewed."""
    first = [
        person_row("U001", world.a.code, name="户主丁", sex="M", seq=71),
        person_row("U001", world.a.code, relationship="配偶", name="妻子丁", seq=72),
        person_row("U001", world.a.code, relationship="子", name="儿子丁", sex="M", seq=73),
    ]
    second = [
        person_row("U002", world.b.code, name="户主戊", sex="M", seq=74),
        person_row("U002", world.b.code, relationship="女", name="女儿戊", seq=75),
    ]
    rows = _unmerged(first, second)
    rows[1]["楼栋"] = first[0]["楼栋"]  # a cell written on such a row is kept, and agrees
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ROSTER_HEADERS)
    for row in rows:
        sheet.append([row.get(h) or None for h in ROSTER_HEADERS])
    job = upload(world.admin, "roster", _saved(workbook), "取消合并.xlsx")
    assert (job.errors, job.new_rows) == ([], 5)
    assert (job.changes["filled"], job.changes["filled_rows"]) == (3, [3, 4, 6])
    client.force_login(world.admin)
    page = client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    assert "3 行未填户编号（第 3、4、6 行），已计入其上方最近一个填了户编号的行所在的户" in page
    job = upload_and_confirm(world, job)
    assert job.state == "committed", job.failure
    names = Household.objects.get(number="U001").members.values_list("name", flat=True)
    assert sorted(names) == sorted(["户主丁", "妻子丁", "儿子丁"])
    u002 = Household.objects.get(number="U002")
    assert (u002.settlement, u002.members.count()) == (world.b, 2)
    assert "filled-down" in client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()


def test_unmerged_rows_that_disagree_or_lead_are_errors_and_nothing_is_written(world):
    """Filling from above never hides a mistake: a blank 户编号 before any household, a
    second 户主 taken into the household above, or a household cell written that
    differs from the household's are errors, and nothing is written."""
    head = person_row("U101", world.a.code, name="户主己", sex="M", seq=81)
    wife = person_row("U101", world.a.code, relationship="配偶", name="妻子己", seq=82)
    forgotten = person_row("U102", world.a.code, name="户主庚", sex="M", seq=83)
    rows = _unmerged([head, wife], [head, forgotten])[1:]  # the wife first: nothing above her
    rows[2]["户编号"] = ""  # a new household's head whose number was forgotten
    other = person_row("U103", world.a.code, name="户主辛", sex="M", seq=84)
    son = person_row("U103", world.a.code, relationship="子", name="儿子辛", sex="M", seq=85)
    rows += _unmerged([other, son])
    rows[-1]["搬迁年度"] = "2016"  # written, and not the household's 2018
    before = Person.objects.count()
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "u.csv")
    by_row = {}
    for number, header, message in job.errors:
        by_row.setdefault(number, []).append((header, message))
    assert by_row[2] == [("户编号", "必填，不能为空。"), ("搬迁年度", "必填，不能为空。")]
    assert 4 in by_row and "户主" in by_row[4][0][1]  # a second 户主 in U101
    assert 6 in by_row and "第5行" in by_row[6][0][1]  # 2016 against row 5's 2018
    assert job.state == "invalid" and Person.objects.count() == before


def test_a_kind_without_fill_down_leaves_blank_cells_blank(world):
    """Only the roster fills from above: an income row with a blank 户编号 is an error
    (one household's incomes of two years are two rows, each naming it)."""
    number = world.households["a"].number
    lines = ["年度,户编号,家庭人口(人),工资性收入(元)", f"2025,{number},4,36000", "2024,,4,30000"]
    job = upload(world.admin, "income", "\n".join(lines).encode(), "收入.csv")
    assert [(e[0], e[1]) for e in job.errors] == [(3, "户编号")]
    assert "filled" not in job.changes and not HouseholdIncome.objects.exists()


def test_counties_words_for_choices(world):
    head = person_row("W001", world.a.code, name="户主丙", sex="M", seq=21, 文化程度="文盲")
    wife = person_row(
        "W001", world.a.code, relationship="之妻", name="妻", seq=22, 健康状况="慢性病"
    )
    son = person_row("W001", world.a.code, relationship="长子", name="长子", sex="M", seq=23)
    for row in (head, wife, son):
        row["搬迁户类别"] = "建档立卡户"
        row["低保"] = "农村"
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, [head, wife, son]), "w.xlsx")
    assert job.errors == []
    upload_and_confirm(world, job)
    people = {p.name: p for p in Person.objects.filter(household__number="W001")}
    assert people["妻"].relationship == "spouse" and people["妻"].health == "chronic"
    assert people["长子"].relationship == "son"
    assert people["户主丙"].education == "illiterate" and people["户主丙"].dibao == "rural"
    assert Household.objects.get(number="W001").category == "registered_poor"


def test_unknown_words_still_get_the_list_of_choices(world):
    row = person_row("W002", world.a.code, seq=24, 与户主关系="远房亲戚")
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, [row]), "w.xlsx")
    (error,) = [e for e in job.errors if e[1] == "与户主关系"]
    assert error[2].startswith("“远房亲戚”不是可选值。可选：户主、配偶、子、女")


def _numbered(rows, totals):
    """Rows under a 序号 column, with ``totals`` ({place: cells}) put in among them."""
    headers = ["序号", *ROSTER_HEADERS]
    lines = [[index, *(row.get(h) for h in ROSTER_HEADERS)] for index, row in enumerate(rows, 1)]
    for place, cells in sorted(totals.items(), reverse=True):
        lines.insert(place, cells)
    return xlsx_bytes(headers, lines)


def test_total_rows_are_skipped_and_named_on_the_preview(client, world):
    """A county's 小计 per settlement and 合计 at the bottom are no records: skipped,
    counted and named by row number; the households around them import."""
    rows = [
        person_row("S001", world.a.code, name="户主丙", sex="M", seq=21),
        person_row("S001", world.a.code, relationship="配偶", name="妻子丙", seq=22),
        person_row("S002", world.a.code, name="户主丁", sex="M", seq=23),
    ]
    content = _numbered(
        rows,
        {
            2: [None, "小　计：", None, None, None, "2人"],  # under the first household
            3: ["合计", None, None, 3],
        },
    )
    world.admin.first_name, world.admin.last_name = "海峰", "王"
    world.admin.save()
    before, people = Household.objects.count(), Person.objects.count()
    job = upload(world.admin, "roster", content, "带合计行.xlsx")
    assert job.errors == []
    assert (job.total_rows, job.new_rows) == (3, 3)
    assert job.changes["totals"] == [4, 6]  # the header is row 1
    client.force_login(world.admin)
    page = client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    assert "已跳过合计行 2 行（第 4、6 行" in page
    # The changes read as one sentence, and the importer by name and account.
    # (in the order the database keeps them: PostgreSQL's jsonb puts shorter keys first)
    sentence = re.search(r"新增(\S+ \d+) 条；新增(\S+ \d+) 条。", page)
    assert sentence and sorted(sentence.groups()) == ["家庭成员 3", "搬迁户 2"]
    assert "王海峰（admin），" in page
    english = client.get(
        reverse("spreadsheets:job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "2 total rows were skipped (rows 4, 6:" in english
    assert "王海峰 (admin), " in english and "（" not in english.split("<dl")[1].split("</dl>")[0]
    job = upload_and_confirm(world, job)
    assert job.state == "committed"
    assert job.changes["totals"] == [4, 6]
    households = Household.objects.filter(number__in=["S001", "S002"])
    assert sorted(
        Person.objects.filter(household__in=households).values_list("name", flat=True)
    ) == [
        "妻子丙",
        "户主丁",
        "户主丙",
    ]
    assert Household.objects.count() == before + 2
    assert Person.objects.count() == people + 3


def test_a_row_that_only_begins_like_a_total_is_imported(world):
    """Only a label alone is a total: a household number such as 合计01 is data."""
    rows = [person_row("合计01", world.a.code, name="户主戊", sex="M", seq=24)]
    job = upload(world.admin, "roster", _numbered(rows, {}), "户号.xlsx")
    assert (job.errors, job.new_rows, job.changes.get("totals")) == ([], 1, None)
    rows = [person_row("T9", world.a.code, name="小计", sex="M", seq=25)]
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, rows), "小计.xlsx")
    assert (job.errors, job.new_rows, job.changes.get("totals")) == ([], 1, None)


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2019年5月", datetime.date(2019, 5, 1)),
        ("2019.05", datetime.date(2019, 5, 1)),
        ("2019.10", datetime.date(2019, 10, 1)),
        ("2019-5", datetime.date(2019, 5, 1)),
        ("201912", datetime.date(2019, 12, 1)),  # strptime alone read 2019-01-02
        ("20191201", datetime.date(2019, 12, 1)),
        ("2019年5月3日", datetime.date(2019, 5, 3)),
    ],
)
def test_a_month_without_its_day_is_the_first_of_the_month(world, written, stored):
    rows = [person_row("D001", world.a.code, name="户主己", sex="M", seq=26, 入住日期=written)]
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "入住日期.csv")
    assert job.state == "committed", job.errors
    assert Household.objects.get(number="D001").moved_in_date == stored


@pytest.mark.parametrize("written", ["201913", "2019.13", "2019121", "2019"])
def test_dates_that_say_no_month_clearly_are_refused(world, written):
    rows = [person_row("D002", world.a.code, name="户主庚", sex="M", seq=27, 入住日期=written)]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "入住日期.csv")
    assert [(e[0], e[1]) for e in job.errors] == [(2, "入住日期")]
    assert f"“{written}”不是有效日期" in job.errors[0][2]
    assert "只知道年月的写 2020年5月" in job.errors[0][2]
    assert not Household.objects.filter(number="D002").exists()


def test_a_year_and_month_typed_into_a_number_cell_is_refused(world):
    """Excel keeps 2019.10 typed into a number cell as 2019.1: the month cannot be known."""
    rows = [person_row("D003", world.a.code, name="户主辛", sex="M", seq=28, 入住日期=2019.1)]
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, rows), "入住日期.xlsx")
    assert [(e[0], e[1]) for e in job.errors] == [(2, "入住日期")]
    assert "“2019.1”是数字格式" in job.errors[0][2]
    assert "无法确定月份" in job.errors[0][2]
    assert not Household.objects.filter(number="D003").exists()


@pytest.mark.parametrize(
    ("year", "area", "stored"),
    [
        ("2019年", "80平方米", (2019, Decimal("80.00"))),
        ("2019 年度", "80.5㎡", (2019, Decimal("80.50"))),
        ("２０１９年", "80 m2", (2019, Decimal("80.00"))),
        ("2019", "80", (2019, Decimal("80.00"))),
    ],
)
def test_numbers_may_carry_their_unit(world, year, area, stored):
    """Counties write 搬迁年度 2019年 and 住房面积 80平方米: the number is the value."""
    row = person_row("D004", world.a.code, name="户主壬", sex="M", seq=29, 搬迁年度=year)
    row["住房面积（㎡）"] = area
    job = import_file(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, [row]), "单位.xlsx")
    assert job.state == "committed", job.errors
    household = Household.objects.get(number="D004")
    assert (household.relocation_year, household.housing_area) == stored


@pytest.mark.parametrize(
    ("header", "written", "reason"),
    [
        ("搬迁年度", "2019年5月", "“2019年5月”不是整数。"),
        ("搬迁年度", "inf", "“inf”不是整数。"),  # was an OverflowError
        ("搬迁年度", "年", "“年”不是整数。"),
        ("住房面积（㎡）", "80亩", "“80亩”不是数字。"),  # not the column's unit
        ("住房面积（㎡）", "0.8万平方米", "“0.8万平方米”不是数字。"),
    ],
)
def test_a_unit_that_is_not_the_columns_is_an_error(world, header, written, reason):
    row = person_row("D005", world.a.code, name="户主癸", sex="M", seq=30)
    row[header] = written
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, [row]), "单位.xlsx")
    assert [(e[0], e[1], e[2]) for e in job.errors] == [(2, header, reason)]
    assert not Household.objects.filter(number="D005").exists()


@pytest.mark.parametrize(
    ("kind", "header", "raw", "reason"),
    [
        ("employment", "月收入（元）", "1e999", "数值“1e999”过大。"),  # was InvalidOperation
        ("employment", "月收入（元）", "Infinity", "“Infinity”不是数字。"),
        ("employment", "身份证号", float("inf"), "身份证号被存成了数字"),  # was OverflowError
        ("employment", "身份证号", float("nan"), "身份证号被存成了数字"),  # was ValueError
        ("roster", "搬迁年度", "sNaN", "“sNaN”不是整数。"),
    ],
)
def test_numbers_no_cell_can_hold_are_cell_errors(kind, header, raw, reason):
    """What a hostile .xls or a typo may put in a number cell is an error on that cell,
    never an exception that stops the whole check."""
    from relocation.spreadsheets.columns import CellError

    column = next(c for c in get_kind(kind).columns if str(c.header) == header)
    with pytest.raises(CellError) as error:
        column.parse(raw)
    assert reason in str(error.value)


def test_amounts_take_their_columns_unit_and_no_other(world):
    """A 就业台账's 月收入（元）: 4500元 is 4,500; 0.45万元 is refused, not read as 0.45."""
    head = world.heads["a"]
    headers = ["姓名", "身份证号", "就业方式", "就业地点", "开始日期", "月收入（元）"]
    rows = [
        [head.name, head.id_number, "打零工", "省外务工", "2024-03-01", "4500元"],
        [head.name, head.id_number, "打零工", "省外务工", "2024-04-01", "0.45万元"],
    ]
    job = upload(world.admin, "employment", xlsx_bytes(headers, rows), "就业台账.xlsx")
    assert [(e[0], e[1], e[2]) for e in job.errors] == [(3, "月收入（元）", "“0.45万元”不是数字。")]
    assert not EmploymentRecord.objects.filter(person=head).exists()
    del rows[1]
    job = upload(world.admin, "employment", xlsx_bytes(headers, rows), "就业台账.xlsx")
    assert job.errors == []
    upload_and_confirm(world, job)
    assert EmploymentRecord.objects.get(person=head).monthly_income == 4500


def test_an_employment_ledger_as_a_county_keeps_it(world):
    """就业台账 with the county's own column names, half-width brackets and units."""
    head = world.heads["a"]
    headers = ["序号", "姓名", "身份证号码", "就业方式", "务工单位", "工种", "就业地点"]
    headers += ["务工地点", "月收入(元)", "务工时间", "住房面积(㎡)"]
    row = [1, head.name, head.id_number, "打零工", "东莞市长安镇某电子厂", "普工", "省外务工"]
    row += ["广东省东莞市", 4500, "2024年3月", 80]
    job = upload(world.admin, "employment", xlsx_bytes(headers, [row]), "就业台账.xlsx")
    assert job.errors == []
    upload_and_confirm(world, job)
    record = EmploymentRecord.objects.get(person=head)
    assert (record.kind, record.place, record.position) == ("flexible", "out_of_province", "普工")
    assert (record.employer_name, record.work_location) == ("东莞市长安镇某电子厂", "广东省东莞市")
    assert (record.monthly_income, record.start_date) == (4500, datetime.date(2024, 3, 1))


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("月收入", "monthly_income"),
        ("月收入(元)", "monthly_income"),
        ("月收入（元/月）", "monthly_income"),
        ("身份证号(必填)", "id_number"),
        ("单位名称(未登记)", "employer_name"),
    ],
)
def test_headers_with_or_without_their_unit(header, key):
    mapping = headers_for_matching(get_kind("employment").columns)
    assert mapping.get(clean_header(header)).key == key


def test_an_income_ledger_as_a_county_keeps_it(world):
    """GB18030 CSV, a title, units in the headers, thousands separators and a 合计 row."""
    number = world.households["a"].number
    lines = [
        "兴义市2025年度搬迁户家庭收入台账,,,,,,",
        "序号,年度,户编号,家庭人口(人),工资性收入(元),转移性收入(元),生产经营费用支出(元)",
        f'1,2025,{number},4,"36,000","6,500.50",500',
        "合计,,,4,36000,6500.5,500",
    ]
    content = ("\r\n".join(lines) + "\r\n").encode("gb18030")
    job = upload(world.admin, "income", content, "收入台账.csv")
    assert (job.errors, job.new_rows, job.changes["totals"]) == ([], 1, [4])
    upload_and_confirm(world, job)
    income = HouseholdIncome.objects.get(household__number=number, year=2025)
    assert (income.wage_income, income.transfer_income) == (36000, Decimal("6500.50"))
    assert income.household_size == 4  # the file's, not the 3 members registered
    assert income.net_income == Decimal("42000.50")


def test_words_in_brackets_that_are_no_unit_are_kept():
    """联系电话（户主） is the household's phone and 联系电话（配偶） nobody's: neither may
    fill each member's 联系电话."""
    mapping = headers_for_matching(get_kind("roster").columns)
    assert mapping.get(clean_header("联系电话（户主）")).key == "household_phone"
    assert mapping.get(clean_header("联系电话(户主)")).key == "household_phone"
    assert mapping.get(clean_header("联系电话（配偶）")) is None
    assert clean_header("联系电话（配偶）") not in mapping
    assert mapping.get(clean_header("住房面积(平方米)")).key == "housing_area"


def _with_checks(rows, sex, born):
    """Roster rows with the county's 性别 and 出生日期 columns ({row index: value})."""
    headers = [*ROSTER_HEADERS, "性别", "出生日期"]
    lines = [
        [*(row.get(h) for h in ROSTER_HEADERS), sex.get(i), born.get(i)]
        for i, row in enumerate(rows)
    ]
    return xlsx_bytes(headers, lines)


def test_sex_and_birth_date_columns_are_checked_against_the_id_numbers(world):
    """A couple's ID numbers swapped: each passes its check digit, and only the
    county's 性别 column shows it.  Both rows are errors; nothing is written."""
    husband = person_row("C001", world.a.code, name="户主癸", sex="M", seq=41)
    wife = person_row("C001", world.a.code, relationship="配偶", name="妻子癸", seq=42)
    husband["身份证号"], wife["身份证号"] = wife["身份证号"], husband["身份证号"]
    content = _with_checks([husband, wife], {0: "男", 1: "女"}, {})
    job = upload(world.admin, "roster", content, "性别.xlsx")
    errors = {(e[0], e[1]): e[2] for e in job.errors}
    assert set(errors) == {(2, "性别"), (3, "性别")}
    assert errors[(2, "性别")].startswith("性别“男”与身份证号不符（身份证号第17位表示女）")
    assert not Household.objects.filter(number="C001").exists()


def test_a_birth_date_that_is_not_the_id_numbers_is_an_error(world):
    row = person_row("C002", world.a.code, name="户主子", sex="M", seq=43)
    born = datetime.date(1980, 1, 1)  # person_row's default birth date
    wrong = _with_checks([row], {0: "男"}, {0: "1981-01-01"})
    job = upload(world.admin, "roster", wrong, "出生日期.xlsx")
    assert [(e[0], e[1]) for e in job.errors] == [(2, "出生日期")]
    assert "出生日期 1981-01-01 与身份证号中的出生日期不符" in job.errors[0][2]
    for written in (born, "1980-01-01", "1980.01", "198001", "1980年1月"):
        job = upload(world.admin, "roster", _with_checks([row], {0: "男"}, {0: written}), "x.xlsx")
        assert job.errors == [], written
    assert not Household.objects.filter(number="C002").exists()  # only checked


def test_check_columns_are_neither_exported_nor_in_the_template(client, world):
    kind = get_kind("roster")
    assert {c.key for c in kind.check_columns} == {"sex_check", "birth_check"}
    client.force_login(world.admin)
    template = load_workbook(
        io.BytesIO(client.get(reverse("spreadsheets:template", args=["roster"])).content)
    )
    headers = [str(c.value).rstrip("*") for c in template["搬迁户花名册"][1]]
    assert "性别" not in headers and "出生日期" not in headers
    exported = csv_bytes(ROSTER_HEADERS, [])  # the layout the export writes
    from relocation.spreadsheets.workbooks import export_csv

    first_line = export_csv(kind, world.admin).decode("utf-8-sig").splitlines()[0]
    assert "性别" not in first_line and "出生日期" not in first_line
    assert exported.decode().splitlines()[0] == first_line


def test_a_roster_may_name_the_settlement_instead_of_its_code(world, make_user):
    """Counties' rosters write 安置点 阳光新区, not our code AZD522301001."""
    rows = [person_row("P001", world.a.name, name="户主丑", sex="M", seq=51)]
    headers = ["安置点" if h == "安置点编码" else h for h in ROSTER_HEADERS]
    lines = [[row.get(h) for h in ROSTER_HEADERS] for row in rows]
    job = import_file(world.admin, "roster", xlsx_bytes(headers, lines), "名称.xlsx")
    assert job.state == "committed", job.errors
    assert Household.objects.get(number="P001").settlement == world.a
    # A name two settlements in the importer's scope share: the code is asked for.
    world.b.name = world.a.name
    world.b.save()
    rows = [person_row("P002", world.a.name, name="户主寅", sex="M", seq=52)]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "同名.csv")
    ((row, header, message),) = job.errors
    assert (row, header) == (2, "安置点编码")
    assert message == (
        f"您的管辖范围内有多个名为“{world.a.name}”的安置点"
        f"（编码 {world.a.code}、{world.b.code}），请填写安置点编码。"
    )
    # A settlement outside the importer's scope is not found by its name either.
    xingyi_admin = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])
    rows = [person_row("P003", world.c.name, name="户主卯", sex="M", seq=53)]
    job = upload(xingyi_admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "范围外.csv")
    assert [e[2] for e in job.errors] == [f"安置点“{world.c.name}”不存在或不在您的管辖范围内。"]
    assert not Household.objects.filter(number__in=["P002", "P003"]).exists()
    # One kind serves every import of the process: a plan's lookups stay in the plan.
    assert vars(get_kind("roster")) == {}


def test_settlement_names_are_the_rosters_alone(world):
    """Another kind's 安置点 column is not taken for its code (a settlement's own
    file names it in 安置点名称)."""
    mapping = get_kind("settlement").header_mapping()
    assert mapping.get("安置点名称").key != "code"
    assert get_kind("roster").header_mapping().get("安置点").key == "settlement"


def test_a_roster_may_name_where_people_moved_from(world):
    """迁出县 兴义市 and 迁出乡镇 兴泰街道 by name; a township is looked for in that county
    only, and a county name two provinces share is taken in the settlement's."""
    from communities.enums import RegionLevel
    from communities.models import Region

    headers = ["迁出县（市、区）" if h == "迁出县代码" else h for h in ROSTER_HEADERS]
    headers = ["迁出乡镇" if h == "迁出乡镇代码" else h for h in headers]
    # Another province's 兴义市 (made up): ours is in 贵州, where the settlement is.
    Region.objects.create(code="990101", name="兴义市", level=RegionLevel.COUNTY)
    row = person_row("O001", world.a.code, name="户主辰", sex="M", seq=61)
    row.update({"迁出县代码": "兴义市", "迁出乡镇代码": "兴泰街道"})
    lines = [[row.get(h) for h in ROSTER_HEADERS]]
    job = import_file(world.admin, "roster", xlsx_bytes(headers, lines), "迁出地.xlsx")
    assert job.state == "committed", job.errors
    household = Household.objects.get(number="O001")
    assert (household.origin_county_id, household.origin_township_id) == ("522301", "522301002")
    # 黄土坡街道 is a township of 钟山区, not of 兴义市.
    row.update({"户编号": "O002", "身份证号": person_row("x", "y", seq=62)["身份证号"]})
    row["迁出乡镇代码"] = "黄土坡街道"
    lines = [[row.get(h) for h in ROSTER_HEADERS]]
    job = upload(world.admin, "roster", xlsx_bytes(headers, lines), "迁出地.xlsx")
    assert [(e[1], e[2]) for e in job.errors] == [
        ("迁出乡镇代码", "迁出县中没有名为“黄土坡街道”的乡镇（街道）；请核对，或填写乡镇代码。")
    ]
    row.update({"迁出县代码": "兴义县", "迁出乡镇代码": ""})
    lines = [[row.get(h) for h in ROSTER_HEADERS]]
    job = upload(world.admin, "roster", xlsx_bytes(headers, lines), "迁出地.xlsx")
    assert [e[2] for e in job.errors] == [
        "没有名为“兴义县”的县级区划，或有多个同名的县；请填写县级区划代码。"
    ]
    assert not Household.objects.filter(number="O002").exists()


def test_every_header_in_either_language_finds_its_column():
    """A file's headers are cleaned (spaces out, brackets full-width); ours must be
    matched the same way: 'Monthly income (yuan)' of an English template too."""
    from relocation.spreadsheets.columns import clean_cell
    from relocation.spreadsheets.kinds import kinds

    lost = []
    for kind in kinds():
        mapping = kind.header_mapping()
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                for column in kind.columns:
                    if not column.export_only:
                        found = mapping.get(clean_cell(str(column.header)))
                        if found is not column:
                            lost.append((kind.key, lang, str(column.header)))
    assert lost == []


def _saved(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_data_sheet_is_found_wherever_it_is(world):
    """A county's 填表说明 first, an empty Sheet1, a hidden list of names: the sheet
    whose top rows name the roster's columns is the one read."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    notes.append(["每户成员连续填写，户主在前。"])
    workbook.create_sheet("Sheet1")
    lists = workbook.create_sheet("字典")
    lists.append(["布依族", "苗族"])
    lists.sheet_state = "hidden"
    data = workbook.create_sheet("花名册")
    data.append(["兴义市花名册"])
    data.append(ROSTER_HEADERS)
    row = person_row("S001", world.a.code, name="户主丁", sex="M", seq=51)
    data.append([row.get(h) for h in ROSTER_HEADERS])
    job = upload(world.admin, "roster", _saved(workbook), "兴义市.xlsx")
    assert (job.errors, job.new_rows) == ([], 1)


def test_a_fixed_error_workbook_imports(client, world):
    """下载错误清单, fix the red cells in its data sheet, upload it again: the list of
    errors in front of the data is passed over."""
    client.force_login(world.admin)
    bad = person_row("F001", world.a.code, name="户主戊", sex="M", seq=52, 民族="火星族")
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, [bad]), "花名册.xlsx")
    assert [(e[0], e[1]) for e in job.errors] == [(2, "民族")]
    errors = load_workbook(
        io.BytesIO(client.get(reverse("spreadsheets:errors", args=[job.pk])).content)
    )
    assert errors.sheetnames == ["错误清单", "数据"]
    errors["数据"].cell(row=2, column=ROSTER_HEADERS.index("民族") + 1).value = "布依族"
    fixed = upload(world.admin, "roster", _saved(errors), "花名册-错误清单.xlsx")
    assert (fixed.errors, fixed.new_rows) == ([], 1)
    upload_and_confirm(world, fixed)
    assert Person.objects.get(household__number="F001").name == "户主戊"


def test_the_english_template_filled_in_imports(world):
    """In English the template's first sheet is "Description": the data sheet after it
    is the one read."""
    from relocation.spreadsheets.workbooks import template_workbook

    kind = get_kind("roster")
    with translation.override("en"):
        workbook = load_workbook(io.BytesIO(template_workbook(kind)))
        english = {clean_header(str(c.header)): c for c in kind.columns}
    assert workbook.sheetnames[0] == "Description"
    sheet = workbook[workbook.sheetnames[1]]
    row = person_row("E101", world.a.code, name="户主己", sex="M", seq=53)
    headers = [clean_header(cell.value) for cell in sheet[1]]
    with translation.override("zh-hans"):
        sheet.append([row.get(str(english[h].header)) if h in english else None for h in headers])
    job = upload(world.admin, "roster", _saved(workbook), "roster.xlsx")
    assert (job.errors, job.new_rows) == ([], 1)


def test_file_types_are_titles_in_english(client, world):
    """The models' English names are lower case ("settlement"); where a file type heads
    a page, a menu or a sheet it is capitalised, as the other file types are."""
    from relocation.spreadsheets.workbooks import template_workbook

    kind = get_kind("settlement")
    with translation.override("en"):
        assert str(kind.label) == "settlement"
        sheets = load_workbook(io.BytesIO(template_workbook(kind))).sheetnames
    assert "Settlement" in sheets and "settlement" not in sheets
    client.force_login(world.admin)
    page = client.get(reverse("spreadsheets:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<td>Settlement</td>" in page and '">Settlement</option>' in page
    assert "<td>settlement</td>" not in page
    with translation.override("zh-hans"):
        assert kind.title == "安置点"


def test_english_headers_are_matched_whatever_their_case(world):
    """A file whose English headers are written in capitals (or as our older English
    templates wrote them, in lower case) is read as the template's."""
    with translation.override("en"):
        english = {str(c.header): str(c.header) for c in get_kind("roster").columns}
    with translation.override("zh-hans"):
        chinese = [str(c.header) for c in get_kind("roster").columns]
    headers = list(english)
    assert "Household number" in headers  # a model field's name, capitalised
    shouting = [h.upper() for h in headers]
    quiet = [h.lower() for h in headers]
    for number, written in (("E201", shouting), ("E202", quiet)):
        row = person_row(number, world.a.code, name=f"户主{number}", sex="M", seq=int(number[1:]))
        values = [row.get(zh) for zh in chinese]
        job = import_file(world.admin, "roster", csv_bytes(written, [values]), f"{number}.csv")
        assert (job.errors, job.state) == ([], "committed")
        assert Household.objects.filter(number=number).exists()


def test_a_text_mark_before_a_number_is_not_part_of_it(world):
    """A CSV written by hand or pasted from another system keeps the ' typed before
    digits to hold them as text: '522301000001 is that household's number, not a new
    household's, and an ID number or phone so marked is the number itself."""
    row = person_row("M501", world.a.code, name="户主壬", sex="M", seq=91)
    id_number = row["身份证号"]
    row.update(
        户编号="'M501",
        安置点编码=f"'{world.a.code}",
        身份证号=f"'{id_number}",
        联系电话="’13800138000",  # the curly quote a Chinese input method types
        户联系电话="13900139000.0",  # a number a system wrote as a decimal
    )
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [row]), "m.csv")
    assert (job.errors, job.state) == ([], "committed")
    household = Household.objects.get(number="M501")
    assert (household.settlement, household.phone) == (world.a, "13900139000")
    person = household.members.get()
    assert (person.id_number, person.phone) == (id_number, "13800138000")
    assert not Household.objects.filter(number__startswith="'").exists()

    existing = world.households["a"]
    lines = ["年度,户编号,家庭人口(人),工资性收入(元)", f"2025,'{existing.number},3,36000"]
    job = import_file(world.admin, "income", "\n".join(lines).encode(), "收入.csv")
    assert (job.errors, job.state) == ([], "committed")
    assert HouseholdIncome.objects.get(year=2025).household == existing


def _roster_sheet(workbook, title, rows):
    sheet = workbook.create_sheet(title)
    sheet.append(ROSTER_HEADERS)
    for row in rows:
        sheet.append([row.get(h) for h in ROSTER_HEADERS])
    return sheet


def test_other_sheets_of_the_same_kind_are_named_in_the_preview(client, world):
    """A county's workbook with one sheet per group: only the first is read, and the
    preview says which others hold rows of the same kind, so that nobody takes them
    for imported; the commit writes the first sheet's rows only."""
    workbook = Workbook()
    workbook.active.title = "填表说明"
    workbook.active.append(["每组一个工作表。"])
    groups = {"一组": ("G101", 101), "二组": ("G102", 103), "三组": ("G103", 105)}
    for title, (number, seq) in groups.items():
        head = person_row(number, world.a.code, name=f"户主{title}", sex="M", seq=seq)
        _roster_sheet(workbook, title, [head])
    income = workbook.create_sheet("收入")
    income.append(["年度", "户编号", "家庭人口(人)", "工资性收入(元)"])  # another kind
    income.append([2025, "G101", 1, 30000])
    job = upload(world.admin, "roster", _saved(workbook), "分组花名册.xlsx")
    assert (job.errors, job.new_rows) == ([], 1)
    assert (job.changes["sheet"], job.changes["other_sheets"]) == ("一组", ["二组", "三组"])
    client.force_login(world.admin)
    page = client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    assert (
        "工作簿中另有 2 个工作表（“二组”、“三组”）也有本类表格的列名，但只检查了工作表“一组”"
        in page
    )
    job = upload_and_confirm(world, job)
    assert job.state == "committed", job.failure
    assert list(
        Household.objects.filter(number__startswith="G1").values_list("number", flat=True)
    ) == ["G101"]
    assert (
        'id="other-sheets"'
        in client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    )


def test_a_workbook_with_one_data_sheet_says_nothing_of_others(world):
    workbook = Workbook()
    _roster_sheet(
        workbook, "花名册", [person_row("G201", world.a.code, name="户主", sex="M", seq=107)]
    )
    workbook.remove(workbook["Sheet"])
    workbook.create_sheet("汇总").append(["安置点", "户数"])
    job = upload(world.admin, "roster", _saved(workbook), "花名册.xlsx")
    assert (job.errors, job.new_rows) == ([], 1)
    assert "other_sheets" not in job.changes
