"""A big list's own order is an index read backwards, so its first page never sorts the table.

就业台账 and 结对帮扶 list the newest first (``-start_date, -id``): without an index on
``(start_date, id)`` every page, a county's too, sorted the whole table (1.8 s for the
就业台账 of 2 million people; ``benchmarks/list_sorting.py``).
"""

import pytest
from django.contrib import admin
from django.db import connection

from employment.models import EmploymentRecord
from governance.models.organisation import Pairing

pytestmark = pytest.mark.django_db


def index_columns(model):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {tuple(info["columns"]) for info in found.values() if info["index"]}


@pytest.mark.parametrize("model", [EmploymentRecord, Pairing])
def test_the_lists_own_order_is_an_index(model):
    model_admin = admin.site._registry[model]
    ordering = list(model_admin.ordering or model._meta.ordering)
    assert ordering == ["-start_date", "-id"]  # read backwards: newest first
    assert ("start_date", "id") in index_columns(model)
