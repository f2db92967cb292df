"""The pages, permissions, file limits and hostile files, templates and error workbooks."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from communities.models import Household, Person
from communities.roles import Role
from relocation.spreadsheets import reading
from relocation.spreadsheets.models import ImportJob

from .helpers import ROSTER_HEADERS, csv_bytes, import_file, person_row, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def post_file(client, kind, content, name):
    return client.post(
        reverse("spreadsheets:upload"),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
    )


def test_upload_preview_confirm_through_the_pages(client, world):
    client.force_login(world.admin)
    rows = [
        person_row("V001", world.a.code),
        person_row("V001", world.a.code, relationship="配偶", seq=3),
    ]
    response = post_file(client, "roster", csv_bytes(ROSTER_HEADERS, rows), "v.csv")
    job = ImportJob.objects.get()
    assert response.url == reverse("spreadsheets:job", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "确认导入（新增 2 行，更新 0 行）" in page
    assert not Person.objects.filter(household__number="V001").exists()
    response = client.post(reverse("spreadsheets:confirm", args=[job.pk]))
    assert Person.objects.filter(household__number="V001").count() == 2
    assert "已导入" in client.get(response.url).content.decode()


def test_preview_lists_errors_and_error_workbook_marks_cells(client, world):
    client.force_login(world.admin)
    bad = person_row("E001", world.a.code, 民族="火星族")
    response = post_file(client, "roster", xlsx_bytes(ROSTER_HEADERS, [bad]), "e.xlsx")
    page = client.get(response.url).content.decode()
    assert "“火星族”不是可选值" in page and "确认导入" not in page
    job = ImportJob.objects.get()
    errors = client.get(reverse("spreadsheets:errors", args=[job.pk]))
    workbook = load_workbook(io.BytesIO(errors.content))
    listing, data = workbook["错误清单"], workbook["数据"]
    assert [c.value for c in listing[2]] == [2, "民族", job.errors[0][2]]
    column = ROSTER_HEADERS.index("民族") + 1
    cell = data.cell(row=2, column=column)
    assert cell.value == "火星族" and "不是可选值" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert data.cell(row=2, column=ROSTER_HEADERS.index("身份证号") + 1).data_type == "s"


def test_permissions(client, world, make_user):
    county = world.county  # an official: may export, may not import
    client.force_login(county)
    assert client.get(reverse("spreadsheets:index")).status_code == 200
    response = post_file(client, "roster", b"x", "a.csv")
    assert response.status_code == 403
    assert client.get(reverse("spreadsheets:export", args=["roster", "csv"])).status_code == 200
    nobody = make_user(perms=["communities.view_person"])
    client.force_login(nobody)
    assert client.get(reverse("spreadsheets:index")).status_code == 403
    assert client.get(reverse("spreadsheets:export", args=["roster", "csv"])).status_code == 403
    # Another user's job is not found, not forbidden.
    client.force_login(world.admin)
    post_file(
        client, "roster", csv_bytes(ROSTER_HEADERS, [person_row("P1", world.a.code)]), "p.csv"
    )
    job = ImportJob.objects.get()
    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])
    client.force_login(manager)
    assert client.get(reverse("spreadsheets:job", args=[job.pk])).status_code == 404
    assert client.post(reverse("spreadsheets:confirm", args=[job.pk])).status_code == 404


def test_export_masks_for_officials_without_permission(client, world):
    client.force_login(world.county)
    text = client.get(reverse("spreadsheets:export", args=["roster", "csv"])).content.decode(
        "utf-8-sig"
    )
    head = world.heads["a"]
    assert head.id_number not in text and head.id_number[:6] + "********" in text
    assert world.heads["c"].name not in text  # 钟山区 is outside 兴义市


def test_oversize_file_refused_before_parsing(client, world, settings, monkeypatch):
    settings.SPREADSHEET_MAX_UPLOAD_BYTES = 1000
    parsed = []
    monkeypatch.setattr(reading, "read_csv", lambda content: parsed.append(1))
    client.force_login(world.admin)
    response = post_file(client, "roster", b"a" * 5000, "big.csv")
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("文件过大" in m for m in messages)
    assert parsed == [] and not ImportJob.objects.exists()


def test_row_limit(world, settings):
    settings.SPREADSHEET_MAX_ROWS = 3
    rows = [person_row(f"R{i}", world.a.code, seq=i) for i in range(5)]
    with pytest.raises(reading.FileRejected, match="超过单次导入上限 3 行"):
        reading.read(csv_bytes(ROSTER_HEADERS, rows), "csv")
    with pytest.raises(reading.FileRejected, match="超过单次导入上限 3 行"):
        reading.read(xlsx_bytes(ROSTER_HEADERS, rows), "xlsx")


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_fails_fast():
    bomb = _zip(
        {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"\0" * 50_000_000}
    )
    assert len(bomb) < 200_000
    with pytest.raises(reading.FileRejected, match="压缩比异常"):
        reading.read(bomb, "xlsx")


def test_billion_laughs_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' % i for i in range(1, 9)
        )
        + b"]><sst>&lol8;</sst>"
    )
    workbook = xlsx_bytes(["a"], [["b"]])
    with zipfile.ZipFile(io.BytesIO(workbook)) as source:
        members = {n: source.read(n) for n in source.namelist()}
    members["xl/sharedStrings.xml"] = laughs
    with pytest.raises(reading.FileRejected, match="DTD"):
        reading.read(_zip(members), "xlsx")


def test_not_an_xlsx_and_wrong_extension(world):
    with pytest.raises(reading.FileRejected, match="不是有效的 .xlsx"):
        reading.read(b"plain text", "xlsx")
    with pytest.raises(reading.FileRejected, match=r"只能上传 .xlsx、.xls、.et 或 .csv"):
        reading.file_format("roster.ods")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("导出.xls", b"<html><body><table><tr><td>x</td></tr></table>", "网页（HTML/XML）格式"),
        ("导出.xls", "\ufeff<?xml version='1.0'?><Workbook>".encode(), "扩展名为 .xls"),
        ("导出.xls", b"\r\n  <TABLE border=1>", "网页"),
    ],
)
def test_files_that_are_not_what_their_name_says_are_named(world, name, content, says):
    before = (Household.objects.count(), ImportJob.objects.count())
    with pytest.raises(reading.FileRejected, match=re.escape(says)):
        upload(world.admin, "roster", content, name)
    assert (Household.objects.count(), ImportJob.objects.count()) == before


def test_a_panic_inside_the_workbook_reader_is_a_refused_file(world, monkeypatch):
    """calamine is Rust: a file it cannot make sense of may make it panic, which pyo3
    raises as PanicException, a BaseException (like SystemExit) that ``except
    Exception`` lets through to the job worker. The check says the workbook cannot be
    read, and nothing is written."""
    import python_calamine

    panic = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})

    def panics(_handle):
        raise panic("index out of bounds: the len is 4 but the index is 8")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", panics)
    rows = [person_row("P001", world.a.code, name="户主甲", sex="M", seq=41)]
    before = (Household.objects.count(), Person.objects.count())
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, rows), "花名册.xlsx")
    assert job.state == "invalid"
    assert "无法读取该工作簿" in job.errors[0][2]
    assert (Household.objects.count(), Person.objects.count()) == before
    # Anything else that is no panic (the worker being stopped) still ends the check.
    monkeypatch.setattr(
        python_calamine.CalamineWorkbook,
        "from_filelike",
        lambda _h: (_ for _ in ()).throw(SystemExit(1)),
    )
    with pytest.raises(SystemExit):
        upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, rows), "花名册.xlsx")


def test_an_xlsx_named_xls_imports_as_the_workbook_it_is(world):
    """WPS and renamed files: a .xls that is a zip workbook is read as .xlsx."""
    rows = [person_row("X001", world.a.code, name="户主壬", sex="M", seq=31)]
    job = import_file(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, rows), "花名册.xls")
    assert job.state == "committed", job.errors or job.failure
    assert (job.file_name, job.file_format) == ("花名册.xls", "xlsx")
    assert Household.objects.get(number="X001").members.get().name == "户主壬"
    # Text under an .xls name is read as CSV: a table imports, bytes that are no
    # text say so, and nothing is written.
    rows = [person_row("X002", world.a.code, name="户主癸", sex="M", seq=32)]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "导出.xls")
    assert (job.file_format, job.errors, job.new_rows) == ("csv", [], 1)
    job = upload(world.admin, "roster", b"\xff\xfe\xff\x00\xff\x00\x81", "乱码.xls")
    assert job.state == "invalid" and "无法识别文件的文字编码" in job.errors[0][2]
    assert not Household.objects.filter(number="X002").exists()


def test_template_has_dropdowns_text_columns_and_instructions(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("spreadsheets:template", args=["roster"]))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[0] == "说明"
    sheet = workbook["搬迁户花名册"]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "户编号*" and "身份证号*" in headers
    id_column = headers.index("身份证号*") + 1
    assert sheet.cell(row=2, column=id_column).number_format == "@"
    assert sheet.cell(row=2, column=id_column).data_type == "s"
    ranges = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    ethnicity_letter = sheet.cell(row=1, column=headers.index("民族") + 1).column_letter
    assert ranges[f"{ethnicity_letter}2"].startswith("=")
    options = workbook["选项"]
    values = [c.value for c in options[ethnicity_letter]][1:]
    assert "布依族" in values and len(values) == 56
    notes = " ".join(str(c.value) for c in workbook["说明"]["A"] if c.value)
    assert "文本" in notes and "全部写入" in notes
    # The template itself imports (its example rows are valid apart from the codes).
    assert response["Content-Disposition"].startswith("attachment")


def test_every_kind_has_a_template_and_export(client, world):
    client.force_login(world.admin)
    from relocation.spreadsheets.kinds import kinds

    for kind in kinds():
        assert client.get(reverse("spreadsheets:template", args=[kind.key])).status_code == 200
        for fmt in ("xlsx", "csv"):
            url = reverse("spreadsheets:export", args=[kind.key, fmt])
            assert client.get(url).status_code == 200, (kind.key, fmt)


def test_queries_do_not_grow_with_rows(world, django_assert_max_num_queries):
    from relocation.spreadsheets import engine
    from relocation.spreadsheets.kinds import get_kind

    kind = get_kind("roster")

    def plan_for(n):
        rows = []
        for h in range(n):
            rows.append(person_row(f"Q{h:04d}", world.a.code, seq=h % 500, name=f"人{h}"))
        sheet = reading.read(csv_bytes(ROSTER_HEADERS, rows), "csv")
        return engine.plan_file(kind, sheet, engine.Context(world.admin))

    with django_assert_max_num_queries(12):
        small = plan_for(20)
    with django_assert_max_num_queries(12):
        big = plan_for(400)
    assert not small.errors and not big.errors and big.counts()["new"] == 400


def test_change_lists_link_to_import_for_administrators_only(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("admin:communities_household_changelist")).content.decode()
    assert f"{reverse('spreadsheets:index')}?kind=roster" in page
    client.force_login(world.county)
    page = client.get(reverse("admin:communities_household_changelist")).content.decode()
    assert "?kind=roster" not in page


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf\xe8\xba\xab\xff,broken",  # a UTF-8 BOM, then bytes no UTF-8 has
        b"\xff\xfe\x2b\x75\xfd",  # a UTF-16 BOM and an odd number of bytes after it
    ],
)
def test_a_broken_file_behind_a_byte_order_mark_is_refused_in_chinese(world, content):
    """It raised UnicodeDecodeError: a server error on the upload page."""
    before = Household.objects.count()
    job = upload(world.admin, "roster", content, "花名册.csv")
    assert job.state == "invalid"
    assert "无法识别文件的文字编码" in job.errors[0][2]
    assert Household.objects.count() == before


def test_a_macro_enabled_workbook_imports_and_its_macros_are_never_run(world):
    """An .xlsm (a county template with macros) is the same workbook with a VBA project
    inside: read as an .xlsx, the macros left as they are."""
    content = xlsx_bytes(ROSTER_HEADERS, [person_row("M701", world.a.code, seq=71)])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    assert reading.file_format("花名册（宏）.XLSM") == "xlsx"
    job = import_file(world.admin, "roster", buffer.getvalue(), "花名册（宏）.xlsm")
    assert (job.file_format, job.errors, job.new_rows) == ("xlsx", [], 1)
    assert Household.objects.filter(number="M701").exists()
