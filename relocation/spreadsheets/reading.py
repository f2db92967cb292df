"""Turning an uploaded file into rows of cell values, safely.

* Size and row limits are checked before anything is parsed.
* ``.xlsx`` files are zip archives: their members' declared sizes and
  compression ratios are checked before a byte is inflated, and XML carrying
  a DTD (the "billion laughs" family) is refused; only then does calamine (a
  Rust reader that neither expands entities nor builds a DOM) read the sheet.
* Before calamine builds a sheet's dense range, the sheet XML (and the shared
  strings) are streamed and every cell tag is placed (``scan_sheet``: one search
  for a cell outside a bound, else a scan for the furthest cell, in C or with a
  defused expat parser): a 12 KB file with cells at A1 and XFD200000 would
  otherwise ask for billions of cells and kill the process.
* Vertically merged cells (a household's 户编号 merged down its members' rows)
  count on every row they cover.
* ``.csv`` files: a BOM decides (UTF-8, UTF-16); otherwise strict UTF-8, and
  failing that GB18030, the superset of the GBK that Chinese Excel writes
  ("CSV (逗号分隔)").  The user is never asked.
"""

import codecs
import csv
import datetime
import functools
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from operator import itemgetter
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class FileRejected(Exception):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass
class SheetData:
    headers: list
    rows: list  # list of (row number in the file, list of cell values)
    encoding: str = ""
    #: A workbook's: the sheet read, and the other sheets that name the kind's columns
    #: as well (``choose_sheet``), which are not read.
    sheet_name: str = ""
    other_sheets: list = field(default_factory=list)
    #: The sheets read after this one when the user asked for several (``ImportJob.sheets``):
    #: a ``SheetData`` each, in the order asked.
    more: list = field(default_factory=list)


def limits():
    return {
        "max_bytes": settings.SPREADSHEET_MAX_UPLOAD_BYTES,
        "max_rows": settings.SPREADSHEET_MAX_ROWS,
        "max_unzipped": settings.SPREADSHEET_MAX_XLSX_UNZIPPED_BYTES,
        "max_ratio": settings.SPREADSHEET_MAX_XLSX_RATIO,
        "max_cells": settings.SPREADSHEET_MAX_CELLS,
    }


#: Columns a sheet may have beyond its kind's own (counties add 序号, 备注, …).
COLUMN_MARGIN = 64
#: The kind's columns when the caller does not say (more than the widest kind has).
DEFAULT_COLUMNS = 64
#: Rows a sheet may have beyond the import limit (titles above the header, notes below).
ROW_MARGIN = 50


UNREADABLE_XLSX = gettext_lazy("无法读取该工作簿，请用 Excel 打开后另存为 .xlsx 再上传。")


def file_format(name):
    """The format the file's name says: "xlsx", "csv", or "xls" (looked into by
    ``true_format``: often an .xlsx or a web page under that name)."""
    lowered = (name or "").lower()
    if lowered.endswith((".xlsx", ".xlsm")):  # .xlsm: the same workbook, with macros (never run)
        return "xlsx"
    if lowered.endswith(".csv"):
        return "csv"
    # .et: WPS Spreadsheets' own format, the BIFF8 of an .xls (``true_format`` looks in).
    if lowered.endswith((".xls", ".et")):
        return "xls"
    raise FileRejected(_("只能上传 .xlsx、.xls、.et 或 .csv 文件。"))


# What a file begins with: a zip archive (.xlsx), an OLE2 compound file (.xls, .et).
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MARKUP = re.compile(rb"^(?:\xef\xbb\xbf|\s)*<(?:!doctype|html|table|\?xml|meta|head)", re.I)


