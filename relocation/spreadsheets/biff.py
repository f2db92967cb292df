"""Reading the old binary Excel format (.xls: BIFF5 to BIFF8, as Excel 95 to 2003
and WPS write it), safely.

xlrd (the reader pandas uses for .xls) turns the cells into values: numbers,
text through the file's code page (936, GBK, for Chinese Excel 95 files), dates
by their number format, the 1904 date system.  What it does with a hostile file
is bounded by the file's size, except for two counts it trusts, so both are
checked here first, walking the workbook's records ourselves:

* the shared-string table's declared count: xlrd loops that many times, and a
  string with a negative phonetic size makes each pass re-read the same bytes,
  so a few hundred bytes could make it build millions of strings.  A count
  above what the table's bytes can hold (three bytes a string at least), or
  above the cell limit, is refused;
* the data sheet's furthest cell: each row is a list reaching its furthest
  column, so 65,536 rows each with a cell in column IV would be 16 million
  entries from a file of under a megabyte.  The sheet's cells are placed as in
  ``reading.scan_sheet`` for .xlsx, against the same limits (``beyond_limits``:
  its rows × columns, since every row is then made as wide as the widest).
  Blank cells (formatting only, often down a whole column) are not read and
  not counted.

The same walk finds the merged cells (xlrd gives them only when it reads every
cell's formatting, which costs more), an encrypted workbook (FILEPASS), and a
version older than Excel 5.0.  The container (OLE2, "compound document") is
xlrd's ``CompDoc``, which follows every sector chain with a table of sectors
seen and so stays within the file; a file that holds no workbook but an
encrypted .xlsx, a Word document or anything else says so.
"""

import struct

import xlrd
from django.utils.translation import gettext_lazy
from xlrd.compdoc import CompDoc

from .reading import (
    FileRejected,
    beyond_limits,
    fill_vertical_merges,
    sheet_order,
    sheet_too_large,
    too_many_rows,
)

UNREADABLE_XLS = gettext_lazy(
    "无法读取该 .xls 工作簿（文件可能已损坏）。请用 Excel 或 WPS 打开，另存为 .xlsx 后再上传。"
)
ENCRYPTED = gettext_lazy(
    "工作簿设置了打开密码，无法读取。请在 Excel 或 WPS 中取消密码后另存，再上传。"
)
NOT_A_WORKBOOK = gettext_lazy(
    "该文件不是 Excel 工作簿（可能是 Word 文档或其他 Office 文件，只是扩展名为 .xls）。"
    "请上传 .xlsx、.xls 或 .csv 表格。"
)
TOO_OLD = gettext_lazy(
    "该文件是 Excel 5.0 之前的旧格式，无法读取。请用 Excel 或 WPS 打开，另存为 .xlsx 后再上传。"
)

# Record types (Microsoft [MS-XLS] 2.3).
BOF, EOF, BOUNDSHEET, SST, CONTINUE, FILEPASS, MERGEDCELLS = (
    0x0809,
    0x000A,
    0x0085,
    0x00FC,
    0x003C,
    0x002F,
    0x00E5,
)
#: Records of one cell that xlrd reads in a BIFF5–8 sheet: FORMULA (in its three
#: codes), LABELSST, NUMBER, LABEL, BOOLERR, RK, RSTRING.
ONE_CELL = frozenset({0x0006, 0x0206, 0x0406, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6})
#: A substream's beginning, in every BIFF version (xlrd skips one inside a sheet).
BOFS = frozenset({0x0809, 0x0409, 0x0209, 0x0009})
#: Several numbers in a row: row, first column, 6 bytes a cell, last column.
MULRK = 0x00BD
#: BOF's substream types: the workbook globals, a worksheet (or dialog sheet).
GLOBALS = 0x0005
#: BOUNDSHEET's sheet types: only worksheets hold cells (xlrd lists only those).
WORKSHEET = 0
_HEADER = struct.Struct("<HH")
#: A record's header and, for a cell, its row and column.
_RECORD_AND_CELL = struct.Struct("<HHHH")


class _Silent:
    """xlrd writes its warnings about a file to a log: nobody reads them here."""

    def write(self, _text):
        pass


class _Broken(Exception):
    pass


