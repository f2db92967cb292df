"""Old binary .xls workbooks: read as their .xlsx would be, hostile ones refused at once."""

import datetime
import io
import pathlib
import struct
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from communities.models import Household, Person
from relocation.spreadsheets import biff, reading
from relocation.spreadsheets.models import ImportJob

from . import hostile_xls as h
from . import xls_files
from .helpers import upload

ROSTER_XLS = (pathlib.Path(__file__).parent / "files" / "roster-excel97.xls").read_bytes()
#: The record that says a workbook is encrypted (RC4, with its salt and verifier).
FILEPASS = h.record(0x002F, struct.pack("<HHH", 1, 1, 1) + bytes(48))


def refused(content, says, columns=32):
    """Reading ``content`` is refused with ``says``, in well under a second."""
    start = time.process_time()
    with pytest.raises(reading.FileRejected) as caught:
        reading.read(content, reading.true_format("xls", content), columns=columns)
    assert says in str(caught.value)
    assert time.process_time() - start < 1
    return str(caught.value)


def test_an_xls_made_by_an_office_suite_reads_as_its_xlsx_does():
    """The LibreOffice .xls of a county's roster gives the same headers, rows, dates,
    numbers and merged household cells as the .xlsx it was saved from."""
    buffer = io.BytesIO()
    xls_files.workbook().save(buffer)
    from_xlsx = reading.read(buffer.getvalue(), "xlsx", columns=32)
    assert reading.true_format("xls", ROSTER_XLS) == "xls"
    from_xls = reading.read(ROSTER_XLS, "xls", columns=32)
    assert from_xls.headers == from_xlsx.headers
    assert from_xls.rows == from_xlsx.rows
    # And both are the roster as written: the members' merged cells carry the household.
    header, *people = from_xls.rows
    assert header == (2, xls_files.HEADERS)
    assert [values for _number, values in people] == xls_files.rows()
    assert people[1][1][5] == datetime.date(2019, 6, 18)
    assert people[3][1][9] == "龚䶮"


def test_a_renamed_xls_is_read_by_what_it_holds():
    assert reading.true_format("xlsx", ROSTER_XLS) == "xls"
    assert reading.file_format("花名册.XLS") == "xls"


def test_a_wps_et_file_is_read_by_what_it_holds():
    """WPS Spreadsheets saves .et, which holds an .xls's BIFF8 (or, renamed, an .xlsx)."""
    assert reading.file_format("花名册.et") == reading.file_format("花名册.ET") == "xls"
    assert reading.true_format("xls", ROSTER_XLS) == "xls"
    buffer = io.BytesIO()
    xls_files.workbook().save(buffer)
    assert reading.true_format(reading.file_format("花名册.et"), buffer.getvalue()) == "xlsx"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["兴义市花名册.xls", "兴义市花名册.et"])
def test_an_xls_roster_imports_through_the_pages(client, world, name):
    client.force_login(world.admin)
    response = client.post(
        reverse("spreadsheets:upload"),
        {"kind": "roster", "file": SimpleUploadedFile(name, ROSTER_XLS)},
    )
    job = ImportJob.objects.get()
    assert job.file_format == "xls"
    assert job.errors == []
    page = client.get(response.url).content.decode()
    assert "确认导入（新增 4 行，更新 0 行）" in page
    assert not Household.objects.filter(number__in=["X001", "X002"]).exists()
    client.post(reverse("spreadsheets:confirm", args=[job.pk]))
    first = Household.objects.get(number="X001")
    assert first.settlement == world.a
    assert first.moved_in_date == datetime.date(2019, 6, 18)
    assert first.housing_area == Decimal("85.50")
    assert sorted(first.members.values_list("name", flat=True)) == ["王秀英", "韦国强", "韦小龙"]
    assert Household.objects.get(number="X002").settlement == world.b
    assert Person.objects.filter(name="龚䶮", household__number="X002").exists()


def test_excel_95_text_in_the_gbk_code_page():
    content = h.workbook(
        [("花名册", [h.label_biff5(0, 0, "姓名"), h.label_biff5(1, 0, "龚丽珺")])],
        globals_records=[h.codepage(936)],
        biff8=False,
    )
    sheet = reading.read(content, "xls", columns=32)
    assert (sheet.headers, sheet.rows) == (["姓名"], [(2, ["龚丽珺"])])


