"""A large sheet read in parts at once (``sheetparts``) gives exactly the rows of the sheet
read whole, keeps the guard in front of every part, and falls back to the whole read
whenever a part is not what it expects."""

import datetime
import io
import zipfile

import pytest
from openpyxl import Workbook

from relocation.spreadsheets import reading, sheetparts

from . import hostile_xlsx


@pytest.fixture
def parts(monkeypatch):
    """Every sheet is read in parts, its XML in small chunks; ``parts.given`` holds the sheet XML of each part
    calamine was given, ``parts.whole`` counts the sheets read whole."""

    class Spy:
        given = []
        whole = 0

    read_part, extent = sheetparts._read_part, reading.check_sheet_extent

    def spy_part(buffer, sheet_name):
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
            sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
            assert len(sheets) == 1  # the other sheets are left out of a part's copy
            Spy.given.append(archive.read(sheets[0]))
        return read_part(buffer, sheet_name)

    def spy_extent(*args, **kwargs):
        Spy.whole += 1
        return extent(*args, **kwargs)

    monkeypatch.setattr(sheetparts, "PARTS_FROM", 0)
    monkeypatch.setattr(reading, "CHUNK", 8192)  # cuts and checks across many chunks
    monkeypatch.setattr(sheetparts, "_read_part", spy_part)
    monkeypatch.setattr(reading, "check_sheet_extent", spy_extent)
    return Spy


EXTENT = reading.check_sheet_extent


def read_whole(content, monkeypatch):
    """The sheet read whole, unseen by the ``parts`` spy."""
    with monkeypatch.context() as patch:
        patch.setattr(sheetparts, "PARTS_FROM", 10**12)
        patch.setattr(reading, "check_sheet_extent", EXTENT)
        return reading.read(content, "xlsx", columns=32)


def saved(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_rows(body, shared=None):
    """An .xlsx whose sheet holds ``body`` (its row elements), with the shared strings
    ``shared`` (a list) if given."""
    sheet = hostile_xlsx.sheet_xml([], None).replace(
        "<sheetData></sheetData>", f"<sheetData>{body}</sheetData>"
    )
    table = None
    if shared is not None:
        items = "".join(f"<si><t>{text}</t></si>" for text in shared)
        table = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>'
        )
    return hostile_xlsx.workbook(sheet, shared_strings=table)


def county_workbook(write_only=False):
    """A county's workbook as Excel/WPS or a streaming writer keeps it: an instructions
    sheet first, a title above the header, values of every type, blank and wide rows,
    rows that begin further right, and a household's cells merged down its rows."""
    workbook = Workbook(write_only=write_only)
    if write_only:
        workbook.create_sheet("说明").append(["本表按户填写"])
        sheet = workbook.create_sheet("花名册")
    else:
        workbook.active.title = "说明"
        workbook.active.append(["本表按户填写"])
        sheet = workbook.create_sheet("花名册")
    sheet.append(["黔西南州搬迁人口花名册"])
    sheet.append(["户编号", "姓名", "身份证号", "出生日期", "人数", "面积", "是否务工", "备注"])
    for n in range(400):
        if n % 37 == 5:
            sheet.append([])
        elif n % 53 == 7:
            sheet.append([None, None, f"仅第三列{n}"])
        elif n % 61 == 3:
            sheet.append([f"H{n:04d}"] + [f"宽行{c}" for c in range(1, 20)])
        else:
            sheet.append(
                [
                    f"H{n // 4:04d}" if n % 4 == 0 else None,
                    f"王{n}",
                    f"52232119800101{n:04d}",
                    datetime.date(1950, 1, 1) + datetime.timedelta(days=n * 97),
                    4,
                    80.5 + n,
                    n % 3 == 0,
                    None if n % 5 else '备注 <row r="9"> & 引号',
                ]
            )
    if not write_only:
        for top in range(3, 300, 8):
            sheet.merge_cells(start_row=top, start_column=1, end_row=top + 3, end_column=1)
    return saved(workbook)


@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "streamed"])
def test_the_parts_read_exactly_the_rows_of_the_whole_sheet(parts, monkeypatch, write_only):
    content = county_workbook(write_only)
    whole = read_whole(content, monkeypatch)
    in_parts = reading.read(content, "xlsx", columns=32)
    assert len(parts.given) == sheetparts.PARTS and parts.whole == 0
    assert in_parts.headers == whole.headers and in_parts.rows == whole.rows
    assert len(whole.rows) >= 380 and any(len(values) == 20 for _n, values in whole.rows)
    if not write_only:  # the merged 户编号 is on every row of its household
        assert [v[0] for _n, v in in_parts.rows[1:5]] == ["H0000"] * 4


def test_rows_that_start_right_of_the_first_parts_columns_are_placed(parts, monkeypatch):
    cells = [(f"A{n}", n) for n in range(1, 40)] + [(f"E{n}", n) for n in range(40, 80)]
    content = hostile_xlsx.workbook(hostile_xlsx.sheet_xml(cells + [("C90", 9)], None))
    in_parts, whole = reading.read(content, "xlsx", columns=32), read_whole(content, monkeypatch)
    assert len(parts.given) == sheetparts.PARTS and parts.whole == 0
    assert in_parts.rows == whole.rows
    assert whole.rows[-1] == (90, ["", "", 9, "", ""])


