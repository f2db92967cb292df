"""Formula injection (issue 9, item 4): one escaping rule for every CSV and xlsx we write.

Text starting with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading
apostrophe and is otherwise kept; numbers stay numbers; our import takes the
apostrophe off again, so an escaped export re-imports unchanged.
"""

import ast
import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from communities.enums import Relationship as R
from communities.models import Person
from communities.tests.conftest import world  # noqa: F401
from communities.tests.factories import PersonFactory
from employment import enums as eenums
from employment.models import Employer, HouseholdIncome
from relocation.dashboards import engine
from relocation.spreadsheets.cells import (
    CsvWriter,
    Workbook,
    WriteOnlyCell,
    cell_value,
    unescape_formula,
)
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, upload
from relocation.spreadsheets.workbooks import (
    error_workbook,
    export_csv,
    export_xlsx,
    template_workbook,
)

pytestmark = pytest.mark.django_db

PAYLOADS = ('=HYPERLINK("http://x","y")', "@SUM(1)", "+1", "-1+2", "\tx")
ESCAPED = ["'" + p for p in PAYLOADS]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- the rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*PAYLOADS, "\rx", "-", "=", "+86 138"])
def test_text_that_starts_a_formula_gets_one_apostrophe_and_comes_back(text):
    escaped = cell_value(text)
    assert escaped == "'" + text
    assert cell_value(escaped) == escaped  # escaping twice changes nothing
    assert unescape_formula(escaped) == text


@pytest.mark.parametrize(
    "value",
    [-1, -1.5, Decimal("-1000.00"), 0, True, None, datetime.date(2024, 1, 2)],
)
def test_numbers_dates_and_empty_stay_what_they_are(value):
    assert cell_value(value) is value


def test_other_text_is_kept_and_lazy_text_becomes_str():
    assert cell_value("阳光新区") == "阳光新区"
    assert cell_value("'quoted") == "'quoted"  # an apostrophe before ordinary text is data
    lazy = cell_value(gettext_lazy("我的管辖范围"))
    assert type(lazy) is str and lazy == "我的管辖范围"
    assert unescape_formula("'quoted") == "'quoted"


def test_workbook_sheets_take_any_value_safely():
    book = Workbook()
    sheet = book.active
    sheet.append([gettext_lazy("我的管辖范围"), "=1+1", -1, Decimal("-2.5"), None])
    sheet.append({"A": "@x", "B": 3})
    sheet.cell(row=3, column=1, value=gettext_lazy("区域"))
    sheet.cell(row=3, column=2, value="+86")
    sheet["C3"] = "-x"
    other = book.create_sheet("其他")
    other.append(["\tx"])
    content = io.BytesIO()
    book.save(content)
    loaded = load_workbook(io.BytesIO(content.getvalue()))
    rows = [[c.value for c in r] for r in loaded.active.iter_rows()]
    assert rows == [
        ["我的管辖范围", "'=1+1", -1, -2.5],
        ["'@x", 3, None, None],
        ["区域", "'+86", "'-x", None],
    ]
    assert loaded["其他"]["A1"].value == "'\tx"
    assert xlsx_values(content.getvalue())  # and no formula cell


def test_write_only_workbook_and_csv_writer_take_any_value_safely():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    sheet.append([gettext_lazy("姓名"), WriteOnlyCell(sheet, value="=A1"), "-1+2", -3])
    content = io.BytesIO()
    book.save(content)
    values = xlsx_values(content.getvalue())
    assert values == ["姓名", "'=A1", "'-1+2", -3]
    buffer = io.StringIO()
    CsvWriter(buffer).writerow([gettext_lazy("姓名"), "@SUM(1)", -3, None])
    assert buffer.getvalue() == "姓名,'@SUM(1),-3,\r\n"


# --- a world with hostile names ------------------------------------------------------


@pytest.fixture
def hostile(world):  # noqa: F811
    """Settlement A named like a formula; people in A and employers named after each payload."""
    w = world
    w.a.name = PAYLOADS[0]
    w.a.save()
    for name in PAYLOADS:
        PersonFactory(household=w.households["a"], name=name, relationship=R.SON, age=20)
    for name in PAYLOADS:
        Employer.objects.create(
            name=name,
            kind=eenums.EmployerKind.ENTERPRISE,
            county=w.regions.xingyi,
            location=eenums.EmployerLocation.IN_COUNTY,
        )
    # Net income below zero: costs above income.  A negative number is a number.
    HouseholdIncome.objects.create(
        household=w.households["a"], year=2024, costs=Decimal("1000"), household_size=3
    )
    return w