def true_format(named, content):
    """The format to read ``content`` as, given the one its name says (``file_format``).

    A workbook is read by what it holds, whatever its name: an .xlsx (a zip
    archive) or an old binary .xls (an OLE2 compound file); a file called .xls
    holding neither is the text table business systems export under that name
    (read as CSV).  The web page (HTML, or Excel 2003 XML) exported so is
    refused saying what it is, and so is a file called .xlsx that is one,
    instead of "broken".
    """
    if named == "csv":
        return named
    head = content[:512]
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE2):
        return "xls"
    if _MARKUP.match(head):
        raise FileRejected(
            _(
                "该文件实际上是网页（HTML/XML）格式，只是扩展名为 .%(ext)s（常见于从业务系统导出的表格）。"
                "请用 Excel 或 WPS 打开，另存为 .xlsx 后再上传。"
            )
            % {"ext": named}
        )
    if named == "xls":
        return "csv"  # text under that name (tab- or comma-separated exports): read_csv tells
    return named  # "xlsx": check_xlsx_archive says it is not a workbook


def check_size(size):
    limit = limits()["max_bytes"]
    if size > limit:
        raise FileRejected(
            _("文件过大（%(size).1f MB），上限为 %(limit).0f MB。请拆分后分批导入。")
            % {"size": size / 2**20, "limit": limit / 2**20}
        )
    if size == 0:
        raise FileRejected(_("文件是空的。"))


def read(content, fmt, columns=None, known=None, sheets=()):
    """``SheetData`` of the data sheet (xlsx, xls) or the whole file (csv).

    ``columns``: how many columns the kind has (a sheet may have
    ``COLUMN_MARGIN`` more); without it, ``DEFAULT_COLUMNS``.  ``known``: the
    kind's column names (its ``header_mapping``): the data sheet is the first
    whose top rows name two of them (``choose_sheet``), wherever it is in the
    workbook; without ``known``, the first visible sheet that is no
    instructions sheet.  ``sheets``: the names of the sheets to read instead,
    whole, in that order (the user asked for a workbook's sheets together): the
    first is returned, the others in its ``more``.
    """
    check_size(len(content))
    pick = _picker(known, sheets)
    if fmt == "xlsx":
        return read_xlsx(content, columns, pick)
    if fmt == "xls":
        return read_xls(content, columns, pick)
    return read_csv(content)


def _picker(known, wanted):
    """``pick(order, load, names)``: the ``SheetData`` a workbook's reader returns, from its
    sheets' ``order`` of trial, its ``load(index, top=None)`` and the sheets' ``names``."""

    def pick(order, load, names):
        if not wanted:
            return sheet_data(*choose_sheet(order, load, known, names))
        return sheets_data(wanted, load, names)

    return pick


def sheets_data(wanted, load, names):
    """The sheets named ``wanted``, read whole: a ``SheetData`` of the first, with the
    others in its ``more``.  Their rows together keep to the import's row limit."""
    parts = []
    for name in wanted:
        if name not in names:
            raise FileRejected(_("工作簿中没有名为“%(name)s”的工作表。") % {"name": name})
        parts.append(sheet_data(load(names.index(name)), name))
    total, max_rows = sum(len(part.rows) for part in parts), limits()["max_rows"]
    if total > max_rows:
        raise FileRejected(
            _("这 %(sheets)d 个工作表共有 %(rows)d 行，超过单次导入上限 %(limit)d 行。请分批导入。")
            % {"sheets": len(parts), "rows": total, "limit": max_rows}
        )
    first = parts[0]
    first.more = parts[1:]
    return first


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


