"""An admin list's .xlsx export writes numbers as numbers and dates as dates, so that an
office can sum an income column and sort by a date in Excel; its CSV keeps them as the
text it always wrote (``2024-03-01``, ``12000.50``).

django-import-export renders a declared column (``Field(attribute=…)``) with its plain
widget, as text, and asks for native values only for its own format classes, not for
our .xlsx (``relocation.spreadsheets.formats.XLSX``).
"""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from openpyxl import load_workbook

from communities.tests.conftest import world  # noqa: F401
from employment import enums as eenums
from employment.models import EmploymentRecord, HouseholdIncome

pytestmark = pytest.mark.django_db

#: Text that is a date or a decimal amount (a code or an ID number is digits alone).
DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
AMOUNT_TEXT = re.compile(r"-?\d+\.\d+")


@pytest.fixture
def dated(world):  # noqa: F811
    """An income and a job with amounts and dates in settlement A."""
    head = world.heads["a"]
    HouseholdIncome.objects.create(
        household=world.households["a"],
        year=2024,
        wage_income=Decimal("12000.50"),
        costs=Decimal("1000"),
        household_size=3,
    )
    EmploymentRecord.objects.create(
        person=head,
        kind=eenums.EmploymentKind.WAGE,
        monthly_income=Decimal("3200.00"),
        start_date=datetime.date(2024, 3, 1),
    )
    return world


def export(client, model, fmt, resource=0):
    model_admin = admin.site._registry[model]
    formats = [f().get_extension() for f in model_admin.get_export_formats()]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
    response = client.post(url, {"format": str(formats.index(fmt)), "resource": str(resource)})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    return response.content


def xlsx_rows(content):
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header, *rows = ([cell.value for cell in row] for row in sheet.iter_rows())
    return [dict(zip(header, row, strict=False)) for row in rows]


def csv_rows(content):
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_amounts_and_dates_are_numbers_and_dates_in_xlsx_and_text_in_csv(client, dated):
    client.force_login(dated.admin)
    (income,) = xlsx_rows(export(client, HouseholdIncome, "xlsx"))
    assert income["工资性收入"] == Decimal("12000.50") and not isinstance(income["工资性收入"], str)
    assert income["家庭纯收入"] == Decimal("11000.50")
    assert income["年度"] == 2024 and income["年末家庭人口"] == 3
    (job,) = xlsx_rows(export(client, EmploymentRecord, "xlsx"))
    assert job["开始日期"] == datetime.datetime(2024, 3, 1)  # openpyxl reads a date cell so
    assert job["月收入（元）"] == Decimal("3200")
    assert job["结束日期"] is None
    (income,) = csv_rows(export(client, HouseholdIncome, "csv"))
    assert (income["工资性收入"], income["家庭纯收入"]) == ("12000.50", "11000.50")
    (job,) = csv_rows(export(client, EmploymentRecord, "csv"))
    assert (job["开始日期"], job["月收入（元）"], job["结束日期"]) == ("2024-03-01", "3200.00", "")


def test_no_xlsx_export_writes_a_date_or_an_amount_as_text(client, dated):
    """Every layout of every list: a date or an amount written as text is a column that
    missed its widget."""
    client.force_login(dated.admin)
    request = type("R", (), {"user": dated.admin})()
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model_admin, "get_export_resource_classes"):
            continue
        for index, resource in enumerate(model_admin.get_export_resource_classes(request)):
            if getattr(resource, "kind_key", ""):
                continue  # the import page's layouts write each column as the import reads it
            for row in xlsx_rows(export(client, model, "xlsx", index)):
                for header, value in row.items():
                    where = (model._meta.model_name, resource.__name__, header, value)
                    if isinstance(value, str):
                        assert not DATE_TEXT.fullmatch(value), where
                        assert not AMOUNT_TEXT.fullmatch(value), where
                    checked += 1
    assert checked > 100
