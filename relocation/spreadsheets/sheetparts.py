"""Reading a large worksheet in parts at once, on both cores.

calamine (Rust) reads a sheet in one call and lets go of Python's lock while it
does: a 100,000-row roster's sheet takes it about 2 s, on one core, after the
guard's scan of the sheet (about 1 s, in Python's lock).  Here the sheet's XML
part is cut at row start tags into ``PARTS`` well-formed parts: each but the
last closed with ``</sheetData></worksheet>``, each but the first opened with
the part's own head (up to ``<sheetData>``).  Each goes into an in-memory copy
of the workbook (stored, not compressed), and calamine reads it in a thread
while the scan goes on with the next part.  Their rows together are the
sheet's: ``to_python(skip_empty_area=False)`` of the whole sheet, exactly.

The guard is kept whole: each part is checked, chunk by chunk, exactly as the
bounded scan checks a whole sheet (``reading._checked_chunks``), before calamine
is given it.  Anything this does not expect returns None, and the sheet is
read whole as before, behind the full guard: a part too small to be worth it,
no plain ``<worksheet>`` root, ``<sheetData>`` or ``<row r="…">`` to cut at, a
cell tag the bounded scan does not place, rows out of order across a cut, a
part calamine cannot read.
"""

import io
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

#: A worksheet part at least this large (uncompressed) is read in parts.
PARTS_FROM = 8 * 2**20

SHEET_DATA = b"<sheetData>"
ROW_START = b'<row r="'
ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?<worksheet[\s>]")
PART_END = b"</sheetData></worksheet>"
#: How many parts at most: more than the two cores, so that the last part calamine
#: reads after the scan has ended is a small one.
PARTS = 6
#: Each part's copy of the workbook has the shared strings, which calamine reads
#: again for each: a part holds at least this many times their size of sheet XML.
PART_PER_SHARED = 4


#: Members of the workbook its parts' copies leave out: the other sheets, and what
#: calamine does not read for a sheet's values (its styles, shared strings, the
#: workbook's own part and relationships are kept).
LEFT_OUT = (
    "xl/worksheets/",
    "xl/chartsheets/",
    "xl/dialogsheets/",
    "xl/drawings/",
    "xl/charts/",
    "xl/media/",
    "xl/embeddings/",
    "xl/pivotCache/",
    "xl/pivotTables/",
    "xl/externalLinks/",
    "xl/printerSettings/",
)


def _kept(name, member):
    return name != member and not name.startswith(LEFT_OUT)


class _Uncut(Exception):
    """The part cannot be cut as this module expects; read the sheet whole."""


def read_in_parts(content, sheet_name, columns=None):
    """``(rows, merged ranges, height)`` of a large sheet, read in parts at once: rows as
    calamine's ``to_python(skip_empty_area=False)`` gives them for the whole sheet, its
    merged cells' ranges and its ``total_height``.  None: read it whole."""
    from .reading import _Irregular, _worksheet_member, sheet_limits

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        member = _worksheet_member(archive, sheet_name)
        if member is None or archive.getinfo(member).file_size < PARTS_FROM:
            return None
        others = [
            (i.filename, archive.read(i)) for i in archive.infolist() if _kept(i.filename, member)
        ]
        # A thread per core (at least two: the scan holds one core while calamine reads).
        with ThreadPoolExecutor(max_workers=max(2, min(PARTS, os.cpu_count() or 2))) as pool:
            futures = []
            try:
                for part in _parts(archive, member, others, sheet_limits(columns)):
                    futures.append(pool.submit(_read_part, part, sheet_name))
            except (_Irregular, _Uncut):
                for future in futures:
                    future.exception()  # a checked part: let calamine finish it
                return None
            try:
                # Each part's rows become Python's while calamine still reads the next;
                # calamine's copy of a part is let go as soon as they have.
                parts = []
                while futures:
                    parts.append(_rows(futures.pop(0).result()))
                return _joined(parts)
            except _Uncut:
                return None  # calamine's own message comes from reading the sheet whole


def _parts(archive, member, others, limits):
    """Up to ``PARTS`` parts of ``member``, each an in-memory workbook's bytes, yielded as
    soon as it is complete and checked: cut at the first row start tag after each equal
    share of the part's bytes.  Fewer parts where the shared strings are large beside the
    sheet (``PART_PER_SHARED``), or the sheet has fewer rows."""
    from .reading import _checked_chunks

    size = archive.getinfo(member).file_size
    shared = sum(len(data) for name, data in others if name.lower().endswith("sharedstrings.xml"))
    count = max(2, min(PARTS, size // max(1, PART_PER_SHARED * shared)))
    targets = [size * k // count for k in range(1, count)]
    writing, offset, head = _Workbook(others, member), 0, None
    for chunk in _checked_chunks(archive, member, *limits):
        start, offset = offset, offset + len(chunk)
        if head is None:
            at = chunk.find(SHEET_DATA)
            if at < 0 or not ROOT.match(chunk):
                raise _Uncut
            head = chunk[: at + len(SHEET_DATA)]
        floor = len(head) if start == 0 else 0  # a part holds at least one row
        while targets and offset > targets[0]:
            cut = chunk.find(ROW_START, max(targets[0] - start, floor))
            if cut < 0:
                break  # at the next chunk's first row
            writing.write(chunk[:cut])
            writing.write(PART_END)
            yield writing.close()
            writing, chunk = _Workbook(others, member), chunk[cut:]
            writing.write(head)
            start, floor = start + cut, 1
            targets.pop(0)
        writing.write(chunk)
    yield writing.close()


class _Workbook:
    """An in-memory copy of the workbook, stored, whose sheet part is written as it comes."""

    def __init__(self, others, member):
        self.buffer = io.BytesIO()
        self.archive = zipfile.ZipFile(self.buffer, "w", zipfile.ZIP_STORED)
        for name, data in others:
            self.archive.writestr(name, data)
        self.part = self.archive.open(member, "w", force_zip64=True)

    def write(self, data):
        self.part.write(data)

    def close(self):
        self.part.close()
        self.archive.close()
        self.buffer.seek(0)
        return self.buffer


def _read_part(buffer, sheet_name):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(buffer).get_sheet_by_name(sheet_name)
    except BaseException as exc:
        from .reading import is_rust_panic

        if isinstance(exc, Exception) or is_rust_panic(exc):
            raise _Uncut from None
        raise


class _Part(NamedTuple):
    """What a part's sheet gave, its rows made Python's (calamine's copy let go)."""

    start: tuple | None  # (row, column) of its first cell; None: no cell
    end: tuple | None
    rows: list  # from ``start``
    height: int
    merged: tuple


def _rows(sheet):
    rows = sheet.to_python(skip_empty_area=True) if sheet.start is not None else []
    return _Part(sheet.start, sheet.end, rows, sheet.total_height, sheet.merged_cell_ranges or ())


def _joined(parts):
    """The parts' rows as the whole sheet's, or None when a part's rows do not all come
    after the previous parts' (a sheet whose rows are out of order)."""
    filled = [part for part in parts if part.start is not None]
    width = max((part.end[1] + 1 for part in filled), default=0)
    rows = []
    for part in filled:
        (top, left), right = part.start, part.end[1]
        if top < len(rows):
            return None
        rows.extend([""] * width for _ in range(top - len(rows)))
        if left == 0 and right + 1 == width:
            rows.extend(part.rows)
        else:
            pad_left, pad_right = [""] * left, [""] * (width - right - 1)
            rows.extend(pad_left + row + pad_right for row in part.rows)
    height = max(part.height for part in parts)
    return rows, parts[-1].merged, height  # the sheet part's tail, with its merges, went last
