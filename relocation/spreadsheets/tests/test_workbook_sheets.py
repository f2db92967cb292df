"""A county's workbook with one sheet per group, read together when the uploader asks.

The preview of the first data sheet names the others (``test_county_layouts``); its
button checks the same file again with all of them, numbered on per sheet
(``engine.SHEET_STRIDE``), so that every error, the error workbook and the commit say
and keep which sheet a row is on.
"""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from communities.models import Household, Person
from communities.roles import Role
from relocation.spreadsheets import engine, reading, services
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.models import ImportJob, ImportUpload

from . import hostile_xls as h
from .helpers import ROSTER_HEADERS, person_row, upload

pytestmark = pytest.mark.django_db

STRIDE = engine.SHEET_STRIDE


def group_workbook(groups, headers=None):
    """A 填表说明 sheet, then one roster sheet per group: ``{title: [rows]}``; ``headers``:
    ``{title: column names}`` where a sheet's differ from the roster's."""
    workbook = Workbook()
    workbook.active.title = "填表说明"
    workbook.active.append(["每组一个工作表，户主在前。"])
    for title, rows in groups.items():
        sheet = workbook.create_sheet(title)
        names = (headers or {}).get(title, ROSTER_HEADERS)
        sheet.append(names)
        for row in rows:
            sheet.append([row.get(name) for name in names])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_together(client, user, job):
    """The preview's button: POST, follow to the new job."""
    client.force_login(user)
    response = client.post(reverse("spreadsheets:sheets", args=[job.pk]))
    assert response.status_code == 302, response.status_code
    new = ImportJob.objects.exclude(pk=job.pk).get(file_sha256=job.file_sha256, user=user)
    assert response.url == reverse("spreadsheets:job", args=[new.pk])
    return new


def test_the_sheets_named_are_checked_and_imported_together(client, world):
    groups = {
        "一组": [
            person_row("G301", world.a.code, name="户主甲", sex="M", seq=301),
            person_row("G301", world.a.code, relationship="子", name="甲子", sex="M", seq=302),
        ],
        "二组": [person_row("G302", world.a.code, name="户主乙", sex="M", seq=303)],
        "三组": [person_row("G303", world.a.code, name="户主丙", sex="F", seq=304)],
    }
    job = upload(world.admin, "roster", group_workbook(groups), "分组花名册.xlsx")
    assert (job.errors, job.new_rows, job.changes["other_sheets"]) == ([], 2, ["二组", "三组"])
    client.force_login(world.admin)
    page = client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    assert 'id="read-all-sheets"' in page and "改为一起检查这 3 个工作表" in page

    new = read_together(client, world.admin, job)
    job.refresh_from_db()
    assert job.state == "cancelled"  # its preview no longer says what would be imported
    assert not ImportUpload.objects.filter(job=job).exists()
    assert new.sheets == ["一组", "二组", "三组"]
    assert (new.state, new.errors, new.total_rows, new.new_rows) == ("ready", [], 4, 4)
    assert new.changes["sheets"] == ["一组", "二组", "三组"]
    assert "other_sheets" not in new.changes
    page = client.get(reverse("spreadsheets:job", args=[new.pk])).content.decode()
    assert "一起检查了工作簿中的 3 个工作表：“一组”、“二组”、“三组”" in page
    assert 'id="read-all-sheets"' not in page

    new = services.job_confirm(new, world.admin)
    assert new.state == "committed", new.failure
    assert set(
        Household.objects.filter(number__startswith="G30").values_list("number", flat=True)
    ) == {"G301", "G302", "G303"}
    assert Person.objects.filter(household__number="G301").count() == 2


def test_errors_of_sheets_read_together_name_their_sheet_and_nothing_is_written(client, world):
    """A person on two sheets, and a bad cell on the third: each error is on its sheet's
    row, the duplicate names the other sheet's row, and the error workbook marks each
    sheet's cells on a sheet of its own name."""
    twice = person_row("G311", world.a.code, name="户主甲", sex="M", seq=311)
    again = dict(twice, 户编号="G312", 姓名="户主乙")
    bad = person_row("G313", world.a.code, name="户主丙", sex="M", seq=313, 民族="火星族")
    groups = {"一组": [twice], "二组": [again], "三组": [bad]}
    households, people = Household.objects.count(), Person.objects.count()
    job = upload(world.admin, "roster", group_workbook(groups), "分组花名册.xlsx")
    assert job.errors == []  # 一组 alone is fine
    new = read_together(client, world.admin, job)
    assert new.state == "invalid"
    by_row = {(row, header): message for row, header, message in new.errors}
    assert by_row[(2, "身份证号")] == "身份证号与工作表“二组”第2行重复。"
    assert by_row[(STRIDE + 2, "身份证号")] == "身份证号与工作表“一组”第2行重复。"
    assert (2 * STRIDE + 2, "民族") in by_row
    assert (Household.objects.count(), Person.objects.count()) == (households, people)

    page = client.get(reverse("spreadsheets:job", args=[new.pk])).content.decode()
    assert "<th>工作表</th><th>行号</th>" in page
    assert "<td>三组</td><td>2</td><td>民族</td>" in page
    assert str(STRIDE + 2) not in page  # no row is shown by its inner number

    response = client.get(reverse("spreadsheets:errors", args=[new.pk]))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["错误清单", "一组", "二组", "三组"]
    listing = list(workbook["错误清单"].iter_rows(values_only=True))
    assert listing[0] == ("工作表", "行号", "列名", "错误原因")
    assert ("三组", 2, "民族") in {row[:3] for row in listing[1:]}
    ethnicity = ROSTER_HEADERS.index("民族") + 1
    assert workbook["三组"].cell(row=2, column=ethnicity).comment is not None
    assert workbook["二组"].cell(row=2, column=ethnicity).comment is None
    assert workbook["二组"].cell(row=1, column=1).value == ROSTER_HEADERS[0]


