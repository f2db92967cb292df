"""Turning an uploaded file into rows of cell values, safely.

* Size and row limits are checked before anything is parsed.
* ``.xlsx`` files are zip archives: their members' declared sizes and
  compression ratios are checked before a byte is inflated, and XML carrying
  a DTD (the "billion laughs" family) is refused; only then does calamine (a
  Rust reader that neither expands entities nor builds a DOM) read the sheet.
* Vertically merged cells (a household's 户编号 merged down its members' rows)
  count on every row they cover.
* ``.csv`` files: a BOM decides (UTF-8, UTF-16); otherwise strict UTF-8, and
  failing that GB18030, the superset of the GBK that Chinese Excel writes
  ("CSV (逗号分隔)").  The user is never asked.
"""

import codecs
import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


class FileRejected(Exception):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass
class SheetData:
    headers: list
    rows: list  # list of (row number in the file, list of cell values)
    encoding: str = ""


def limits():
    return {
        "max_bytes": settings.SPREADSHEET_MAX_UPLOAD_BYTES,
        "max_rows": settings.SPREADSHEET_MAX_ROWS,
        "max_unzipped": settings.SPREADSHEET_MAX_XLSX_UNZIPPED_BYTES,
        "max_ratio": settings.SPREADSHEET_MAX_XLSX_RATIO,
    }


def file_format(name):
    lowered = (name or "").lower()
    if lowered.endswith(".xlsx"):
        return "xlsx"
    if lowered.endswith(".csv"):
        return "csv"
    raise FileRejected(
        _("只能上传 .xlsx 或 .csv 文件（不支持旧版 .xls，请在 Excel 中另存为 .xlsx）。")
    )


def check_size(size):
    limit = limits()["max_bytes"]
    if size > limit:
        raise FileRejected(
            _("文件过大（%(size).1f MB），上限为 %(limit).0f MB。请拆分后分批导入。")
            % {"size": size / 2**20, "limit": limit / 2**20}
        )
    if size == 0:
        raise FileRejected(_("文件是空的。"))


def read(content, fmt):
    """``SheetData`` of the first sheet (xlsx) or the whole file (csv)."""
    check_size(len(content))
    if fmt == "xlsx":
        return read_xlsx(content)
    return read_csv(content)


# --- xlsx ---------------------------------------------------------------------


def check_xlsx_archive(content):
    """Refuse zip bombs and XML entity tricks before any XML is parsed."""
    lim = limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise FileRejected(
            _("文件不是有效的 .xlsx 工作簿（可能已损坏，或是改了扩展名的其他文件）。")
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > 2000:
            raise FileRejected(_("工作簿内部文件过多，已拒绝。"))
        total = sum(m.file_size for m in members)
        if total > lim["max_unzipped"]:
            raise FileRejected(
                _("工作簿解压后过大（%(size).0f MB），上限为 %(limit).0f MB。请拆分后分批导入。")
                % {"size": total / 2**20, "limit": lim["max_unzipped"] / 2**20}
            )
        for member in members:
            if member.compress_size and member.file_size / member.compress_size > lim["max_ratio"]:
                raise FileRejected(_("工作簿压缩比异常（可能是“压缩炸弹”），已拒绝。"))
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as handle:
                    head = handle.read(4096).upper()
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise FileRejected(_("工作簿包含不允许的 XML 声明（DTD/实体），已拒绝。"))


def read_xlsx(content):
    from python_calamine import CalamineWorkbook

    check_xlsx_archive(content)
    max_rows = limits()["max_rows"]
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        # The data sheet: the first one that is not the instructions sheet.
        names = [n for n in workbook.sheet_names if n not in ("说明", "Instructions")]
        sheet = workbook.get_sheet_by_name(names[0] if names else workbook.sheet_names[0])
        if sheet.total_height > max_rows + 1:
            raise FileRejected(too_many_rows(sheet.total_height - 1, max_rows))
        data = sheet.to_python(skip_empty_area=False)
        fill_vertical_merges(data, sheet.merged_cell_ranges or ())
        del workbook, sheet
        headers = [clean_header(v) for v in (data[0] if data else [])]
        rows = [
            (number, values)
            for number, values in enumerate(data[1:], start=2)
            if any(v != "" and v is not None for v in values)
        ]
        del data
    except FileRejected:
        raise
    except Exception:  # calamine raises its own errors for broken files
        raise FileRejected(_("无法读取该工作簿，请用 Excel 打开后另存为 .xlsx 再上传。")) from None
    return SheetData(headers=headers, rows=rows)


def fill_vertical_merges(data, ranges):
    """Give every row of a vertically merged cell the merged value.

    Counties' rosters often merge 户编号, 户主 and the household's other cells
    down all the rows of one household; the reader sees the value only on the
    first of them.  Only the merge's first column is filled: a cell merged
    across columns belongs to the column it starts in.
    """
    for (top, left), (bottom, _right) in ranges:
        if bottom <= top or top >= len(data) or left >= len(data[top]):
            continue
        value = data[top][left]
        for row in data[top + 1 : bottom + 1]:
            if left < len(row):
                row[left] = value


def too_many_rows(count, limit):
    return _("文件有 %(count)d 行数据，超过单次导入上限 %(limit)d 行。请拆分后分批导入。") % {
        "count": count,
        "limit": limit,
    }


# --- csv ----------------------------------------------------------------------


def detect_encoding(content):
    """The encoding of a CSV file: a BOM decides, else strict UTF-8, else GB18030."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        content.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        content.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise FileRejected(
            _(
                "无法识别文件的文字编码。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再上传。"
            )
        ) from None


def read_csv(content):
    encoding = detect_encoding(content)
    text = content.decode(encoding)
    first_line = text.split("\n", 1)[0]
    # Excel's "Unicode text" is tab-separated; everything else here uses commas.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    max_rows = limits()["max_rows"]
    try:
        headers = [clean_header(v) for v in next(reader, [])]
        rows = []
        for values in reader:
            if any(v.strip() for v in values):
                if len(rows) >= max_rows:
                    raise FileRejected(too_many_rows(len(rows) + 1, max_rows))
                rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise FileRejected(_("CSV 文件格式错误：%(error)s") % {"error": exc}) from None
    return SheetData(headers=headers, rows=rows, encoding=encoding)


def clean_header(value):
    if value is None:
        return ""
    text = str(value).replace("\n", "").replace(" ", "").replace("\u3000", "").strip()
    # "身份证号*" marks a required column in the templates.
    return text.rstrip("*＊")


def excel_date(value):
    """A date from an Excel serial day number (the 1900 date system)."""
    return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value))