# --- reading what we wrote -----------------------------------------------------------


def xlsx_values(content):
    """Every cell value of every sheet; fails on any formula cell."""
    book = load_workbook(io.BytesIO(content))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def csv_values(content, delimiter=","):
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    return [
        v for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for v in row
    ]


def assert_safe(values, where):
    """No text starts a formula, except numbers (a negative amount stays a number)."""
    for value in values:
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            try:
                Decimal(value)
            except ArithmeticError:
                pytest.fail(f"{where}: unescaped formula text {value!r}")


def _is_number(value):
    if isinstance(value, int | float):
        return True
    try:
        Decimal(value)
    except (ArithmeticError, TypeError):
        return False
    return True


# --- admin list exports: every layout, every format ----------------------------------
# (Fields declared without a widget render numbers as text, "-1000.00", in every
# format; such a number must come out unescaped.)


def test_every_admin_export_escapes_text_and_keeps_numbers(client, hostile):
    client.force_login(hostile.admin)
    request = type("R", (), {"user": hostile.admin})()
    seen = {}
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model_admin, "get_export_resource_classes"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
        resources = model_admin.get_export_resource_classes(request)
        for r_index, resource in enumerate(resources):
            for f_index, fmt in enumerate(model_admin.get_export_formats()):
                ext = fmt().get_extension()
                where = (model._meta.model_name, resource.__name__, ext)
                response = client.post(url, {"format": str(f_index), "resource": str(r_index)})
                assert response.status_code == 200, where
                if ext == "xlsx":
                    values = xlsx_values(response.content)
                elif ext in ("csv", "tsv"):
                    values = csv_values(response.content, "\t" if ext == "tsv" else ",")
                else:
                    continue
                assert_safe(values, where)
                seen[where] = values
    people = [v for (m, _r, _e), v in seen.items() if m == "person"]
    employers = [v for (m, _r, _e), v in seen.items() if m == "employer"]
    assert len(people) >= 9 and len(employers) >= 6  # 3 layouts × 3 formats, 2 × 3
    for values in people:
        assert set(ESCAPED) <= set(values)
    for values in employers:
        assert set(ESCAPED) <= set(values)
    # 家庭收入: the net income of -1000 is a number in .xlsx and an unprefixed number in CSV.
    income_xlsx = [v for (m, _r, e), v in seen.items() if m == "householdincome" and e == "xlsx"]
    income_csv = [v for (m, _r, e), v in seen.items() if m == "householdincome" and e == "csv"]
    assert income_xlsx and income_csv
    assert all(
        any(_is_number(v) and Decimal(v) == -1000 for v in values)
        for values in income_xlsx + income_csv
    )


def test_csv_export_keeps_the_whole_value_behind_the_apostrophe(client, hostile):
    """The stock escaping stripped a leading "=" (changing the data); ours keeps it."""
    client.force_login(hostile.admin)
    response = client.post(reverse("admin:communities_person_export"), {"format": "0"})
    text = response.content.decode("utf-8-sig")
    assert '\'=HYPERLINK(""http://x"",""y"")' in text  # csv doubles the quotes
    assert "'@SUM(1)" in text and "'+1" in text and "'-1+2" in text and "'\tx" in text


# --- the import page's own files -----------------------------------------------------


@pytest.mark.parametrize("key", ["roster", "settlement", "employer"])
def test_import_page_exports_are_escaped(hostile, key):
    kind = get_kind(key)
    for values in (
        xlsx_values(export_xlsx(kind, hostile.admin)),
        csv_values(export_csv(kind, hostile.admin)),
    ):
        assert_safe(values, key)
        expected = ESCAPED[:1] if key == "settlement" else ESCAPED
        assert set(expected) <= set(values), key


def test_templates_have_no_formula_cells():
    for key in ("roster", "settlement", "building", "grid", "employer", "employment", "income"):
        kind = get_kind(key)
        if kind is not None:
            assert_safe(xlsx_values(template_workbook(kind)), key)