def test_sheets_with_different_columns_are_refused(client, world):
    """Rows read together must say the same things: a sheet without a column the first has
    is an error on its header row, and nothing is written."""
    kind = get_kind("roster")
    optional = next(c.header for c in kind.columns if not c.required and c.header != "户联系电话")
    fewer = [name for name in ROSTER_HEADERS if name != optional]
    groups = {
        "一组": [person_row("G321", world.a.code, name="户主甲", sex="M", seq=321)],
        "二组": [person_row("G322", world.a.code, name="户主乙", sex="M", seq=322)],
    }
    job = upload(world.admin, "roster", group_workbook(groups, {"二组": fewer}), "分组.xlsx")
    assert job.errors == []
    new = read_together(client, world.admin, job)
    assert new.state == "invalid"
    assert new.errors == [
        [
            STRIDE + 1,
            "",
            f"工作表“二组”的列与工作表“一组”不同（缺少“{optional}”）：一起导入的工作表须有相同的列。",
        ]
    ]
    assert not Household.objects.filter(number__in=["G321", "G322"]).exists()


def test_sheets_read_together_keep_to_the_row_limit(client, world, settings):
    groups = {
        "一组": [
            person_row(f"G33{i}", world.a.code, name="户主", sex="M", seq=330 + i) for i in (1, 2)
        ],
        "二组": [
            person_row(f"G34{i}", world.a.code, name="户主", sex="M", seq=340 + i) for i in (1, 2)
        ],
    }
    settings.SPREADSHEET_MAX_ROWS = 3
    job = upload(world.admin, "roster", group_workbook(groups), "分组.xlsx")
    assert job.errors == [] and job.new_rows == 2
    new = read_together(client, world.admin, job)
    assert new.state == "invalid"
    assert new.errors == [[1, "", "这 2 个工作表共有 4 行，超过单次导入上限 3 行。请分批导入。"]]
    assert not Household.objects.filter(number__startswith="G3").exists()


def test_only_the_uploader_may_read_the_other_sheets(client, world, make_user):
    """Another importer (even one who sees the job), a job without other sheets and a
    committed job are refused, and nothing changes."""
    groups = {
        "一组": [person_row("G351", world.a.code, name="户主甲", sex="M", seq=351)],
        "二组": [person_row("G352", world.a.code, name="户主乙", sex="M", seq=352)],
    }
    job = upload(world.admin, "roster", group_workbook(groups), "分组.xlsx")
    other = make_user(is_superuser=True)
    client.force_login(other)
    assert client.post(reverse("spreadsheets:sheets", args=[job.pk])).status_code == 403
    worker = make_user(role=Role.COMMUNITY_WORKER, settlements=[world.a])
    client.force_login(worker)
    assert client.post(reverse("spreadsheets:sheets", args=[job.pk])).status_code in (403, 404)
    job.refresh_from_db()
    assert job.state == "ready" and ImportJob.objects.count() == 1
    client.force_login(world.admin)
    assert client.get(reverse("spreadsheets:sheets", args=[job.pk])).status_code == 405

    single = Workbook()
    single.active.append(ROSTER_HEADERS)
    single.active.append(
        [person_row("G353", world.a.code, seq=353).get(name) for name in ROSTER_HEADERS]
    )
    buffer = io.BytesIO()
    single.save(buffer)
    alone = upload(world.admin, "roster", buffer.getvalue(), "一组.xlsx")
    assert client.post(reverse("spreadsheets:sheets", args=[alone.pk])).status_code == 403

    job = services.job_confirm(job, world.admin)
    assert job.state == "committed"
    assert client.post(reverse("spreadsheets:sheets", args=[job.pk])).status_code == 403
    assert ImportJob.objects.count() == 2


def test_an_xls_reads_the_sheets_asked_for_in_their_order():
    known = get_kind("roster").header_mapping()
    headers = [h.label_sst(0, 0, 0), h.label_sst(0, 1, 1)]
    stream = h.workbook_stream(
        [h.sst(["姓名", "身份证号", "韦国强", "王秀英"])],
        [
            ("一组", [*headers, h.label_sst(1, 0, 2)]),
            ("二组", [*headers, h.label_sst(1, 0, 3)]),
        ],
    )
    content = h.compound_file(stream)
    sheet = reading.read(content, "xls", columns=32, known=known, sheets=["二组", "一组"])
    assert (sheet.sheet_name, sheet.rows) == ("二组", [(2, ["王秀英", ""])])
    assert [(part.sheet_name, part.rows) for part in sheet.more] == [
        ("一组", [(2, ["韦国强", ""])])
    ]
    with pytest.raises(reading.FileRejected, match="工作簿中没有名为“三组”的工作表"):
        reading.read(content, "xls", columns=32, known=known, sheets=["一组", "三组"])


def test_rows_are_named_with_their_sheet_only_when_several_were_read():
    with translation.override("zh-hans"):
        assert engine.rows_text([3, 4]) == "第3、4行"
        assert engine.rows_text([3, STRIDE + 5], ["一组", "二组"]) == (
            "工作表“一组”第3行；工作表“二组”第5行"
        )
        assert engine.sheet_row(2 * STRIDE + 7, ["a", "b", "c"]) == ("c", 7)
        assert engine.sheet_row(7) == ("", 7)
    with translation.override("en"):
        assert engine.rows_text([3, 4]) == "rows 3, 4"
        assert engine.rows_text([STRIDE + 5], ["一组", "二组"]) == "row 5 of sheet “二组”"