def read_xls(content, sheet_limits, max_rows, pick):
    """What ``pick(order, load, names)`` makes of an .xls file's sheets (``reading.read``:
    the data sheet's ``SheetData``), each sheet read with its vertically merged cells filled.

    ``sheet_limits``: the furthest row and column and the most cells allowed,
    as ``reading.sheet_limits`` gives them.  Raises ``FileRejected``.
    """
    max_row, max_column, max_cells = sheet_limits
    try:
        stream = workbook_stream(content)
        sheets = scan_globals(stream, max_cells)
        book = xlrd.open_workbook(
            file_contents=content, logfile=_Silent(), on_demand=True, ragged_rows=True
        )
        try:
            names = book.sheet_names()
            if len(names) != len(sheets) or not names:
                raise _Broken

            def load(index, top=None):
                state = scan_sheet(stream, sheets[index][0])
                if beyond_limits(state, max_row, max_column, max_cells):
                    raise FileRejected(sheet_too_large(state, max_row, max_column, max_cells))
                sheet = book.sheet_by_index(index)
                if sheet.nrows > max_rows + 1:
                    raise FileRejected(too_many_rows(sheet.nrows - 1, max_rows))
                data = sheet_values(sheet, book.datemode, top)
                book.unload_sheet(index)
                if top is None:
                    fill_vertical_merges(data, state["merges"])
                return data

            visible = [visibility == 0 for _position, visibility in sheets]
            return pick(sheet_order(names, visible), load, names)
        finally:
            book.release_resources()
    except FileRejected:
        raise
    except Exception:
        # xlrd raises its own errors, and struct, index, assertion and recursion
        # errors, for a broken file; all of them mean the same to the user.
        raise FileRejected(str(UNREADABLE_XLS)) from None


def workbook_stream(content):
    """The bytes of the workbook stream of an OLE2 file (``Workbook``, or ``Book`` for Excel 95)."""
    document = CompDoc(content, logfile=_Silent())
    check_mini_chains(document)
    for name in ("Workbook", "Book"):
        mem, base, size = document.locate_named_stream(name)
        if mem:
            return bytes(mem[base : base + size])
    if document.locate_named_stream("EncryptedPackage")[0]:
        # an .xlsx with an opening password is an OLE2 file holding this
        raise FileRejected(str(ENCRYPTED))
    raise FileRejected(str(NOT_A_WORKBOOK))


def check_mini_chains(document):
    """Refuse a small stream whose chain of mini sectors loops.

    A stream under the mini stream's cut-off (4,096 bytes) lies in 64-byte
    sectors chained by the mini allocation table; xlrd follows that chain
    without the table of sectors seen it keeps for the others, so a loop in it
    appends empty slices for ever (a 5.6 KB file filled the memory).  Every
    such chain is walked once here: no two streams share a sector.
    """
    table = document.SSAT
    seen = set()
    for entry in document.dirlist:
        if entry.etype != 2 or entry.tot_size >= document.min_size_std_stream:
            continue  # not a stream, or a stream in ordinary sectors (xlrd checks those)
        sector = entry.first_SID
        while sector >= 0:
            if sector in seen or sector >= len(table):
                raise _Broken
            seen.add(sector)
            sector = table[sector]


def records(stream, start):
    """``(code, data)`` of every record from ``start`` to the end of the stream."""
    end = len(stream)
    pos = start
    while pos + 4 <= end:
        code, length = _HEADER.unpack_from(stream, pos)
        pos += 4
        if pos + length > end:
            raise _Broken
        yield code, stream[pos : pos + length]
        pos += length


def scan_globals(stream, max_cells):
    """``(stream position, visibility)`` of each worksheet (0: visible), after checking
    the globals' own counts."""
    found = records(stream, 0)
    code, data = next(found, (None, b""))
    if code != BOF:
        if code in (0x0009, 0x0209, 0x0409):  # the BOF of BIFF2, 3 and 4
            raise FileRejected(str(TOO_OLD))
        raise _Broken
    if len(data) < 4 or _HEADER.unpack_from(data)[1] != GLOBALS:
        raise _Broken
    if _HEADER.unpack_from(data)[0] not in (0x0500, 0x0600):
        # xlrd would read such a file as BIFF2 to 4, with every sheet at once.
        raise FileRejected(str(TOO_OLD))
    sheets = []
    strings = table = None  # the shared strings' declared count, and their bytes
    in_table = False
    for code, data in found:
        if code == CONTINUE and in_table:
            table += len(data)
            continue
        in_table = False
        if code == EOF:
            break
        if code == FILEPASS:
            raise FileRejected(str(ENCRYPTED))
        if code == BOUNDSHEET:
            if len(data) < 6:
                raise _Broken
            position, visibility, kind = struct.unpack_from("<iBB", data)
            if kind == WORKSHEET:
                sheets.append((position, visibility))
        elif code == SST:
            if len(data) < 8 or strings is not None:
                raise _Broken
            strings, table, in_table = struct.unpack_from("<I", data, 4)[0], len(data) - 8, True
    else:
        raise _Broken  # the globals never end
    # Each string takes three bytes at least (its length and its flags).
    if strings is not None and (strings > max_cells or strings * 3 > table):
        raise _Broken
    return sheets