def read_xlsx(content, columns=None, pick=None):
    """The data sheet of an .xlsx workbook; a large one is read in parts at once
    (``sheetparts``), each checked first as a whole sheet is (``check_sheet_extent``)."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    from .sheetparts import read_in_parts

    check_xlsx_archive(content)
    check_shared_strings(content)
    max_rows = limits()["max_rows"]
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        names = workbook.sheet_names
        visible = [m.visible == SheetVisibleEnum.Visible for m in workbook.sheets_metadata]

        def load(index, top=None):
            parts = read_in_parts(content, names[index], columns) if top is None else None
            if parts is None:
                check_sheet_extent(content, names[index], columns)
                sheet = workbook.get_sheet_by_name(names[index])
                height = sheet.total_height
            else:
                data, merged, height = parts
            if height > max_rows + 1:
                raise FileRejected(too_many_rows(height - 1, max_rows))
            if parts is None:
                data = sheet.to_python(skip_empty_area=False, nrows=top)
                merged = sheet.merged_cell_ranges or ()
            if top is None:
                fill_vertical_merges(data, merged)
            return data

        return (pick or _picker(None, ()))(sheet_order(names, visible), load, names)
    except FileRejected:
        raise
    except BaseException as exc:
        # calamine raises its own errors for broken files; where one makes it panic,
        # pyo3 raises PanicException, a BaseException like SystemExit, which would end
        # the job worker's check instead of telling the user.
        if not isinstance(exc, Exception) and not is_rust_panic(exc):
            raise
        raise FileRejected(str(UNREADABLE_XLSX)) from None


def read_xls(content, columns=None, pick=None):
    """The data sheet of an old binary .xls workbook (``biff.read_xls`` says how, safely)."""
    from . import biff

    pick = pick or _picker(None, ())
    return biff.read_xls(content, sheet_limits(columns), limits()["max_rows"], pick)


# --- which sheet holds the data -------------------------------------------------

#: Sheets that hold no data to import, by their names in either language: the
#: template's instructions and hidden choices, an error workbook's list of errors
#: (a clerk fixes the red cells in its data sheet and uploads it again), and a
#: county's own 填表说明 / 填报说明.
NOT_DATA_NAMES = frozenset(
    {"说明", "选项", "错误清单", "Description", "Instructions", "Options", "Error list"}
)
#: A sheet's column names are looked for in its first row and this many below it (a
#: title or a note above them), and a row names them when it names this many known ones
#: (here to choose the data sheet, in ``columns.find_header_row`` to find the header row).
ROWS_ABOVE_HEADER = 10
KNOWN_HEADERS = 2


def not_data(name):
    """Whether a sheet's name says it holds no data to import."""
    return name.strip() in NOT_DATA_NAMES or "说明" in name


def sheet_order(names, visible):
    """The sheets' indexes in the order they are tried for data: visible sheets first,
    then hidden ones, and last those whose names say they hold none."""
    indexes = range(len(names))
    return sorted(indexes, key=lambda i: (not_data(names[i]), not visible[i], i))


def choose_sheet(order, load, known, names):
    """``(rows, sheet name, other sheets)``: the rows of the first sheet (in ``order``)
    whose top rows name at least two of the ``known`` column headers; without such a
    sheet, or without ``known``, the first one.  ``load(index)`` reads a sheet (guards
    first; ``load(index, top=n)`` only its first ``n`` rows, merges left as they are);
    ``names`` are the sheets' names.

    The other sheets are those after it that name the kind's columns too (at least
    half as many): a county's workbook with one sheet per settlement or group.  Only
    the chosen sheet is read; the preview names the others, so that nobody takes their
    rows for imported.  A sheet the guards refuse, or named as holding no data, is
    not counted among them.
    """
    first = chosen = None
    for position, index in enumerate(order):
        data = load(index)
        if known is None:
            return data, names[index], []
        score = best_header_score(data, known)
        if score >= KNOWN_HEADERS:
            chosen = (data, index, score, order[position + 1 :])
            break
        if first is None:
            first = (data, index)
    if chosen is None:
        data, index = first if first is not None else ([], None)
        return data, names[index] if index is not None else "", []
    data, index, score, rest = chosen
    others = []
    for other in rest:
        if not_data(names[other]):
            continue
        try:
            found = best_header_score(load(other, top=1 + ROWS_ABOVE_HEADER), known)
        except FileRejected:
            continue
        if found >= KNOWN_HEADERS and 2 * found >= score:
            others.append(names[other])
    return data, names[index], others


def best_header_score(data, known):
    """How many known column names the best of a sheet's top rows names."""
    return max((header_score(row, known) for row in data[: 1 + ROWS_ABOVE_HEADER]), default=0)


def header_score(cells, known):
    """How many of ``cells`` name a column in ``known`` (cleaned as headers are)."""
    return sum(1 for cell in cells if clean_header(cell) in known)


