"""Old binary .xls rosters made by a real office suite, for the tests.

``roster-excel97.xls`` (BIFF8, as Excel 97–2003 and WPS save) is the roster
below, as a county keeps it: an instructions sheet first, then a title
row merged across, the county's own column names, the household's cells merged
down its members' rows, real date and number cells and a name with a rare
character.  It was written by LibreOffice from the .xlsx this module builds::

    python -m relocation.spreadsheets.tests.xls_files   # needs LibreOffice (soffice)

and is committed, so the tests need no office suite.  (LibreOffice no longer
writes Excel 95; ``hostile_xls`` builds that format by hand.)
"""

import datetime

#: The settlements of the test world (``communities/tests/conftest.py``).
SETTLEMENT_A, SETTLEMENT_B = "AZD522301001", "AZD522301002"
TITLE = "兴义市易地扶贫搬迁安置户花名册（2025年12月）"
HEADERS = [
    "户号",
    "安置点编码",
    "楼栋",
    "搬迁年度",
    "搬迁户类别",
    "入住日期",
    "入住状态",
    "户籍状态",
    "住房面积（㎡）",
    "姓名",
    "公民身份号码",
    "与户主的关系",
    "民族",
    "劳动技能",
]
#: Household columns merged down the members' rows (the first ``HOUSEHOLD_COLUMNS``).
HOUSEHOLD_COLUMNS = 9
MOVED_IN = datetime.date(2019, 6, 18)
PEOPLE = [
    # (household, settlement, name, birth, sex, seq, relationship)
    ("X001", SETTLEMENT_A, "韦国强", datetime.date(1975, 3, 9), "M", 31, "户主"),
    ("X001", SETTLEMENT_A, "王秀英", datetime.date(1978, 11, 2), "F", 32, "配偶"),
    ("X001", SETTLEMENT_A, "韦小龙", datetime.date(2006, 5, 20), "M", 33, "之子"),
    ("X002", SETTLEMENT_B, "龚䶮", datetime.date(1968, 1, 30), "F", 34, "户主"),
]


def rows():
    """The data rows, as a county writes them (merged cells repeated here)."""
    from communities.tests.factories import make_id_number

    result = []
    for number, settlement, name, birth, sex, seq, relationship in PEOPLE:
        result.append(
            [
                number,
                settlement,
                "1栋",
                2018,
                "建档立卡脱贫户",
                MOVED_IN,
                "已入住",
                "户籍已迁入",
                85.5 if number == "X001" else 60,
                name,
                make_id_number(birth, sex, prefix="522301", seq=seq),
                relationship,
                "布依族",
                "普通劳动力",
            ]
        )
    return result


def workbook():
    from openpyxl import Workbook

    book = Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表由各安置点填报，每户成员连续填写。"])
    sheet = book.create_sheet("花名册")
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    first = 3
    for index, values in enumerate(rows()):
        previous = rows()[index - 1] if index else None
        merged_on = previous is not None and previous[0] == values[0]
        sheet.append(
            [None if merged_on and c < HOUSEHOLD_COLUMNS else v for c, v in enumerate(values)]
        )
        sheet.cell(first + index, 6).number_format = "yyyy-mm-dd"
        sheet.cell(first + index, 11).number_format = "@"
    for column in range(1, HOUSEHOLD_COLUMNS + 1):
        sheet.merge_cells(start_row=3, start_column=column, end_row=5, end_column=column)
    return book


if __name__ == "__main__":
    import pathlib
    import subprocess
    import tempfile

    import django

    django.setup()
    here = pathlib.Path(__file__).parent / "files"
    with tempfile.TemporaryDirectory() as work:
        source = pathlib.Path(work) / "roster.xlsx"
        workbook().save(source)
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "xls:MS Excel 97", "--outdir", work, source],
            check=True,
        )
        content = (pathlib.Path(work) / "roster.xls").read_bytes()
        (here / "roster-excel97.xls").write_bytes(content)
        print(here / "roster-excel97.xls", len(content), "bytes")
