"""Issue 13, imports: lost characters, phones, relationships by sex, summary, template, old IDs.

Every test goes through the real import services (check, and commit where the
file is clean), in .xlsx and .csv where the format matters.
"""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from communities import enums
from communities.models import Household, Person
from communities.tests.factories import make_id_number
from communities.validators import normalize_phone, validate_resident_id
from relocation.spreadsheets.kinds import get_kind, kinds
from relocation.spreadsheets.workbooks import export_csv, export_xlsx

from .helpers import ROSTER_HEADERS, csv_bytes, import_file, person_row, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

FORMATS = ["xlsx", "csv"]


def file_bytes(fmt, rows, headers=ROSTER_HEADERS):
    return xlsx_bytes(headers, rows) if fmt == "xlsx" else csv_bytes(headers, rows)


def messages(job, header=None):
    return [e[2] for e in job.errors if header is None or e[1] == header]


# --- 1. names that lost characters -------------------------------------------------


def export_with_head_renamed(world, fmt, new_name):
    """The roster export with household A's head renamed, as the file to re-import."""
    kind = get_kind("roster")
    head = world.heads["a"]
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(export_xlsx(kind, world.admin)))
        sheet = workbook.active
        headers = [c.value for c in sheet[1]]
        name_col, id_col = headers.index("姓名"), headers.index("身份证号")
        for row in sheet.iter_rows(min_row=2):
            if row[id_col].value == head.id_number:
                row[name_col].value = new_name
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    text = export_csv(kind, world.admin).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    name_col, id_col = rows[0].index("姓名"), rows[0].index("身份证号")
    for row in rows[1:]:
        if row[id_col] == head.id_number:
            row[name_col] = new_name
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("damaged", ["王?英", "王\ufffd英", "？伟"])
def test_damaged_name_is_refused_and_never_overwrites(world, fmt, damaged):
    head = world.heads["a"]
    before = Person.objects.get(pk=head.pk).name
    job = import_file(
        world.admin, "roster", export_with_head_renamed(world, fmt, damaged), f"f.{fmt}"
    )
    assert job.state == "invalid"
    found = messages(job, "姓名")
    assert len(found) == 1
    assert "丢失了生僻字" in found[0] and "UTF-8" in found[0] and ".xlsx" in found[0]
    assert Person.objects.get(pk=head.pk).name == before


def test_gbk_csv_that_replaced_a_rare_character_is_refused(world):
    """What Excel's 另存为 CSV (GBK) does to 𬌗: a question mark in its place."""
    row = person_row("GBK01", world.a.code, name="李𬌗", sex="M", seq=7)
    content = csv_bytes(ROSTER_HEADERS, [row], encoding="utf-8")
    gbk = content.decode("utf-8").encode("gbk", errors="replace")
    assert "李?".encode("gbk") in gbk
    job = import_file(world.admin, "roster", gbk, "gbk.csv")
    assert job.state == "invalid"
    assert any("UTF-8" in m for m in messages(job, "姓名"))
    assert not Household.objects.filter(number="GBK01").exists()


def test_a_rare_character_in_utf8_imports(world):
    row = person_row("RARE1", world.a.code, name="李𬌗", sex="M", seq=8)
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [row]), "utf8.csv")
    assert job.state == "committed", job.errors
    assert Person.objects.get(id_number=row["身份证号"]).name == "李𬌗"


def test_employment_name_check_refuses_a_damaged_name(world):
    kind = get_kind("employment")
    headers = [str(c.header) for c in kind.columns if not c.export_only]
    row = {
        "身份证号": world.heads["a"].id_number,
        "姓名": "户主?",
        "就业类型": "务工",
        "就业地点": "县内",
        "开始日期": "2024-03-01",
    }
    job = upload(world.admin, "employment", csv_bytes(headers, [row]), "e.csv")
    assert job.state == "invalid"
    assert any("丢失了生僻字" in m for m in messages(job, "姓名"))


# --- 2. phones ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("+86 138 0013 8000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("（+86）138 0013 8000", "13800138000"),  # full-width brackets too
        ("138 0013 800", "138 0013 800"),  # ten digits: left for the validator to refuse
        ("0858-3221234", "0858-3221234"),
        ("", ""),
    ],
)
def test_normalize_phone(written, stored):
    assert normalize_phone(written) == stored


@pytest.mark.parametrize("fmt", FORMATS)
def test_phones_with_country_code_and_separators_are_stored_as_11_digits(world, fmt):
    rows = [
        person_row("PH001", world.a.code, sex="M", seq=20, 联系电话="+86 138 0013 8000"),
        person_row(
            "PH001",
            world.a.code,
            relationship="配偶",
            sex="F",
            seq=21,
            联系电话="0086-13800138001",
        ),
        person_row(
            "PH001",
            world.a.code,
            relationship="子",
            sex="M",
            seq=22,
            birth=datetime.date(2010, 1, 1),
            联系电话="138-0013-8002",
        ),
    ]
    for row in rows:
        row["户联系电话"] = "+86 139 0000 0000"
    job = import_file(world.admin, "roster", file_bytes(fmt, rows), f"p.{fmt}")
    assert job.state == "committed", job.errors
    phones = sorted(
        Person.objects.filter(household__number="PH001").values_list("phone", flat=True)
    )
    assert phones == ["13800138000", "13800138001", "13800138002"]
    assert Household.objects.get(number="PH001").phone == "13900000000"