def sheet_data(data, sheet_name="", other_sheets=()):
    """``SheetData`` of a workbook sheet's rows of values: the first row is the header."""
    headers = [clean_header(v) for v in (data[0] if data else [])]
    # Blank rows are left out: every cell "" or None.  ``any`` (in C, stopping
    # at the first filled cell) settles almost every row; only a row of
    # falsy cells (0, False, "", None) is counted.
    rows = [
        (number, values)
        for number, values in enumerate(data[1:], start=2)
        if any(values) or values.count("") + values.count(None) < len(values)
    ]
    return SheetData(
        headers=headers, rows=rows, sheet_name=sheet_name, other_sheets=list(other_sheets)
    )


def is_rust_panic(exc):
    """True for pyo3's ``PanicException`` (a Rust library's panic raised in Python)."""
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


# --- xlsx extent guard ----------------------------------------------------------
#
# calamine turns a sheet into a dense rows × columns range, sized by its
# furthest cell, and reserves room for as many shared strings as the table
# declares, before Python sees a value.  So both parts are streamed first, in
# chunks, stopping at the first limit crossed (``scan_sheet``; the XML parser
# is expat with every DTD and entity refused, as defusedxml does).  The
# <dimension> element is not trusted: a file can lie about it.

CHUNK = 4 * 2**20


class _TooLarge(Exception):
    pass


def _refuse_dtd(*_args):
    raise FileRejected(_("工作簿包含不允许的 XML 声明（DTD/实体），已拒绝。"))


