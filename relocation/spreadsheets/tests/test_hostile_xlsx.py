"""Issue 9 item 5: a few kilobytes of .xlsx must not make the reader allocate gigabytes.

Each hostile file is read in a child process whose address space is limited
(``resource.setrlimit``) to what it already uses plus 768 MB: a regression makes
the child die with an allocation failure, and the test fail, instead of taking
the test runner down with it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from communities.models import Person
from relocation.spreadsheets import reading, sheetparts
from relocation.spreadsheets.models import ImportJob, ImportUpload

from . import hostile_xlsx
from .helpers import ROSTER_HEADERS, person_row, xlsx_bytes

ROOT = Path(__file__).resolve().parents[3]

CHILD = """
import json, os, resource, sys
import django
django.setup()
from relocation.spreadsheets import reading, sheetparts
if os.environ.get("SHEETPARTS_FROM"):
    sheetparts.PARTS_FROM = int(os.environ["SHEETPARTS_FROM"])
from relocation.spreadsheets.tests import hostile_xlsx

builder, args, guard = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "on"
content = getattr(hostile_xlsx, builder)(*args)
if not guard:  # the control: the same read without the checks
    reading.check_sheet_extent = reading.check_shared_strings = lambda *a, **k: None
with open("/proc/self/status") as status:
    used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
limit = used + 768 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    sheet = reading.read(content, "xlsx", columns=32)
except reading.FileRejected as exc:
    print(json.dumps({"rejected": str(exc), "bytes": len(content)}))
else:
    print(json.dumps({"rows": len(sheet.rows), "bytes": len(content)}))
"""


@pytest.fixture(autouse=True, params=["whole", "in-parts"])
def read_way(request, monkeypatch):
    """Every file is read both ways: whole, and as a large sheet is, in parts (``sheetparts``)."""
    if request.param == "in-parts":
        monkeypatch.setattr(sheetparts, "PARTS_FROM", 0)
        monkeypatch.setenv("SHEETPARTS_FROM", "0")


def read_in_child(builder, *args, guard=True, **env):
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relocation.test_settings", **env}
    child_env.pop("DATABASE_URL", None)  # the read touches no database
    result = subprocess.run(
        [sys.executable, "-c", CHILD, builder, json.dumps(args), "on" if guard else "off"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result


def rejected(result):
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["bytes"] < 20_000  # the files really are tiny
    return outcome.get("rejected", "")


def test_without_the_guard_the_far_corner_file_kills_the_reader():
    """The control: the child's limit does catch the allocation the guard prevents."""
    result = read_in_child("far_corner", guard=False)
    assert result.returncode != 0
    assert "memory allocation" in result.stderr or "MemoryError" in result.stderr


@pytest.mark.parametrize(
    "dimension",
    ["A1:XFD200000", None, "A1:B2"],
    ids=["true-dimension", "no-dimension", "lying-dimension"],
)
def test_cells_at_a1_and_xfd200000_are_refused_without_allocating(dimension):
    message = rejected(read_in_child("far_corner", dimension))
    assert "XFD 列" in message and "超过 96 列" in message and "已拒绝" in message


def test_a_row_beyond_the_import_limit_is_refused_before_reading():
    message = rejected(
        read_in_child("workbook", hostile_xlsx.sheet_xml([("A1", 1), ("B900000", 2)]))
    )
    assert "第 900000 行" in message and "200000 行" in message


def test_an_area_larger_than_the_cell_limit_is_refused(settings):
    message = rejected(
        read_in_child(
            "workbook",
            hostile_xlsx.sheet_xml([("A1", 1), ("CR100000", 2)]),
            SPREADSHEET_MAX_CELLS="1000000",
        )
    )
    assert "超过 1000000 个单元格" in message


@pytest.mark.parametrize("name", ["xl/sharedStrings.xml", "xl/SharedStrings.xml"])
def test_a_shared_strings_table_declaring_billions_is_refused_before_opening(name):
    message = rejected(read_in_child("shared_strings_bomb", 2_000_000_000, name))
    assert "共享字符串表过大" in message


@pytest.mark.parametrize(
    "attribute",
    ['r="XFD200000"', "r='XFD200000'", 'r = "XFD200000"', 's="1"  r="XFD2"'],
    ids=["double-quoted", "single-quoted", "spaced", "after-another"],
)
def test_a_cell_with_a_second_reference_is_refused_without_allocating(attribute):
    """calamine follows the last ``r``: every scan must see past the first one."""
    message = rejected(read_in_child("second_reference", attribute))
    assert "无法读取该工作簿" in message or "XFD 列" in message