def test_a_phone_that_is_still_wrong_is_an_error(world):
    row = person_row("PH002", world.a.code, seq=23, 联系电话="+86 138 0013")
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [row]), "p.csv")
    assert job.state == "invalid"
    assert any("电话号码格式不正确" in m for m in messages(job, "联系电话"))
    assert not Household.objects.filter(number="PH002").exists()


def test_the_admin_form_normalises_phones_the_same_way(world):
    """The model's clean_fields (behind every admin form) uses the same normaliser."""
    person = Person.objects.get(pk=world.heads["a"].pk)
    person.phone = "0086 138-0013-8000"
    person.full_clean()
    assert person.phone == "13800138000"


# --- 3. relationships resolved by sex ------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_relationships_without_sex_are_resolved_from_the_id_number(world, fmt):
    older = datetime.date(1950, 5, 5)
    young = datetime.date(2012, 6, 6)
    specs = [
        ("户主", "M", datetime.date(1975, 1, 1), enums.Relationship.HEAD),
        ("父母", "M", older, enums.Relationship.FATHER),
        ("父母", "F", older, enums.Relationship.MOTHER),
        ("子女", "M", young, enums.Relationship.SON),
        ("子女", "F", young, enums.Relationship.DAUGHTER),
        ("孙子女", "M", young, enums.Relationship.GRANDSON),
        ("孙子女", "F", young, enums.Relationship.GRANDDAUGHTER),
        ("兄弟姐妹", "F", older, enums.Relationship.SIBLING),
        ("祖父母", "F", datetime.date(1930, 1, 1), enums.Relationship.GRANDPARENT),
        ("外孙子女", "M", young, enums.Relationship.DAUGHTERS_CHILD),
    ]
    rows = [
        person_row(
            "REL01",
            world.a.code,
            relationship=word,
            sex=sex,
            birth=birth,
            seq=30 + i,
            name=f"人{i}",
        )
        for i, (word, sex, birth, _expected) in enumerate(specs)
    ]
    job = import_file(world.admin, "roster", file_bytes(fmt, rows), f"r.{fmt}")
    assert job.state == "committed", job.errors
    stored = dict(
        Person.objects.filter(household__number="REL01").values_list("id_number", "relationship")
    )
    for row, (word, _sex, _birth, expected) in zip(rows, specs, strict=True):
        assert stored[row["身份证号"]] == expected, word


def test_a_resolved_relationship_updates_an_existing_member(world):
    """Re-importing 子女 for a stored 儿子 changes nothing; for a daughter's ID it says 女."""
    kind = get_kind("roster")
    text = export_csv(kind, world.admin).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    rel = rows[0].index("与户主关系")
    sons = [r for r in rows[1:] if r[rel] == "子"]
    assert sons
    for row in sons:
        row[rel] = "子女"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    job = upload(world.admin, "roster", buffer.getvalue().encode(), "same.csv")
    assert job.errors == []
    assert (job.new_rows, job.updated_rows) == (0, 0)


def test_an_unknown_relationship_word_is_still_refused(world):
    row = person_row("REL02", world.a.code, relationship="亲戚们", seq=60)
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [row]), "r.csv")
    assert any("不是可选值" in m for m in messages(job, "与户主关系"))


# --- 4. the preview's summary ---------------------------------------------------------


def test_summary_counts_only_rows_that_would_be_written(world):
    good = [
        person_row("SUM01", world.a.code, seq=70, sex="M"),
        person_row("SUM01", world.a.code, relationship="配偶", seq=71, sex="F"),
    ]
    # Two heads: both rows are errors; the third member of that household is fine.
    two_heads = [
        person_row("SUM02", world.a.code, seq=72, sex="M"),
        person_row("SUM02", world.a.code, seq=73, sex="F"),
        person_row("SUM02", world.a.code, relationship="子女", seq=74, sex="M"),
    ]
    # A household whose every row is in error is no new household.
    all_bad = [
        person_row("SUM03", world.a.code, seq=75, sex="M"),
        person_row("SUM03", world.a.code, seq=76, sex="F"),
    ]
    # An update whose row is in error (unknown building) is not counted either.
    head = world.heads["a"]
    stale = person_row(
        world.households["a"].number, world.a.code, name="新名字", 楼栋="没有这栋", seq=77
    )
    stale["身份证号"] = head.id_number
    job = upload(
        world.admin, "roster", csv_bytes(ROSTER_HEADERS, good + two_heads + all_bad + [stale])
    )
    assert job.state == "invalid"
    assert job.new_rows == 3 and job.error_rows == 5
    assert job.changes["new"] == {"家庭成员": 3, "搬迁户": 2}
    assert job.changes["updated"] == {}