def scan_sheet(stream, start):
    """The extent of a worksheet's cells, and its merged cells, as xlrd will read them.

    ``{"rows": furthest row, "columns": furthest column (both from 1), "merges":
    [((top, left), (bottom, right)), ...] (from 0)}``.
    A substream inside the sheet (an embedded chart) is passed over up to its
    first EOF, as xlrd does.  One loop over the record headers, reading a
    cell's position with its header: a 65,000-row sheet in about a second.
    """
    end = len(stream)
    padded = stream + bytes(4)  # the last header can be read with a cell's position
    unpack = _RECORD_AND_CELL.unpack_from
    if not 0 <= start <= end - 4 or unpack(padded, start)[0] not in BOFS:
        raise _Broken  # the sheet's position is not its beginning
    one_cell, last_row, last_column, merges = ONE_CELL, -1, -1, []
    embedded = False
    pos = start + 4 + unpack(padded, start)[1]
    while pos + 4 <= end:
        code, length, row, column = unpack(padded, pos)
        body, pos = pos + 4, pos + 4 + length
        if pos > end:
            break
        if embedded:
            embedded = code != EOF
        elif code in one_cell:
            if length < 4:
                raise _Broken
            if row > last_row:
                last_row = row
            if column > last_column:
                last_column = column
        elif code == EOF:
            return {"rows": last_row + 1, "columns": last_column + 1, "merges": merges}
        elif code in BOFS:
            embedded = True
        elif code == MULRK:
            count = (length - 6) // 6
            if count < 0 or length != 6 + 6 * count:
                raise _Broken
            last_row = max(last_row, row)
            last_column = max(last_column, column + count - 1)
        elif code == MERGEDCELLS:
            count = struct.unpack_from("<H", padded, body)[0] if length >= 2 else 0
            if length < 2 + 8 * count:
                raise _Broken
            for top, bottom, left, right in struct.iter_unpack(
                "<HHHH", stream[body + 2 : body + 2 + 8 * count]
            ):
                merges.append(((top, left), (bottom, right)))
    raise _Broken  # the sheet never ends


#: xlrd's cell types that need a conversion (empty and blank cells are "", text and numbers as they are).
_DATE, _BOOLEAN, _ERROR = xlrd.XL_CELL_DATE, xlrd.XL_CELL_BOOLEAN, xlrd.XL_CELL_ERROR


def sheet_values(sheet, datemode, top=None):
    """The sheet's rows (its first ``top`` only, if given) as lists of the values
    calamine gives for an .xlsx: text, floats, ``date`` / ``datetime`` / ``time``,
    ``bool``, and "" for an empty cell; every row as wide as the widest."""
    data = []
    width = 0
    for index in range(sheet.nrows if top is None else min(sheet.nrows, top)):
        values = sheet.row_values(index)
        types = sheet.row_types(index)
        if _DATE in types or _BOOLEAN in types or _ERROR in types:
            for column, kind in enumerate(types):
                if kind == _DATE:
                    values[column] = excel_datetime(values[column], datemode)
                elif kind == _BOOLEAN:
                    values[column] = bool(values[column])
                elif kind == _ERROR:
                    values[column] = xlrd.error_text_from_code.get(values[column], "")
        width = max(width, len(values))
        data.append(values)
    for values in data:
        if len(values) < width:
            values.extend([""] * (width - len(values)))
    return data


def excel_datetime(value, datemode):
    """A date-formatted number as a ``date`` (whole days), a ``time`` (under one day,
    as Excel keeps a time alone) or a ``datetime``; the number if it is no date."""
    if value < 0:
        return value
    try:
        moment = xlrd.xldate.xldate_as_datetime(value, datemode)
    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
        return value
    if 0 <= value < 1:
        return moment.time()
    if value == int(value):
        return moment.date()
    return moment
