"""The tables written in bulk carry no index that nothing needs.

The demo, the roster imports and every stored period write these tables by the
hundred thousand rows, with a history row each, and every index is paid for on
every row.  A foreign key's own index is not needed where a composite index (or
a unique constraint) starts with the same column: lookups by that column and the
database's checks when a parent row is deleted use the composite one.  History
tables are read by record (``id``) and by time (``history_date``), never by
their foreign keys (migrations communities 0009, dashboards 0005, employment
0009, governance 0004, services 0005).
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

BULK_WRITTEN = (
    "communities.Household",
    "communities.Person",
    "employment.EmploymentRecord",
    "employment.HouseholdIncome",
    "governance.Pairing",
    "governance.Visit",
    "services.BenefitRecord",
    "services.HouseholdRight",
    "dashboards.SettlementFigure",
    "dashboards.AreaFigure",
)
#: What history tables are read by; the household's also by settlement (the
#: dashboards' "which settlements changed").
HISTORY_READ_BY = {("history_id",), ("id",), ("history_date",), ("history_user_id",)}
HISTORY_ALSO = {"communities.Household": {("settlement_id",)}}


def indexes(model):
    """[(columns, unique)] of the model's table as the database has them.

    Left out: partial indexes (they cover only some rows) and PostgreSQL's LIKE
    twins of text columns (``_like``: they serve prefix searches, which an index
    in the column's collation does not)."""
    partial = {
        c.name
        for c in [*model._meta.constraints, *model._meta.indexes]
        if getattr(c, "condition", None) is not None
    }
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        (tuple(info["columns"]), info["unique"])
        for name, info in found.items()
        if (info["index"] or info["unique"]) and name not in partial and not name.endswith("_like")
    ]


def covered_single_column_indexes(model):
    """The plain one-column indexes whose column leads another index of the table."""
    found = indexes(model)
    return sorted(
        columns
        for columns, unique in found
        if len(columns) == 1
        and not unique
        and any(
            other[0] == columns[0] and (len(other) > 1 or other_unique)
            for other, other_unique in found
            if (other, other_unique) != (columns, unique)
        )
    )


@pytest.mark.parametrize("label", BULK_WRITTEN)
def test_no_foreign_key_index_that_a_composite_one_serves(label):
    assert covered_single_column_indexes(apps.get_model(label)) == []


@pytest.mark.parametrize("label", [label for label in BULK_WRITTEN if "dashboards" not in label])
def test_history_indexes_only_what_history_is_read_by(label):
    model = apps.get_model(label)
    allowed = HISTORY_READ_BY | HISTORY_ALSO.get(label, set())
    unread = {columns for columns, _u in indexes(model.history.model)} - allowed
    assert unread == set()


def test_the_check_sees_a_covered_index():
    """The helper is not vacuous: the Visit table's composite index covers a
    one-column index on household_id, created here by hand."""
    Visit = apps.get_model("governance.Visit")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX visit_hh_twin ON {Visit._meta.db_table} (household_id)")
        try:
            assert covered_single_column_indexes(Visit) == [("household_id",)]
        finally:
            cursor.execute("DROP INDEX visit_hh_twin")