def test_a_prefixed_attribute_is_not_a_reference_and_the_sheet_reads():
    result = read_in_child("second_reference", 'x:r="XFD200000"')
    assert rejected(result) == ""
    assert json.loads(result.stdout.strip().splitlines()[-1])["rows"] == 0  # one header row


def test_without_the_guard_a_second_reference_kills_the_reader():
    result = read_in_child("second_reference", guard=False)
    assert result.returncode != 0
    assert "memory allocation" in result.stderr or "MemoryError" in result.stderr


def test_a_shared_strings_table_with_more_strings_than_cells_is_refused():
    message = rejected(read_in_child("many_shared_strings", 2001, SPREADSHEET_MAX_CELLS="2000"))
    assert "超过 2000 项" in message


@pytest.mark.parametrize(
    "cells",
    [
        "<c><v>1</v></c>" * 200,  # no r: each follows the previous one
        '<c r="A1"><v>1</v></c><c s="0" r="XFD1"><v>2</v></c>',  # r not first
        '<c r="A1"><v>1</v></c><c r="&#88;FD1"><v>2</v></c>',  # a character reference
        '<c r="A1"><v>1</v></c><c r="XFD1" s="1"/>',  # no value, still placed
    ],
    ids=["no-r", "r-not-first", "char-ref", "empty-cell"],
)
def test_cells_written_unusually_are_placed_as_the_format_says(cells):
    sheet = hostile_xlsx.sheet_xml([]).replace(
        "<sheetData></sheetData>", f'<sheetData><row r="1">{cells}</row></sheetData>'
    )
    with pytest.raises(reading.FileRejected, match="(CS|XFD) 列"):
        reading.read(hostile_xlsx.workbook(sheet), "xlsx", columns=32)


def test_prefixed_cells_are_found_too():
    sheet = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c>'
        '<x:c r="XFD300000"><x:v>2</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    with pytest.raises(reading.FileRejected, match="XFD 列"):
        reading.read(hostile_xlsx.workbook(sheet), "xlsx", columns=32)


def test_a_sheet_within_the_limits_still_reads(settings):
    settings.SPREADSHEET_MAX_ROWS = 3
    content = hostile_xlsx.workbook(hostile_xlsx.sheet_xml([("A1", 1), ("CR2", 2), ("B4", 3)]))
    sheet = reading.read(content, "xlsx", columns=32)  # 96 columns, rows 1..4 allowed
    assert [number for number, _values in sheet.rows] == [2, 4]
    assert len(sheet.rows[0][1]) == 96


@pytest.mark.django_db
def test_the_upload_page_says_why_and_saves_no_data(client, world):
    client.force_login(world.admin)
    before = Person.objects.count()
    response = client.post(
        reverse("spreadsheets:upload"),
        {"kind": "roster", "file": SimpleUploadedFile("炸弹.xlsx", hostile_xlsx.far_corner())},
    )
    job = ImportJob.objects.get()
    assert job.state == "invalid" and "XFD 列" in job.errors[0][2]
    page = client.get(response.url).content.decode()
    assert "超过 96 列" in page
    assert Person.objects.count() == before
    assert ImportUpload.objects.filter(job=job, parsed__isnull=False).count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_job_worker_marks_the_job_invalid_instead_of_dying(client, world, settings):
    from .test_background import run_worker

    settings.SPREADSHEET_INLINE_MAX_BYTES = 100  # the worker reads it
    client.force_login(world.admin)
    client.post(
        reverse("spreadsheets:upload"),
        {
            "kind": "roster",
            "file": SimpleUploadedFile("炸弹.xlsx", hostile_xlsx.shared_strings_bomb()),
        },
    )
    run_worker()
    job = ImportJob.objects.get()
    assert (job.state, job.progress) == ("invalid", 100)
    assert "共享字符串表过大" in job.errors[0][2]


def test_a_normal_roster_still_imports(client, world):
    """The guard does not get in the way of a real workbook."""
    content = xlsx_bytes(ROSTER_HEADERS, [person_row("N001", world.a.code)])
    sheet = reading.read(content, "xlsx", columns=32)
    assert len(sheet.rows) == 1 and sheet.headers[: len(ROSTER_HEADERS)] == ROSTER_HEADERS


def test_the_default_column_limit_is_wider_than_every_kind():
    from relocation.spreadsheets.kinds import kinds

    assert max(len(kind.columns) for kind in kinds()) < reading.DEFAULT_COLUMNS