def test_error_workbook_escapes_the_uploaded_text(hostile):
    kind = get_kind("employer")
    headers = [str(c.header) for c in kind.columns if not c.export_only]
    row = {"单位名称": '=HYPERLINK("http://x","y")', "类型": "@SUM(1)", "登记县代码": "+1"}
    job = upload(hostile.admin, "employer", csv_bytes(headers, [row]))
    assert job.errors  # 类型 "@SUM(1)" is not a kind
    from relocation.spreadsheets import services

    values = xlsx_values(services.job_error_workbook(job))
    assert_safe(values, "errors")
    assert {'\'=HYPERLINK("http://x","y")', "'@SUM(1)", "'+1"} <= set(values)
    assert error_workbook  # the function every error list goes through


# --- dashboards ------------------------------------------------------------------------


def test_dashboard_xlsx_writes_a_formula_name_as_text(client, hostile):
    engine.refresh_live(full=True)
    client.force_login(hostile.admin)
    for url in (
        reverse("dashboards:region", args=[hostile.regions.huangcao.code]),  # rows: settlements
        reverse("dashboards:settlement", args=[hostile.a.pk]),
    ):
        response = client.get(url, {"format": "xlsx"})
        assert response.status_code == 200, url
        values = xlsx_values(response.content)
        assert_safe(values, url)
        assert ESCAPED[0] in values, url
        assert any(isinstance(v, int) for v in values)  # counts stay numbers


# --- round trip ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize(
    "admin_name, kind_key",
    [("communities_person", "roster"), ("employment_employer", "employer")],
)
def test_escaped_export_reimports_unchanged(client, hostile, fmt, admin_name, kind_key):
    """Export in the import layout from the admin list, upload it: nothing changes."""
    client.force_login(hostile.admin)
    model_admin = next(
        a
        for m, a in admin.site._registry.items()
        if f"{m._meta.app_label}_{m._meta.model_name}" == admin_name
    )
    request = type("R", (), {"user": hostile.admin})()
    resources = model_admin.get_export_resource_classes(request)
    r_index = next(i for i, r in enumerate(resources) if getattr(r, "kind_key", "") == kind_key)
    formats = model_admin.get_export_formats()
    f_index = next(i for i, f in enumerate(formats) if f().get_extension() == fmt)
    response = client.post(
        reverse(f"admin:{admin_name}_export"), {"format": str(f_index), "resource": str(r_index)}
    )
    assert response.status_code == 200
    job = upload(hostile.admin, kind_key, response.content, f"export.{fmt}")
    assert job.errors == []
    assert (job.new_rows, job.updated_rows) == (0, 0)
    assert job.unchanged_rows > 0
    names = set(Person.objects.values_list("name", flat=True)) | set(
        Employer.objects.values_list("name", flat=True)
    )
    assert set(PAYLOADS) <= names


# --- the boundary stays the only way out ---------------------------------------------

WRITER_NAMES = {("openpyxl", "Workbook"), ("openpyxl.cell", "WriteOnlyCell")}
CSV_WRITERS = {"writer", "DictWriter"}


def test_every_writer_goes_through_the_boundary():
    """Product code makes workbooks and CSV writers only through relocation.spreadsheets.cells."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root)
        parts = relative.parts
        if parts[0] in (".venv", "node_modules", "benchmarks", "tests") or "tests" in parts:
            continue
        if "migrations" in parts or relative == Path("relocation/spreadsheets/cells.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if (node.module, alias.name) in WRITER_NAMES:
                        offenders.append(f"{relative}:{node.lineno} imports {alias.name}")
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr)
                in {("openpyxl", "Workbook"), *(("csv", w) for w in CSV_WRITERS)}
            ):
                offenders.append(f"{relative}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert offenders == []


@pytest.mark.parametrize("text", ["-1000.00", "-5", "-0.5"])
def test_a_negative_amount_written_as_text_is_a_number_not_escaped(text):
    assert cell_value(text) == text


@pytest.mark.parametrize("text", ["-1+2", "-", "-1e5", "-1.", "-.5", "-1\n", "+1", "-1 "])
def test_only_a_plain_negative_amount_is_let_through(text):
    assert cell_value(text) == "'" + text
