"""Hand-built .xls files: an OLE2 compound file around BIFF records ([MS-CFB], [MS-XLS]).

Small enough to read: one stream, 512-byte sectors, no mini stream (the stream
is padded to 4,096 bytes, the mini stream's cut-off).  The tests use them for
what no office suite writes: a shared-string table that declares more strings
than it holds, cells at the edge of the grid, a sheet that never ends, an
encrypted workbook, and Excel 95 (BIFF5) text in the GBK code page.
"""

import struct

FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = -1, -2, -3, -1
SECTOR = 512
MINI_CUTOFF = 4096


def record(code, data=b""):
    return struct.pack("<HH", code, len(data)) + data


def bof(kind, biff8=True):
    """BOF: the workbook globals (0x0005) or a worksheet (0x0010)."""
    if biff8:
        return record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 1996, 0, 0x0006))
    return record(0x0809, struct.pack("<HHHH", 0x0500, kind, 0x0DBB, 1996))


EOF = record(0x000A)


def codepage(number):
    return record(0x0042, struct.pack("<H", number))


def boundsheet(position, name, biff8=True, kind=0):
    if biff8:
        encoded = name.encode("utf-16-le")
        text = struct.pack("<BB", len(name), 1) + encoded
    else:
        encoded = name.encode("gbk")
        text = struct.pack("<B", len(encoded)) + encoded
    return record(0x0085, struct.pack("<iBB", position, 0, kind) + text)


def sst(strings, declared=None):
    """A shared-string table (BIFF8), its count ``declared`` if given."""
    body = b"".join(struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings)
    count = len(strings) if declared is None else declared
    return record(0x00FC, struct.pack("<II", count, count) + body)


def label_sst(row, column, index):
    return record(0x00FD, struct.pack("<HHHI", row, column, 0, index))


def number(row, column, value):
    return record(0x0203, struct.pack("<HHHd", row, column, 0, value))


def label_biff5(row, column, text, encoding="gbk"):
    """LABEL, as Excel 95 writes text: bytes in the workbook's code page."""
    encoded = text.encode(encoding)
    return record(0x0204, struct.pack("<HHHH", row, column, 0, len(encoded)) + encoded)


def blank(row, column):
    return record(0x0201, struct.pack("<HHH", row, column, 0))


def merged(*ranges):
    """MERGEDCELLS: (top, bottom, left, right), from 0."""
    return record(
        0x00E5, struct.pack("<H", len(ranges)) + b"".join(struct.pack("<HHHH", *r) for r in ranges)
    )


def workbook_stream(globals_records, sheets, biff8=True):
    """A workbook stream: the globals, one BOUNDSHEET a sheet (pointing at it), then the sheets.

    ``sheets``: [(name, [records of its cells])]; each gets its BOF and EOF.
    """
    bodies = [bof(0x0010, biff8) + b"".join(cells) + EOF for _name, cells in sheets]
    head = bof(0x0005, biff8) + b"".join(globals_records)
    sizes = sum(len(boundsheet(0, name, biff8)) for name, _cells in sheets) + len(EOF)
    position = len(head) + sizes
    bounds = b""
    for (name, _cells), body in zip(sheets, bodies, strict=True):
        bounds += boundsheet(position, name, biff8)
        position += len(body)
    return head + bounds + EOF + b"".join(bodies)


def compound_file(stream, name="Workbook"):
    """An OLE2 compound file holding ``stream`` under ``name``."""
    stream = stream.ljust(MINI_CUTOFF, b"\0")
    stream += b"\0" * (-len(stream) % SECTOR)
    data_sectors = len(stream) // SECTOR
    fat_sectors = 1
    while (fat_sectors + 1 + data_sectors) > fat_sectors * (SECTOR // 4):
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("stream too large for this builder")
    fat = [FAT_SECTOR] * fat_sectors + [END_OF_CHAIN]  # then the directory (one sector)
    first = len(fat)
    fat += list(range(first + 1, first + data_sectors)) + [END_OF_CHAIN]
    fat += [FREE] * (fat_sectors * (SECTOR // 4) - len(fat))
    directory = _entry("Root Entry", 5, child=1, start=END_OF_CHAIN, size=0)
    directory += _entry(name, 2, child=NO_STREAM, start=first, size=len(stream))
    directory += b"\0" * (SECTOR - len(directory))
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack(
            "<iiiiiiiii",
            0,
            fat_sectors,
            fat_sectors,
            0,
            MINI_CUTOFF,
            END_OF_CHAIN,
            0,
            END_OF_CHAIN,
            0,
        )
        + struct.pack("<109i", *difat)
    )
    assert len(header) == SECTOR
    return header + struct.pack(f"<{len(fat)}i", *fat) + directory + stream


def _entry(name, kind, *, child, start, size):
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<iii", NO_STREAM, NO_STREAM, child)
        + b"\0" * 16  # CLSID
        + b"\0" * 4  # state
        + b"\0" * 16  # times
        + struct.pack("<iII", start, size, 0)
    )


def workbook(sheets, globals_records=(), biff8=True, strings=None, declared=None):
    """An .xls file: ``sheets`` as for ``workbook_stream``; ``strings`` the shared strings."""
    extra = list(globals_records)
    if strings is not None:
        extra.append(sst(strings, declared))
    name = "Workbook" if biff8 else "Book"
    return compound_file(workbook_stream(extra, sheets, biff8), name)