@pytest.mark.parametrize("limit", [1, 9, 10, 39, 99, 100, 101, 1000, 200051, 1048576])
def test_numerals_up_to_a_row_limit_match_exactly_the_rows_not_above_it(limit):
    import re

    pattern = re.compile(f"{reading.numerals_up_to(str(limit), '0123456789')}$")
    near = range(max(1, limit - 120), limit + 120)
    spread = range(1, 3 * limit + 2, max(1, limit // 500))
    for number in {*near, *spread, 10 ** len(str(limit))}:
        assert bool(pattern.match(str(number))) == (number <= limit), number


@pytest.mark.parametrize("limit", [1, 26, 27, 39, 52, 96, 702, 703, 16384])
def test_numerals_up_to_a_column_match_exactly_the_columns_not_after_it(limit):
    import re

    pattern = re.compile(
        f"{reading.numerals_up_to(reading.column_letters(limit), reading.LETTERS)}$"
    )
    for number in range(1, 20000):
        assert bool(pattern.match(reading.column_letters(number))) == (number <= limit), number


def _sheet_part(sheet):
    import io
    import zipfile

    content = hostile_xlsx.workbook(sheet)
    return zipfile.ZipFile(io.BytesIO(content)), "xl/worksheets/sheet1.xml"


def test_the_bounded_scan_passes_what_spreadsheet_programs_write(world):
    """A real workbook is checked by one search, with or without a <dimension>."""
    import io
    import zipfile

    content = xlsx_bytes(ROSTER_HEADERS, [person_row("N001", world.a.code)] * 3)
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert reading._within_bounds(archive, "xl/worksheets/sheet1.xml", 200051, 96, 8_000_000)
    for dimension in ("A1:CR3", None, "A1"):
        cells = [("A1", 1), ("CR2", 2), ("B3", 3)]
        archive, member = _sheet_part(hostile_xlsx.sheet_xml(cells, dimension))
        # 96 columns: within the dimension's bound; without one, within the first
        # chunk's columns (and 83,333 rows); a dimension of "A1" does not hold.
        assert reading._within_bounds(archive, member, 200051, 96, 8_000_000) is (dimension != "A1")


@pytest.mark.parametrize(
    "cells",
    [
        '<c r="A1"><v>1</v></c><c><v>2</v></c>',  # no r
        '<c r="A1"/><c s="0" r="B1"/>',  # r not first
        '<c r="A1"/><c r="&#66;1"/>',  # a character reference
        '<c r="A1"/><c r="b1"/>',  # lower case
        '<c r="A1"/><c r="B"/>',  # no row number
        '<c r="A1"/><c\tr="B1"/>',  # a tab before r
        '<c r="A1"/><c r="AN1"/>',  # column 40, beyond 39
        '<c r="A1"/><c r="A200052"/>',  # row beyond the limit
        '<c r="A1"/><c r="A0200052"/>',  # ... with a leading zero
        '<c r="A1"/><x:c r="B1"/>',  # a prefix
    ],
)
def test_the_bounded_scan_sends_anything_else_to_the_cell_by_cell_scan(cells):
    # The bound stated: 39 columns and 200,051 rows (7.8 million cells, within 8 million).
    sheet = hostile_xlsx.sheet_xml([], "A1:AM200051").replace(
        "<sheetData></sheetData>", f'<sheetData><row r="1">{cells}</row></sheetData>'
    )
    archive, member = _sheet_part(sheet)
    assert not reading._within_bounds(archive, member, 200051, 96, 8_000_000)
    assert reading._within_bounds(
        *_sheet_part(sheet.replace(cells, '<c r="A1"/><c r="AM200051"/><c r="A00007"/>')),
        200051,
        96,
        8_000_000,
    )


def test_a_tag_cut_between_two_chunks_is_searched_whole(monkeypatch):
    cells = "".join(f'<c r="A{n}"><v>{n}</v></c>' for n in range(1, 400))
    plain = hostile_xlsx.sheet_xml([], "A1:A399").replace(
        "<sheetData></sheetData>", f'<sheetData><row r="1">{cells}</row></sheetData>'
    )
    sheet = plain.replace("</row>", '<c r="ZZ9"/></row>')  # beyond the stated column A
    cut_inside = sheet.index('<c r="ZZ9"/>') + 7  # <c r="Z | Z9"/>
    for chunk in (cut_inside, 7, 64, 4096):
        monkeypatch.setattr(reading, "CHUNK", chunk)
        assert not reading._within_bounds(*_sheet_part(sheet), 200051, 96, 8_000_000), chunk
        assert reading._within_bounds(*_sheet_part(plain), 200051, 96, 8_000_000), chunk