def test_cells_of_every_kind_and_merges():
    content = h.workbook(
        [
            (
                "花名册",
                [
                    h.label_sst(0, 0, 0),
                    h.label_sst(0, 1, 1),
                    h.label_sst(1, 0, 2),
                    h.number(1, 1, 1500.5),
                    h.record(0x0205, struct.pack("<HHHBB", 2, 1, 0, 1, 0)),  # TRUE
                    h.record(0x0205, struct.pack("<HHHBB", 3, 1, 0, 0x2A, 1)),  # #N/A
                    h.blank(9, 5),  # formatting only: no row, no column
                    h.merged((1, 3, 0, 0)),
                ],
            )
        ],
        strings=["户编号", "月收入", "H001"],
    )
    sheet = reading.read(content, "xls", columns=32)
    assert sheet.headers == ["户编号", "月收入"]
    assert sheet.rows == [(2, ["H001", 1500.5]), (3, ["H001", True]), (4, ["H001", "#N/A"])]


@pytest.mark.parametrize(
    ("number", "datemode", "value"),
    [
        (43634.0, 0, datetime.date(2019, 6, 18)),
        (43634.5, 0, datetime.datetime(2019, 6, 18, 12, 0)),
        (0.75, 0, datetime.time(18, 0)),
        (42172.0, 1, datetime.date(2019, 6, 18)),  # the 1904 date system (Excel for Mac)
        (-5.0, 0, -5.0),  # no date: the number, which the column then refuses
    ],
)
def test_date_cells(number, datemode, value):
    assert biff.excel_datetime(number, datemode) == value


def test_a_string_table_that_declares_more_than_it_holds():
    """A 5.6 KB file whose one string says its phonetic part starts before itself
    (a negative size) and whose table declares a billion strings: xlrd would read the
    same bytes a billion times (10 million took 25 s and 91 MB here)."""
    looping = h.record(0x00FC, struct.pack("<II", 10**9, 10**9) + struct.pack("<HBi", 0, 4, -7))
    content = h.compound_file(h.workbook_stream([looping], [("花名册", [h.label_sst(0, 0, 0)])]))
    assert len(content) < 6000
    refused(content, "无法读取该 .xls 工作簿")
    # More strings than the cell limit is refused however many bytes there are.
    many = h.workbook([("花名册", [h.label_sst(0, 0, 0)])], strings=["户"] * 40)
    refused(
        h.workbook([("花名册", [h.label_sst(0, 0, 0)])], strings=["户"] * 40, declared=41),
        "无法读取",
    )
    assert reading.read(many, "xls").headers == ["户"]


def test_a_sheet_reaching_beyond_the_limits_is_refused(settings):
    far_column = h.workbook([("花名册", [h.number(0, 0, 1), h.number(65535, 255, 1)])])
    assert len(far_column) < 6000
    refused(far_column, "IV 列有内容，超过 96 列")
    settings.SPREADSHEET_MAX_ROWS = 100
    far_row = h.workbook([("花名册", [h.number(0, 0, 1), h.number(5000, 0, 1)])])
    refused(far_row, "在第 5001 行有内容，超过单次导入上限 100 行")
    settings.SPREADSHEET_MAX_CELLS = 50
    row_of_numbers = (
        struct.pack("<HH", 1, 0)
        + b"".join(struct.pack("<Hi", 0, (n << 2) | 2) for n in range(60))
        + struct.pack("<H", 59)
    )
    many = h.workbook([("花名册", [h.number(0, 0, 1), h.record(0x00BD, row_of_numbers)])])
    refused(many, "超过 50 个单元格")
    # Two cells whose rows × columns pass the limit: the reader makes every row as wide.
    corners = h.workbook([("花名册", [h.number(0, 0, 1), h.number(9, 9, 1)])])
    refused(corners, "超过 50 个单元格")


def test_blank_cells_down_a_whole_column_are_not_counted(settings):
    """Formatting that reaches row 65,536 and column IV (a whole column or row formatted,
    as counties do) is no content: the sheet reads."""
    settings.SPREADSHEET_MAX_ROWS = 100
    content = h.workbook(
        [("花名册", [h.number(0, 0, 7), h.blank(65535, 0), h.blank(0, 255), h.blank(70, 3)])]
    )
    sheet = reading.read(content, "xls", columns=32)
    assert (sheet.headers, sheet.rows) == (["7.0"], [])


