"""Hand-built hostile .xlsx files: a few kilobytes that describe enormous sheets."""

import io
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>'
)
SST_REL = (
    '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)
SST_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def sheet_xml(cells, dimension="A1"):
    """A worksheet with ``cells`` ((reference, number) pairs); ``dimension`` None: none."""
    rows = {}
    for ref, value in cells:
        number = int("".join(c for c in ref if c.isdigit()))
        rows.setdefault(number, []).append(f'<c r="{ref}"><v>{value}</v></c>')
    body = "".join(f'<row r="{n}">{"".join(cs)}</row>' for n, cs in sorted(rows.items()))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{body}</sheetData></worksheet>"
    )


def workbook(sheet, shared_strings=None, shared_strings_name="xl/sharedStrings.xml"):
    """The bytes of an .xlsx with one sheet (its XML given) and optional shared strings."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        extra = shared_strings is not None
        archive.writestr(
            "[Content_Types].xml", CONTENT_TYPES.format(extra=SST_TYPE if extra else "")
        )
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr(
            "xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(extra=SST_REL if extra else "")
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if extra:
            archive.writestr(shared_strings_name, shared_strings)
    return buffer.getvalue()


def far_corner(dimension="A1:XFD200000"):
    """Cells only at A1 and XFD200000: 3.3 billion cells once made dense."""
    return workbook(sheet_xml([("A1", 1), ("XFD200000", 2)], dimension))


def shared_strings_bomb(count=2_000_000_000, name="xl/sharedStrings.xml"):
    """A shared-strings table that declares two billion strings."""
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{count}" uniqueCount="{count}"><si><t>户编号</t></si></sst>'
    )
    return workbook(sheet_xml([("A1", 1)]), sst, name)


def many_shared_strings(count):
    """A real shared-strings table of ``count`` empty strings (honest counts)."""
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'count="1" uniqueCount="1">' + "<si><t/></si>" * count + "</sst>"
    )
    return workbook(sheet_xml([("A1", 1)]), sst)


def second_reference(attribute='r="XFD200000"'):
    """A cell at B1 whose tag carries a second reference (A1 first, for a quick scan)."""
    sheet = sheet_xml([]).replace(
        "<sheetData></sheetData>",
        '<sheetData><row r="1"><c r="A1"><v>1</v></c>'
        f'<c r="B1" {attribute}><v>2</v></c></row></sheetData>',
    )
    return workbook(sheet)