def test_summary_of_a_clean_file_counts_every_change(world):
    rows = [
        person_row("SUM04", world.a.code, seq=80, sex="M"),
        person_row("SUM04", world.a.code, relationship="父母", seq=81, sex="F"),
    ]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "ready"
    assert job.changes["new"] == {"家庭成员": 2, "搬迁户": 1}
    assert "examples" not in job.changes


# --- 5. the template imports unchanged --------------------------------------------------


def template_bytes(client, user, key):
    client.force_login(user)
    response = client.get(reverse("spreadsheets:template", args=[key]))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def template_as_csv(content):
    """What Excel's 另存为 CSV UTF-8 makes of the template's data sheet."""
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[1]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_template_imports_unchanged_without_errors(client, world, fmt):
    before = Person.history.count(), Household.objects.count()
    for kind in kinds():
        if not kind.may_import(world.admin):
            continue
        content = template_bytes(client, world.admin, kind.key)
        if fmt == "csv":
            content = template_as_csv(content)
        job = import_file(world.admin, kind.key, content, f"模板.{fmt}")
        assert job.errors == [], (kind.key, job.errors)
        assert job.state == "ready", kind.key
        assert job.changes["examples"] == len(kind.examples) > 0, kind.key
        assert (job.total_rows, job.new_rows, job.updated_rows) == (0, 0, 0)
    assert (Person.history.count(), Household.objects.count()) == before


def test_the_preview_says_the_example_rows_were_skipped(client, world):
    content = template_bytes(client, world.admin, "roster")
    job = upload(world.admin, "roster", content, "模板.xlsx")
    page = client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    assert "已跳过模板示例行 2 行" in page


def test_template_example_rows_are_marked_and_valid_once_unmarked(client, world):
    """Without the mark, the example rows are real rows; their ID numbers and relationships pass."""
    content = template_bytes(client, world.admin, "roster")
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[1]
    headers = [c.value.rstrip("*") for c in sheet[1]]
    examples = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(examples) == 2
    assert all(str(row[0]).startswith("【示例】") for row in examples)
    for row in examples:
        validate_resident_id(row[headers.index("身份证号")])
    rows = []
    for row in examples:
        values = dict(zip(headers, row, strict=True))
        values["户编号"] = values["户编号"].removeprefix("【示例】")
        values["迁出县代码"] = ""  # a code of the template's own county, not in this data set
        rows.append(values)
    # The building and grid of the examples are those of settlement A here.
    assert rows[0]["安置点编码"] == world.a.code
    job = import_file(world.admin, "roster", csv_bytes(headers, rows), "示例.csv")
    assert job.state == "committed", job.errors
    assert Household.objects.get(number=rows[0]["户编号"]).members.count() == 2


def test_a_real_row_below_the_examples_imports(client, world):
    content = template_bytes(client, world.admin, "roster")
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[1]
    headers = [c.value.rstrip("*") for c in sheet[1]]
    row = person_row("TPL01", world.a.code, seq=90, sex="M")
    sheet.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = import_file(world.admin, "roster", buffer.getvalue(), "填好的模板.xlsx")
    assert job.state == "committed", job.errors
    assert job.changes["examples"] == 2 and job.new_rows == 1
    assert Household.objects.filter(number="TPL01").exists()
    assert not Household.objects.filter(number="522301000101").exists()


# --- 6. 15-digit first-generation IDs ---------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_15_digit_id_is_explained_as_a_first_generation_card(world, fmt):
    row = person_row("OLD01", world.a.code, seq=95)
    old = row["身份证号"][:6] + row["身份证号"][8:17]  # 6 + yymmdd + 3, the old layout
    assert len(old) == 15
    row["身份证号"] = int(old) if fmt == "xlsx" else old  # Excel makes it a number
    job = import_file(world.admin, "roster", file_bytes(fmt, [row]), f"old.{fmt}")
    assert job.state == "invalid"
    found = messages(job, "身份证号")
    assert len(found) == 1
    assert "第一代身份证号" in found[0] and "18位的第二代身份证号" in found[0]
    assert "变成0" not in found[0]
    assert not Household.objects.filter(number="OLD01").exists()


def test_an_18_digit_id_stored_as_a_number_still_says_digits_were_lost(world):
    row = person_row("OLD02", world.a.code, seq=96)
    row["身份证号"] = float(make_id_number(datetime.date(1980, 1, 1), "M", prefix="522301")[:17])
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, [row]), "n.xlsx")
    found = messages(job, "身份证号")
    assert found and "第一代" not in found[0]


def test_the_validator_says_the_same_for_15_digits():
    with pytest.raises(ValidationError) as caught:
        validate_resident_id("522301800101001")
    assert "第一代身份证号" in caught.value.messages[0]