def _stream(archive, member, start):
    """Feed a member through a defused, namespace-blind expat parser."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.StartElementHandler = start
    try:
        with archive.open(member) as handle:
            while chunk := handle.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError:
        raise FileRejected(str(UNREADABLE_XLSX)) from None


def _local(name):
    return name.rpartition(":")[2]


def _cell_position(ref):
    """(row, column), 1-based, of an A1 reference; None if it is not one."""
    column = 0
    for index, char in enumerate(ref):
        if "A" <= char <= "Z":
            column = column * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            column = column * 26 + ord(char) - 96
        else:
            digits = ref[index:]
            return (int(digits), column) if digits.isdigit() and column else None
    return None


def sheet_limits(columns=None):
    """The furthest row and column, and the most cells, a sheet may have."""
    lim = limits()
    if columns is None:
        columns = DEFAULT_COLUMNS
    return lim["max_rows"] + 1 + ROW_MARGIN, columns + COLUMN_MARGIN, lim["max_cells"]


#: A cell's start tag as Excel, LibreOffice, WPS and openpyxl write it ...
#: ... with ``r`` first and then only the other attributes a cell has (ECMA-376
#: CT_Cell), double-quoted, up to the tag's end: a second ``r`` (which calamine
#: would follow) or anything else sends the part to the expat scan, which
#: refuses a duplicate attribute ...
CELL_ATTRIBUTES = rb'(?: (?:s|t|cm|vm|ph)="[^"<>]*+")*+ ?/?>'
CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"' + CELL_ATTRIBUTES)
#: ... and any cell start tag at all (also prefixed ones, or without ``r``);
#: two patterns with a literal start, which the regex engine searches fast.
CELL_START = re.compile(rb"<c[\s/>]")
PREFIXED_CELL_START = re.compile(rb":c[\s/>]")


class _Irregular(Exception):
    """The quick scan met a cell it cannot place; parse the sheet properly."""


def scan_sheet(archive, member, max_row, max_column, max_cells):
    """Refuse a worksheet part with a cell beyond the limits, before reading on.

    Every ``<c>`` counts, with or without a value (the reader may place it).
    First the bounded scan (``_within_bounds``): one search, in C, for any cell
    tag that is not a plain ``<c r="…">`` inside a row and column bound whose
    product is within the cell limit; it finds none in what spreadsheet
    programs write.  If it finds one, or the sheet declares no usable bound,
    the sheet is scanned again for its furthest cell: the quick scan matches
    the ``<c r="…">`` tags chunk by chunk, in C; if any cell tag is written
    otherwise (a prefix, no ``r``, attributes in another order, a character
    reference), the part is parsed again by expat, where cells without ``r``
    follow the previous one as the file format says.
    """
    if _within_bounds(archive, member, max_row, max_column, max_cells):
        return
    state = {"row": 0, "column": 0, "rows": 0, "columns": 0}

    def reached(row, column):
        state["rows"] = max(state["rows"], row)
        state["columns"] = max(state["columns"], column)
        if beyond_limits(state, max_row, max_column, max_cells):
            raise _TooLarge

    try:
        try:
            _quick_scan(archive, member, reached)
        except _Irregular:
            _exact_scan(archive, member, state, reached)
    except _TooLarge:
        raise FileRejected(sheet_too_large(state, max_row, max_column, max_cells)) from None


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The sheet's own statement of its extent, near the top of the part (not trusted:
#: it only proposes the bound that the bounded scan then checks every cell against).
DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"')


def numerals_up_to(limit, alphabet):
    """A regular expression for the numerals 1 … ``limit`` written in ``alphabet``.

    Decimal rows: ``alphabet`` "0123456789", no leading zero.  Column letters:
    ``LETTERS``, bijective base 26 (A = 1, Z = 26, AA = 27), where numerals of
    one length sort as their values.  The shorter numerals, then those of the
    limit's length that are not above it, position by position.
    """
    lowest = 1 if alphabet[0] == "0" else 0  # the smallest first character

    def chars(lo, hi):
        return alphabet[lo] if lo == hi else f"[{alphabet[lo]}-{alphabet[hi]}]"

    every = chars(0, len(alphabet) - 1)
    length = len(limit)
    options = []
    if length > 1:
        options.append(chars(lowest, len(alphabet) - 1) + (f"{every}{{0,{length - 2}}}"))
    for index, char in enumerate(limit):
        top = alphabet.index(char) - 1
        bottom = lowest if index == 0 else 0
        if top >= bottom:
            rest = length - index - 1
            options.append(
                limit[:index] + chars(bottom, top) + (f"{every}{{{rest}}}" if rest else "")
            )
    options.append(limit)
    return "(?:" + "|".join(options) + ")"


@functools.lru_cache(maxsize=16)
def _outside(rows, columns):
    """A cell start tag other than ``<c r="…" …>`` with a column ≤ ``columns``, a row
    ≤ ``rows`` and then only a cell's other attributes (``CELL_ATTRIBUTES``).

    A row of zeros only, or with leading zeros, is placed as its value (as the
    quick scan does); a reference without a row number is not plain.
    """
    plain = (
        f'r="{numerals_up_to(column_letters(columns), LETTERS)}'
        f'(?=[0-9])0*{numerals_up_to(str(rows), "0123456789")}?"'
    ).encode() + CELL_ATTRIBUTES
    return re.compile(rb"<c(?:[\t\n\r\f\v/>]| (?!" + plain + rb"))")


def _bounds(head, max_row, max_column, max_cells):
    """The (rows, columns) a sheet is checked against, or None when none fits the limits.

    Those its ``<dimension>`` states when they are within the limits; otherwise
    (openpyxl's streaming writer states none) the furthest column of the first
    chunk's cells, and as many rows as the cell limit leaves those columns.
    """
    found = DIMENSION.search(head)
    if found:
        rows, columns = int(found[2]), _cell_position(found[1].decode() + "1")[1]
        if rows <= max_row and columns <= max_column and rows * columns <= max_cells:
            return max(rows, 1), columns
    letters = {ref[0] for ref in CELL_REF.findall(head)}
    columns = max((_cell_position(c.decode() + "1")[1] for c in letters), default=1)
    rows = min(max_row, max_cells // columns)
    return (rows, columns) if columns <= max_column and rows >= 1 else None


def _tag_chunks(archive, member):
    """A part's bytes in chunks that end after a tag's ``>`` (then what is left).

    A plain cell tag holds no ``>`` before its own end, so a tag cut off at the end
    of one chunk is found whole at the start of the next.
    """
    tail = b""
    with archive.open(member) as handle:
        while chunk := handle.read(CHUNK):
            buffer = tail + chunk
            cut = buffer.rfind(b">") + 1
            yield buffer[:cut]
            tail = buffer[cut:]
    yield tail


def _within_bounds(archive, member, max_row, max_column, max_cells):
    """True if every cell tag of the part is a plain ``<c r="…">`` within the bounds.

    False says nothing about the sheet, only that it must be scanned cell by cell.
    """
    try:
        for _chunk in _checked_chunks(archive, member, max_row, max_column, max_cells):
            pass
    except _Irregular:
        return False
    return True


def _checked_chunks(archive, member, max_row, max_column, max_cells):
    """The part's chunks (``_tag_chunks``), each once the bounded scan has found every cell
    tag in it plain and within the bounds; ``_Irregular`` at the first where it has not."""
    pattern = None
    for head in _tag_chunks(archive, member):
        if pattern is None:
            bounds = _bounds(head, max_row, max_column, max_cells)
            if bounds is None:
                raise _Irregular
            pattern = _outside(*bounds)
        if pattern.search(head) or PREFIXED_CELL_START.search(head):
            raise _Irregular
        yield head


def _quick_scan(archive, member, reached):
    for head in _tag_chunks(archive, member):
        refs = CELL_REF.findall(head)
        starts = len(CELL_START.findall(head)) + len(PREFIXED_CELL_START.findall(head))
        if len(refs) != starts:
            raise _Irregular
        if refs:
            letters = max(set(map(itemgetter(0), refs)), key=lambda c: (len(c), c))
            row = max(map(int, set(map(itemgetter(1), refs))))
            reached(row, _cell_position(letters.decode() + "1")[1])


def _exact_scan(archive, member, state, reached):
    def start(name, attrs):
        tag = _local(name)
        if tag == "row":
            ref = attrs.get("r", "")
            state["row"] = int(ref) if ref.isdigit() else state["row"] + 1
            state["column"] = 0
        elif tag == "c":
            position = _cell_position(attrs.get("r", ""))
            if position:
                state["row"], state["column"] = position
            else:
                state["column"] += 1
            reached(state["row"], state["column"])

    _stream(archive, member, start)


def beyond_limits(state, max_row, max_column, max_cells):
    """Whether a sheet reaching ``state["rows"]`` and ``state["columns"]`` is beyond the
    limits: its rows × columns area is what a reader holds (every row as wide as the widest)."""
    rows, columns = state["rows"], state["columns"]
    return rows > max_row or columns > max_column or rows * columns > max_cells


def sheet_too_large(state, max_row, max_column, max_cells):
    if state["columns"] > max_column:
        return _(
            "工作表的 %(column)s 列有内容，超过 %(limit)d 列，不像是导入表格，已拒绝。"
            "请删除多余的列（或把数据复制到新工作簿）后再上传。"
        ) % {"column": column_letters(state["columns"]), "limit": max_column}
    if state["rows"] > max_row:
        return _(
            "工作表在第 %(row)d 行有内容，超过单次导入上限 %(limit)d 行，已拒绝。"
            "请删除多余的行或拆分后分批导入。"
        ) % {"row": state["rows"], "limit": max_row - 1 - ROW_MARGIN}
    return _(
        "工作表的数据区域过大（超过 %(limit)d 个单元格），已拒绝。"
        "请删除多余的行和列，或拆分后分批导入。"
    ) % {"limit": max_cells}


def column_letters(number):
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters or "A"


def _attrs_of(archive, member, wanted):
    """(tag, attributes) of the elements named ``wanted`` in a small XML member."""
    found = []

    def start(name, attrs):
        if _local(name) in wanted:
            found.append((_local(name), {_local(k): v for k, v in attrs.items()}))
            if len(found) > 100_000:
                raise FileRejected(_("工作簿内部结构异常，已拒绝。"))

    _stream(archive, member, start)
    return found


def _worksheet_member(archive, sheet_name):
    """The archive member holding the named sheet, or None if it cannot be told."""
    names = set(archive.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for _tag, attrs in _attrs_of(archive, "_rels/.rels", {"Relationship"}):
            if attrs.get("Type", "").endswith("/officeDocument"):
                workbook = attrs.get("Target", workbook).lstrip("/")
    folder, base = posixpath.split(workbook)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if workbook not in names or rels not in names:
        return None
    rel_id = next(
        (
            attrs.get("id")
            for _tag, attrs in _attrs_of(archive, workbook, {"sheet"})
            if attrs.get("name") == sheet_name
        ),
        None,
    )
    for _tag, attrs in _attrs_of(archive, rels, {"Relationship"}):
        if attrs.get("Id") == rel_id:
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            path = posixpath.normpath(path)
            return path if path in names else None
    return None


def check_sheet_extent(content, sheet_name, columns=None):
    """Refuse a sheet whose cells reach absurdly far, before calamine reads it.

    When the sheet's part cannot be told from the workbook's relationships,
    every worksheet in the file is checked.
    """
    max_row, max_column, max_cells = sheet_limits(columns)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        member = _worksheet_member(archive, sheet_name)
        members = (
            [member]
            if member
            else [
                name
                for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            ]
        )
        for name in members:
            scan_sheet(archive, name, max_row, max_column, max_cells)


def check_shared_strings(content):
    """Refuse a shared-strings table larger than any sheet may use.

    calamine reads every shared string when it opens the workbook, sized by
    the table's declared counts; both the declared and the real number of
    strings are checked (streaming) against the cell limit.
    """
    max_cells = limits()["max_cells"]
    state = {"strings": 0}

    def start(name, attrs):
        tag = _local(name)
        if tag == "sst":
            for key in ("count", "uniqueCount"):
                value = attrs.get(key, "0")
                if not value.isdigit() or int(value) > max_cells:
                    raise _TooLarge
        elif tag == "si":
            state["strings"] += 1
            if state["strings"] > max_cells:
                raise _TooLarge

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        # calamine reads xl/sharedStrings.xml in any letter case; check every such name.
        members = [n for n in archive.namelist() if n.lower().endswith("sharedstrings.xml")]
        try:
            for member in members:
                _stream(archive, member, start)
        except _TooLarge:
            raise FileRejected(
                _(
                    "工作簿的共享字符串表过大（超过 %(limit)d 项），不像是导入表格，已拒绝。"
                    "请把数据复制到新工作簿后再上传。"
                )
                % {"limit": max_cells}
            ) from None


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


def decode_csv(content):
    """``(encoding, text)`` of a CSV file, decoded once: a BOM decides, else strict
    UTF-8, else GB18030."""
    if content.startswith(codecs.BOM_UTF8):
        tries = ("utf-8-sig",)  # a BOM decides: its bytes must all be that encoding
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        tries = ("utf-16",)
    else:
        tries = ("utf-8", "gb18030")
    for encoding in tries:
        try:
            return encoding, content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected(
        _("无法识别文件的文字编码。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再上传。")
    )


def read_csv(content):
    encoding, text = decode_csv(content)
    first_line = text.split("\n", 1)[0]
    # Excel's "Unicode text" is tab-separated; everything else here uses commas.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    max_rows = limits()["max_rows"]
    try:
        headers = [clean_header(v) for v in next(reader, [])]
        rows = []
        for values in reader:
            if "".join(values).strip():  # not blank (one join instead of a strip per cell)
                if len(rows) >= max_rows:
                    raise FileRejected(too_many_rows(len(rows) + 1, max_rows))
                rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise FileRejected(_("CSV 文件格式错误：%(error)s") % {"error": exc}) from None
    return SheetData(headers=headers, rows=rows, encoding=encoding)


def clean_header(value):
    if value is None:
        return ""
    text = "".join(str(value).split())  # spaces, full-width ones and line breaks
    text = text.replace("(", "（").replace(")", "）")  # the brackets our headers use
    # "身份证号*" marks a required column in the templates.
    return text.rstrip("*＊")


def excel_date(value):
    """A date from an Excel serial day number (the 1900 date system)."""
    return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value))
