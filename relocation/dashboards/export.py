"""The current dashboard view as an .xlsx workbook (cards and table).

One sheet, laid out for A4 landscape: a title, the area, the period, the
reference date and the time the figures were computed, then the indicator
cards with their previous-period values and definitions, then the apps'
data-driven tables (rights items …), then the child-area table exactly as
sorted on screen, then the by-year breakdowns.
"""

import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from relocation.spreadsheets.cells import Workbook, WriteOnlyCell, places_format

from .dashboard import change_text, rounded, with_unit
from .registry import PERCENT

HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
BOLD = Font(bold=True)


def _number(ws, indicator, value):
    """A cell value: a rounded number shown with the indicator's decimal places (95.50,
    not 95.5, as the page shows it), or "—" for an empty denominator."""
    value = rounded(indicator, value)
    if value is None:
        return "—"
    if not indicator.decimals:
        return int(value)
    cell = WriteOnlyCell(ws, float(value))
    cell.number_format = places_format(indicator.decimals)
    return cell


def _unit(indicator):
    return "%" if indicator.unit == PERCENT else str(indicator.unit)


def workbook(dash, user):
    wb = Workbook()
    ws = wb.active
    ws.title = _("数据看板")[:31]
    area = dash.area
    title = _("%(area)s 易地扶贫搬迁后续扶持数据看板") % {"area": area.name}
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    as_of = timezone.localtime(dash.as_of).strftime("%Y-%m-%d %H:%M") if dash.as_of else "—"
    ws.append([_("区域"), area.name])
    ws.append([_("统计期"), str(dash.spec.label)])
    if dash.programme:
        ws.append([_("看板视图"), dash.programme.view.name])
    ws.append([_("统计日期"), dash.reference_date.isoformat() if dash.reference_date else "—"])
    if dash.window:
        ws.append([_("收入年度"), dash.window.income_year])
    ws.append([_("数据计算时间"), as_of])
    ws.append([_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    ws.append([])

    ws.append([_("指标"), _("数值"), _("单位"), _("上期"), _("较上期"), _("口径")])
    _style_header(ws)
    for section, cards in dash.details or dash.sections:
        ws.append([f"{section.theme} · {section.label}"])
        ws.cell(ws.max_row, 1).font = BOLD
        if not cards and dash.programme:
            ws.append([_("暂无可显示的指标（相关模块安装后自动显示）")])
        for card in cards:
            i = card.indicator
            ws.append(
                [
                    str(i.label),
                    _number(ws, i, card.value),
                    _unit(i),
                    _number(ws, i, card.previous) if card.previous is not None else "—",
                    change_text(i, card.value, card.previous) or "—",
                    str(i.description),
                ]
            )
    for view in dash.tables:
        ws.append([])
        ws.append([str(view.table.label)])
        ws.cell(ws.max_row, 1).font = BOLD
        ws.append(
            [str(view.table.row_label), *(with_unit(c.label, _unit(c)) for c in view.columns)]
        )
        _style_header(ws)
        for group, rows in view.groups:
            if group:
                ws.append([str(group)])
                ws.cell(ws.max_row, 1).font = BOLD
            for label, cells in rows:
                ws.append([str(label), *(_number(ws, c.indicator, c.value) for c in cells)])
    if dash.rows:
        ws.append([])
        ws.append([str(area.child_label), *(with_unit(c.label, _unit(c)) for c in dash.columns)])
        _style_header(ws)
        for row in [*dash.rows, dash.total]:
            ws.append([str(row.name), *(_number(ws, c.indicator, c.value) for c in row.cells)])
        ws.cell(ws.max_row, 1).font = BOLD
    for indicator, items in dash.breakdowns:
        ws.append([])
        ws.append([str(indicator.label), *(label for label, _v, _l in items)])
        _style_header(ws)
        ws.append([_unit(indicator), *(_number(ws, indicator, v) for _l, v, _link in items)])

    ws.column_dimensions["A"].width = 26
    for col in range(2, ws.max_column + 1):
        ws.column_dimensions[get_column_letter(col)].width = 13
    ws.column_dimensions["F"].width = max(ws.column_dimensions["F"].width, 13)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    return wb


def _style_header(ws):
    for cell in ws[ws.max_row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def xlsx_response(dash, user):
    buffer = io.BytesIO()
    workbook(dash, user).save(buffer)
    name = dash.programme.view.name if dash.programme else _("数据看板")
    filename = f"{dash.area.name}_{dash.spec.code}_{name}.xlsx"
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
