"""The boundary between our values and the files users download.

Every value the product hands to openpyxl, to a csv writer, to a
django-import-export dataset or to the charts' JSON passes through here, so two
rules hold everywhere without a fix at each call:

* it is a real value: lazy translations (``gettext_lazy``) and other objects
  become ``str`` (openpyxl refuses a lazy string with "Cannot convert … to
  Excel"; ``json.dumps`` refuses it outright);
* text that a spreadsheet would run as a formula (a leading ``=``, ``+``,
  ``-``, ``@``, tab or carriage return) gets a leading apostrophe and is
  otherwise kept as it was (OWASP "CSV injection").  Numbers stay numbers, so a
  negative amount is never escaped, nor a negative amount written as text
  ("-1000.00": a number to every spreadsheet).  Our import removes exactly one apostrophe
  before such a character again, so an export re-imports unchanged.

This module imports nothing of ours (only Django, openpyxl and the standard
library): the dashboards, the spreadsheet machinery and every app's resources
use it.  Writers use its ``Workbook``, ``WriteOnlyCell`` and ``CsvWriter``
instead of openpyxl's and csv's; ``test_every_writer_goes_through_the_boundary``
keeps it that way.
"""

import csv
import datetime
import re
from decimal import Decimal

import openpyxl
import openpyxl.worksheet._write_only
import openpyxl.worksheet.worksheet
from django.utils.encoding import force_str
from django.utils.functional import Promise
from openpyxl.cell.cell import Cell

#: First characters that make a spreadsheet run a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Values openpyxl and csv take as they are (numbers stay numbers, dates stay dates).
NATIVE_TYPES = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


#: A negative amount written as text ("-1000.00", as a resource renders a decimal): a
#: number to every spreadsheet, never a formula, so it is not escaped either.
NEGATIVE_NUMBER = re.compile(r"-[0-9]+(?:\.[0-9]+)?")


def escape_formula(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not NEGATIVE_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def unescape_formula(text):
    """Undo ``escape_formula``: exactly one apostrophe before a formula character."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def cell_value(value):
    """One value as a spreadsheet or CSV cell: None, a native number/date, or safe text."""
    if value is None or isinstance(value, NATIVE_TYPES):
        return value
    return escape_formula(force_str(value))


def places_format(places):
    """The Excel number format that shows ``places`` decimal places ("0.00" for 2)."""
    return "0." + "0" * places if places > 0 else "General"


def cell_row(values):
    return [cell_value(value) for value in values]


def _cell_or_value(value):
    return value if isinstance(value, Cell) else cell_value(value)


class Worksheet(openpyxl.worksheet.worksheet.Worksheet):
    """A worksheet whose ``cell``, ``append`` and ``ws["A1"] = …`` take any value safely."""

    def cell(self, row, column, value=None):
        return super().cell(row, column, cell_value(value))

    def append(self, iterable):
        if isinstance(iterable, dict):
            return super().append({k: _cell_or_value(v) for k, v in iterable.items()})
        return super().append([_cell_or_value(v) for v in iterable])

    def __setitem__(self, key, value):
        super().__setitem__(key, cell_value(value))


class WriteOnlyWorksheet(openpyxl.worksheet._write_only.WriteOnlyWorksheet):
    def append(self, row):
        return super().append([_cell_or_value(v) for v in row])


class Workbook(openpyxl.Workbook):
    """``openpyxl.Workbook`` whose sheets pass every value through ``cell_value``.

    Every workbook the product writes is one of these (a test keeps it so), so no
    call site can hand openpyxl a lazy string or a live formula.
    """

    def __init__(self, write_only=False, iso_dates=False):
        super().__init__(write_only=write_only, iso_dates=iso_dates)
        if not write_only:
            self._sheets = [Worksheet(self)]

    def create_sheet(self, title=None, index=None):
        if self.write_only:
            sheet = WriteOnlyWorksheet(parent=self, title=title)
        else:
            sheet = Worksheet(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet


def WriteOnlyCell(ws=None, value=None):  # openpyxl's name, so writers only change the import
    """``openpyxl.cell.WriteOnlyCell`` with the value through ``cell_value``."""
    return openpyxl.cell.WriteOnlyCell(ws, value=cell_value(value))


class CsvWriter:
    """``csv.writer`` whose rows go through ``cell_value`` (None becomes empty)."""

    def __init__(self, buffer, **kwargs):
        self._writer = csv.writer(buffer, **kwargs)

    def writerow(self, values):
        return self._writer.writerow(["" if v is None else v for v in cell_row(values)])


def plain(value):
    """Data for ``json.dumps`` (the charts): lazy strings become ``str``, tuples lists.

    Chart labels are shown as text by ECharts, never run, so no apostrophe here.
    """
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, dict):
        return {force_str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