def test_the_rows_limit_counts_rows_of_content(settings):
    settings.SPREADSHEET_MAX_ROWS = 3
    cells = [h.number(row, 0, row) for row in range(5)]
    refused(h.workbook([("花名册", cells)]), "文件有 4 行数据，超过单次导入上限 3 行")


def test_encrypted_workbooks_say_so():
    says = "工作簿设置了打开密码"
    refused(h.workbook([("花名册", [h.number(0, 0, 1)])], globals_records=[FILEPASS]), says)
    # An .xlsx with a password to open it is an OLE2 file with an encrypted package.
    locked_xlsx = h.compound_file(b"\x04\x00\x04\x00" + bytes(200), name="EncryptedPackage")
    assert reading.true_format("xlsx", locked_xlsx) == "xls"
    refused(locked_xlsx, says)


def test_other_compound_files_and_old_versions_say_what_they_are():
    word = h.compound_file(b"\xec\xa5" + bytes(1000), name="WordDocument")
    refused(word, "该文件不是 Excel 工作簿")
    biff4 = h.compound_file(h.record(0x0409, struct.pack("<HHH", 0, 0x0010, 0)) + h.EOF)
    refused(biff4, "Excel 5.0 之前的旧格式")


def test_broken_structures_are_refused_quickly():
    sheet = [("花名册", [h.number(0, 0, 1)])]
    good = h.workbook_stream([], sheet)
    endless_sheet = good[: -len(h.EOF)]
    refused(h.compound_file(endless_sheet), "无法读取该 .xls 工作簿")
    # The sheet's position points into the middle of a record.
    bound = good.index(struct.pack("<H", 0x0085))
    shifted = bytearray(good)
    struct.pack_into("<i", shifted, bound + 4, struct.unpack_from("<i", good, bound + 4)[0] + 2)
    refused(h.compound_file(bytes(shifted)), "无法读取")
    # A compound file cut short, and one that is only its signature.
    refused(h.workbook(sheet)[:700], "无法读取")
    refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "无法读取")


def test_a_small_stream_whose_mini_sectors_loop():
    """A stream under 4,096 bytes lies in 64-byte mini sectors; xlrd follows their chain
    with no record of the sectors seen, so a chain that loops filled the memory."""
    content = bytearray(h.compound_file(h.workbook_stream([], [("花名册", [h.number(0, 0, 1)])])))
    # Declare the stream small, lying in a mini stream of one sector whose chain loops on itself.
    directory = 512 + 512  # the FAT sector, then the directory
    stream_entry = directory + 128
    struct.pack_into("<iI", content, stream_entry + 116, 0, 100)  # first mini sector 0, 100 bytes
    struct.pack_into("<iI", content, directory + 116, 2, 512)  # root: the mini stream, 1 sector
    fat = 512
    mini_fat_sector = 3
    struct.pack_into("<ii", content, fat + 4 * 2, -2, -2)  # sectors 2 and 3: one sector each
    struct.pack_into("<ii", content, 60, mini_fat_sector, 1)  # the mini allocation table
    struct.pack_into("<i", content, 512 * (1 + mini_fat_sector), 0)  # mini sector 0 → 0 → …
    refused(bytes(content), "无法读取")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "加密.xls",
            h.workbook([("花名册", [h.number(0, 0, 1)])], [FILEPASS]),
            "工作簿设置了打开密码",
        ),
        # The start of a binary .xls under an .xlsx name: read as the .xls it is, and broken.
        ("花名册.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "无法读取该 .xls 工作簿"),
    ],
)
def test_a_refused_xls_changes_nothing(world, name, content, says):
    before = (Household.objects.count(), Person.objects.count())
    job = upload(world.admin, "roster", content, name)
    assert (job.file_format, job.state) == ("xls", "invalid")
    assert says in job.errors[0][2]
    assert (Household.objects.count(), Person.objects.count()) == before