def test_rows_out_of_order_across_a_cut_are_read_whole(parts, monkeypatch):
    body = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 60))
    body += '<row r="2"><c r="B2"><v>22</v></c></row>'  # row 2 again, at the end
    content = with_rows(body)
    in_parts = reading.read(content, "xlsx", columns=32)
    assert parts.given and parts.whole == 1  # tried in parts, then read whole
    assert in_parts.rows == read_whole(content, monkeypatch).rows


def test_a_cell_beyond_the_limits_in_a_late_part_is_never_given_to_calamine(parts):
    cells = [(f"A{n}", n) for n in range(1, 600)] + [("XFD550", 1)]
    content = hostile_xlsx.workbook(hostile_xlsx.sheet_xml(cells, None))
    with pytest.raises(reading.FileRejected, match="XFD 列"):
        reading.read(content, "xlsx", columns=32)
    assert parts.given, "the parts before it were read"
    assert not any(b"XFD" in part for part in parts.given)
    assert parts.whole == 1  # the full guard refused the sheet, with its message


def test_a_cell_the_bounded_scan_cannot_place_sends_the_sheet_to_the_full_guard(parts, monkeypatch):
    body = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 600))
    body += '<row r="600"><c><v>1</v></c><c><v>2</v></c></row>'  # cells without r
    content = with_rows(body)
    in_parts = reading.read(content, "xlsx", columns=32)
    assert parts.given and not any(b"<c><v>" in part for part in parts.given)
    assert parts.whole == 1
    assert in_parts.rows == read_whole(content, monkeypatch).rows
    assert in_parts.rows[-1] == (600, [1, 2])


def test_a_part_calamine_cannot_read_sends_the_sheet_to_the_whole_read(parts, monkeypatch):
    spied, calls = sheetparts._read_part, []

    def fail_third(buffer, sheet_name):
        calls.append(sheet_name)
        if len(calls) == 3:
            raise sheetparts._Uncut
        return spied(buffer, sheet_name)

    monkeypatch.setattr(sheetparts, "_read_part", fail_third)
    content = hostile_xlsx.workbook(
        hostile_xlsx.sheet_xml([(f"B{n}", n) for n in range(1, 90)], None)
    )
    in_parts = reading.read(content, "xlsx", columns=32)
    assert len(calls) == sheetparts.PARTS and parts.whole == 1
    assert in_parts.rows == read_whole(content, monkeypatch).rows


def test_a_sheet_under_the_threshold_is_read_whole(parts, monkeypatch):
    monkeypatch.setattr(sheetparts, "PARTS_FROM", 8 * 2**20)
    content = county_workbook()
    reading.read(content, "xlsx", columns=32)
    assert parts.given == [] and parts.whole == 1


def test_no_part_is_empty_and_every_row_is_in_one_part(parts):
    content = hostile_xlsx.workbook(
        hostile_xlsx.sheet_xml([(f"A{n}", n) for n in range(1, 500)], None)
    )
    reading.read(content, "xlsx", columns=32)
    counts = [part.count(b"<row ") for part in parts.given]
    assert len(counts) == sheetparts.PARTS and all(counts) and sum(counts) == 499
    assert all(part.endswith(b"</sheetData></worksheet>") for part in parts.given)


def test_every_part_reads_the_shared_strings(parts, monkeypatch):
    body = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>{n % 50}</v></c><c r="B{n}"><v>{n}.5</v></c>'
        f'<c r="C{n}" t="b"><v>{n % 2}</v></c></row>'
        for n in range(1, 700)
    )
    content = with_rows(body, [f"第{n}户" for n in range(50)])
    in_parts = reading.read(content, "xlsx", columns=32)
    assert len(parts.given) == sheetparts.PARTS and parts.whole == 0
    assert in_parts.rows == read_whole(content, monkeypatch).rows
    assert in_parts.rows[-1] == (699, ["第49户", 699.5, True])


def test_large_shared_strings_make_fewer_parts(parts, monkeypatch):
    """Each part's copy has the shared strings, which calamine reads again for each part."""
    strings = [f"{'贵州省黔西南州兴义市' * 8}{n}" for n in range(400)]
    body = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>{n - 1}</v></c></row>' for n in range(1, 401)
    )
    # The strings outweigh the sheet: less than four times their size each.
    assert len(body) < sheetparts.PART_PER_SHARED * len("".join(strings).encode())
    content = with_rows(body, strings)
    in_parts = reading.read(content, "xlsx", columns=32)
    assert len(parts.given) == 2 and parts.whole == 0
    assert in_parts.rows == read_whole(content, monkeypatch).rows
    assert in_parts.rows[-1] == (400, [f"{'贵州省黔西南州兴义市' * 8}399"])
