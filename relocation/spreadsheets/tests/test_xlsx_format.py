"""The admin exports' .xlsx, written row by row (``relocation.spreadsheets.formats``)."""

import datetime
import io
from decimal import Decimal

import pytest
import tablib
from django.conf import settings
from openpyxl import load_workbook

from relocation.spreadsheets.formats import XLSX, sheet_title


def _written(dataset):
    return load_workbook(io.BytesIO(XLSX().export_data(dataset)))


def test_it_is_the_xlsx_the_admin_offers():
    offered = [fmt for fmt in settings.EXPORT_FORMATS if fmt().get_title() == "xlsx"]
    assert offered == [XLSX]


def test_header_bold_and_frozen_values_kept_formulas_escaped_breaks_wrapped():
    dataset = tablib.Dataset(headers=["户编号", "姓名", "出生日期", "金额", "备注"])
    dataset.title = "搬迁户基本信息"
    dataset.append(["522301000001", "张三", datetime.date(1980, 5, 1), -12.5, "=HYPERLINK(1)"])
    dataset.append(["522301000002", None, None, 3, "第一行\n第二行"])
    book = _written(dataset)
    sheet = book.active
    assert sheet.title == "搬迁户基本信息"
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == ["户编号", "姓名", "出生日期", "金额", "备注"]
    assert all(cell.font.b for cell in sheet[1])
    first = [cell.value for cell in sheet[2]]
    assert first[:2] == ["522301000001", "张三"]
    assert first[2] == datetime.datetime(1980, 5, 1)  # a date, not text
    assert first[3] == -12.5  # a number stays a number, never escaped
    assert first[4] == "'=HYPERLINK(1)"  # no formula runs
    assert sheet["B3"].value is None
    assert sheet["E3"].value == "第一行\n第二行" and sheet["E3"].alignment.wrap_text
    assert not sheet["E2"].alignment.wrap_text


def test_amounts_are_numbers_shown_with_their_decimal_places():
    """3200.00 元 is the number 3200 shown 「3200.00」 (Excel's general format would show
    「3200」); an amount without places and the cells after one keep the general format."""
    dataset = tablib.Dataset(headers=["月收入", "人数", "比例", "备注", "日期"])
    dataset.append([Decimal("3200.00"), 3, Decimal("0.125"), "现金", datetime.date(2024, 3, 1)])
    dataset.append([Decimal("-1000.50"), Decimal("7"), None, "x", None])
    sheet = _written(dataset).active
    a2, b2, c2, d2, e2 = sheet[2]
    assert (a2.value, a2.number_format) == (3200, "0.00")
    assert (b2.value, b2.number_format) == (3, "General")
    assert (c2.value, c2.number_format) == (0.125, "0.000")
    assert (d2.value, d2.number_format) == ("现金", "General")
    assert e2.value == datetime.datetime(2024, 3, 1) and e2.number_format == "yyyy-mm-dd"
    a3, b3 = sheet["A3"], sheet["B3"]
    assert (a3.value, a3.number_format) == (-1000.5, "0.00")
    assert (b3.value, b3.number_format) == (7, "General")
    assert sheet["D3"].number_format == "General"


def test_columns_are_as_wide_as_their_values_chinese_counting_twice():
    dataset = tablib.Dataset(headers=["户编号", "x"])
    dataset.append(["522301000001", "贵州省黔西南州兴义市"])
    sheet = _written(dataset).active
    assert sheet.column_dimensions["A"].width == 12 + 2  # 12 digits, wider than 户编号 (6)
    assert sheet.column_dimensions["B"].width == 20 + 2  # 10 Chinese characters


@pytest.mark.parametrize(
    "title, expected",
    [
        ("家庭成员基本信息", "家庭成员基本信息"),
        ("a/b:c?d*e[f]", "a-b-c-d-e-f-"),
        ("长" * 40, "长" * 31),
        (None, "Sheet1"),
    ],
)
def test_sheet_titles_excel_accepts(title, expected):
    assert sheet_title(title) == expected
