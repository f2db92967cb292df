"""Workbooks the users download: templates, error lists and exports."""

import io

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from communities.audit import kind_auditor

from .cells import CsvWriter, Workbook, WriteOnlyCell
from .columns import EXAMPLE_MARK
from .progress import counting

TEXT_KINDS = ("text", "person_name", "id_number", "phone", "code", "names")
HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
ERROR_FONT = Font(color="9C0006")
EXAMPLE_FONT = Font(color="808080", italic=True)
TEMPLATE_ROWS = 5000  # rows that get the drop-downs and text format


def _save(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_columns(kind):
    return [c for c in kind.columns if not c.export_only]


def template_workbook(kind):
    """The kind's template: headers, example rows, drop-downs, text columns, 说明 sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(kind.title)[:31]
    columns = import_columns(kind)
    options = workbook.create_sheet(_("选项"))
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(
            row=1, column=index, value=f"{column.header}{'*' if column.required else ''}"
        )
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.help:
            cell.comment = Comment(str(column.help), _("系统"))
        sheet.column_dimensions[letter].width = column.width
        if column.kind in TEXT_KINDS:
            # New typing in these columns stays text: ID numbers keep all 18 digits.
            sheet.column_dimensions[letter].number_format = "@"
        choices = None
        if column.kind == "choice":
            choices = column.choice_labels()
        elif column.kind == "bool":
            choices = ["是", "否"]
        if choices:
            options.cell(row=1, column=index, value=str(column.header))
            for offset, label in enumerate(choices, start=2):
                options.cell(row=offset, column=index, value=label)
            source = f"{quote_sheetname(options.title)}!${letter}$2:${letter}${len(choices) + 1}"
            validation = DataValidation(
                type="list",
                formula1=f"={source}",
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle=_("不是可选值"),
                error=_("请从下拉列表中选择。"),
            )
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
    for row_index, example in enumerate(kind.examples, start=2):
        for index, column in enumerate(columns, start=1):
            value = example.get(column.key, "")
            if index == 1:
                value = f"{EXAMPLE_MARK}{value}"  # the import skips rows that begin so
            cell = sheet.cell(row=row_index, column=index, value=value)
            cell.font = EXAMPLE_FONT
            if column.kind in TEXT_KINDS:
                cell.number_format = "@"
    sheet.freeze_panes = "A2"
    options.sheet_state = "hidden"
    _instructions(workbook.create_sheet(_("说明"), 0), kind, columns)
    workbook.active = 1
    return _save(workbook)


def _instructions(sheet, kind, columns):
    limit_rows = settings.SPREADSHEET_MAX_ROWS
    limit_mb = settings.SPREADSHEET_MAX_UPLOAD_BYTES // 2**20
    lines = [
        _("%(label)s导入模板说明") % {"label": kind.title},
        "",
        _("1. 在“%(sheet)s”工作表中每行填写一条记录；第一行是列名，不要修改。带 * 的列必填。")
        % {"sheet": str(kind.title)[:31]},
        _(
            "2. 示例行（灰色斜体，第一列以“%(mark)s”开头）仅供参考，导入时自动跳过，可保留或删除；"
            "真实数据请另起一行填写，第一列不要带“%(mark)s”。"
        )
        % {"mark": EXAMPLE_MARK},
        _(
            "3. 身份证号、电话、编码等列已设为“文本”格式；从其他表格粘贴时请用“选择性粘贴 → 数值”，"
            "不要让 Excel 把身份证号变成 5.20201E+17 这样的数字。"
        ),
        _(
            "4. 有下拉列表的列请从列表中选择；“是/否”列填“是”或“否”。日期写成 2020-05-01；"
            "只知道年月的写 2020年5月 或 2020.05（记为当月1日）。"
            "数字可带单位：年份写 2019 或 2019年，面积、金额可带列名括号中的单位（如 80㎡、4500元）。"
        ),
        _(
            "5. 可上传 .xlsx，或 .csv（UTF-8 或 Excel 默认保存的 GBK/GB18030 编码，系统自动识别）。"
            "单个文件不超过 %(rows)d 行、%(mb)d MB。"
        )
        % {"rows": limit_rows, "mb": limit_mb},
        _(
            "6. 上传后系统先逐格检查并显示预览：新增、更新、无变化和错误行数，以及每个错误的行号、列名和原因。"
            "有任何错误时不会写入任何数据；可下载标出错误单元格的工作簿，改正后重新上传。"
        ),
        _(
            "7. 确认导入后，要么全部写入，要么全部不写入。每次导入都会记录导入人、时间和文件，"
            "变更出现在各条记录的“历史”中。"
        ),
        _(
            "8. 留空的单元格：可不填的项表示“空”；有默认值的项（如民族、健康状况）取默认值。"
            "文件中没有的列不会改动已有数据。"
        ),
    ]
    lines += [f"{index}. {note}" for index, note in enumerate(kind.notes, start=9)]
    for row, text in enumerate(lines, start=1):
        sheet.cell(row=row, column=1, value=str(text))
    sheet["A1"].font = Font(bold=True, size=14)
    start = len(lines) + 2
    for index, title in enumerate((_("列名"), _("必填"), _("说明"), _("可选值")), start=1):
        cell = sheet.cell(row=start, column=index, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for offset, column in enumerate(columns, start=1):
        choices = ""
        if column.kind == "choice":
            choices = "、".join(column.choice_labels())
        elif column.kind == "bool":
            choices = _("是、否")
        sheet.cell(row=start + offset, column=1, value=str(column.header))
        sheet.cell(row=start + offset, column=2, value=_("是") if column.required else "")
        sheet.cell(row=start + offset, column=3, value=str(column.help or ""))
        sheet.cell(row=start + offset, column=4, value=choices).alignment = Alignment(
            wrap_text=True
        )
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 6
    sheet.column_dimensions["C"].width = 50
    sheet.column_dimensions["D"].width = 60


def error_workbook(parts, errors, sheets=()):
    """The uploaded rows with each bad cell filled red and its reason as a comment.

    ``parts``: ``(SheetData, header row)`` of each sheet read; ``sheets``: their names
    when several were read together (``engine.SHEET_STRIDE`` numbers their rows): each
    gets a sheet of its own name, and the list of errors names the sheet.  Rows keep
    their numbers in the uploaded file; the header row stays where it was (a title
    above it is left out).
    """
    from .engine import sheet_row

    workbook = Workbook()
    workbook.remove(workbook.active)
    several = len(sheets) > 1
    by_sheet = {}
    for number, header, message in errors:
        sheet_name, row = sheet_row(number, sheets)
        by_sheet.setdefault(sheet_name, []).append((row, header, message))
    for index, (sheet_data, header_row) in enumerate(parts):
        name = sheets[index] if several and index < len(sheets) else ""
        sheet = workbook.create_sheet(name or _("数据"))
        _mark_errors(sheet, sheet_data, header_row, by_sheet.get(name, []))
    listing = workbook.create_sheet(_("错误清单"), 0)
    titles = (_("行号"), _("列名"), _("错误原因"))
    if several:
        titles = (_("工作表"), *titles)
    for index, title in enumerate(titles, start=1):
        listing.cell(row=1, column=index, value=title).font = HEADER_FONT
    for offset, (number, header, message) in enumerate(errors, start=2):
        sheet_name, row = sheet_row(number, sheets)
        for index, value in enumerate(
            (sheet_name, row, header, message) if several else (row, header, message), start=1
        ):
            listing.cell(row=offset, column=index, value=value)
    widths = ("B", "C") if not several else ("C", "D")
    listing.column_dimensions[widths[0]].width = 16
    listing.column_dimensions[widths[1]].width = 90
    if several:
        listing.column_dimensions["A"].width = 16
    return _save(workbook)


def _mark_errors(sheet, sheet_data, header_row, errors):
    """Write ``sheet_data``'s header and rows into ``sheet`` and mark the cells of ``errors``
    ((row, column header, reason), row numbers of that sheet)."""
    headers = sheet_data.headers
    column_of = {header: index for index, header in enumerate(headers, start=1)}
    for index, header in enumerate(headers, start=1):
        sheet.cell(row=header_row, column=index, value=header).font = HEADER_FONT
    for number, values in sheet_data.rows:
        for index, value in enumerate(values, start=1):
            if value in ("", None):
                continue
            cell = sheet.cell(row=number, column=index, value=value)
            if isinstance(value, str):
                cell.number_format = "@"
    by_cell = {}
    for row, header, message in errors:
        by_cell.setdefault((row, column_of.get(header, 1)), []).append(message)
    for (row, column), messages in by_cell.items():
        cell = sheet.cell(row=row, column=column)
        cell.fill = ERROR_FILL
        cell.font = ERROR_FONT
        cell.comment = Comment("\n".join(messages), _("系统"), width=300, height=120)
    sheet.freeze_panes = f"A{header_row + 1}"


def export_rows(kind, user, export_format=""):
    reveal = kind.reveal(user)
    columns = kind.columns
    audit = kind_auditor(kind, user, export_format) if reveal else None
    for obj in counting(kind.export_queryset(user).iterator(chunk_size=2000)):
        values = kind.export_values(obj)
        if audit is not None:
            audit.add_row(obj)
        yield [column.format(values.get(column.key), reveal) for column in columns]
    if audit is not None:
        audit.write()


def export_xlsx(kind, user):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(kind.title)[:31])
    columns = kind.columns
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    header_cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font = HEADER_FONT
        header_cells.append(cell)
    sheet.append(header_cells)
    text = [column.kind in TEXT_KINDS for column in columns]
    for values in export_rows(kind, user, "xlsx"):
        row = []
        for is_text, value in zip(text, values, strict=True):
            if is_text and value != "":
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "@"
                row.append(cell)
            else:
                row.append(value)
        sheet.append(row)
    return _save(workbook)


def export_csv(kind, user):
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow([str(column.header) for column in kind.columns])
    for values in export_rows(kind, user, "csv"):
        writer.writerow(values)
    # UTF-8 with a BOM: Excel then opens the Chinese text correctly.
    return buffer.getvalue().encode("utf-8-sig")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def export_file(kind, user, fmt):
    """A kind's export as ``(content, content type)``: ``fmt`` is "xlsx" or "csv"."""
    if fmt == "xlsx":
        return export_xlsx(kind, user), XLSX
    return export_csv(kind, user), CSV