def test_a_chart_inside_the_sheet_is_passed_over_as_xlrd_does():
    """xlrd skips a substream inside a sheet up to its first EOF, nested BOFs or not:
    the guard counts exactly the cells xlrd then reads."""
    chart = h.bof(0x0020) + h.number(65535, 255, 1) + h.EOF
    sheet = h.workbook([("花名册", [h.number(0, 0, 1), chart, h.number(1, 0, 2)])])
    assert reading.read(sheet, "xls", columns=32).rows == [(2, [2.0])]
    # A second BOF inside the chart does not hide what follows the chart's first EOF.
    nested = h.bof(0x0020) + h.bof(0x0020) + h.EOF + h.number(65535, 255, 1) + h.EOF
    refused(h.workbook([("花名册", [h.number(0, 0, 1), nested])]), "IV 列有内容")


def test_a_biff8_header_that_says_another_version_is_refused():
    """xlrd would read a globals BOF of version 0x0400 as BIFF4, loading every sheet at
    once, before any check of ours."""
    stream = bytearray(h.workbook_stream([], [("花名册", [h.number(65535, 255, 1)])]))
    struct.pack_into("<H", stream, 4, 0x0400)
    refused(h.compound_file(bytes(stream)), "Excel 5.0 之前的旧格式")


def test_the_data_sheet_of_an_xls_is_found_by_its_column_names():
    """A summary sheet first, a hidden one, then the roster: with the kind's column names
    the roster is read; without them, the first visible sheet."""
    from relocation.spreadsheets.kinds import get_kind

    known = get_kind("roster").header_mapping()
    stream = h.workbook_stream(
        [h.sst(["汇总", "姓名", "身份证号", "韦国强"])],
        [
            ("汇总表", [h.label_sst(0, 0, 0), h.number(1, 0, 4)]),
            ("字典", [h.label_sst(0, 0, 1)]),
            ("花名册", [h.label_sst(0, 0, 1), h.label_sst(0, 1, 2), h.label_sst(1, 0, 3)]),
        ],
    )
    hidden = stream.index("字典".encode("utf-16-le")) - 4  # BOUNDSHEET's visibility byte
    stream = stream[:hidden] + b"\x01" + stream[hidden + 1 :]
    content = h.compound_file(stream)
    assert reading.read(content, "xls", columns=32, known=known).headers == ["姓名", "身份证号"]
    assert reading.read(content, "xls", columns=32).headers == ["汇总"]


def test_later_sheets_of_an_xls_that_name_the_columns_are_named():
    """二组 names the roster's columns in its top rows: it is named beside 一组, the sheet
    read.  三组 names them only below its top eleven rows, where no header row is looked
    for, so it is not."""
    from relocation.spreadsheets.kinds import get_kind

    known = get_kind("roster").header_mapping()
    headers = [h.label_sst(0, 0, 0), h.label_sst(0, 1, 1)]
    late = [h.number(row, 0, row) for row in range(11)] + [
        h.label_sst(11, 0, 0),
        h.label_sst(11, 1, 1),
    ]
    stream = h.workbook_stream(
        [h.sst(["姓名", "身份证号", "韦国强"])],
        [
            ("一组", [*headers, h.label_sst(1, 0, 2)]),
            ("二组", headers),
            ("三组", late),
        ],
    )
    sheet = reading.read(h.compound_file(stream), "xls", columns=32, known=known)
    assert (sheet.sheet_name, sheet.other_sheets) == ("一组", ["二组"])
    assert sheet.rows == [(2, ["韦国强", ""])]


def test_only_the_top_rows_of_the_sheets_after_the_data_sheet_are_read():
    """Naming the other sheets costs their top rows, not their whole contents."""
    from relocation.spreadsheets.kinds import get_kind

    known = get_kind("roster").header_mapping()
    sheets = {0: [["姓名", "身份证号"], ["韦国强", ""]], 1: [["说明"]], 2: [["姓名", "身份证号"]]}
    asked = []

    def load(index, top=None):
        asked.append((index, top))
        return sheets[index]

    chosen = reading.choose_sheet([0, 2, 1], load, known, ["一组", "说明", "二组"])
    assert chosen == (sheets[0], "一组", ["二组"])
    assert asked == [(0, None), (2, 1 + reading.ROWS_ABOVE_HEADER)]  # 说明 not even opened
