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


def _history_models_with_a_user():
    return [
        model
        for model in apps.get_models()
        if any(f.name == "history_id" for f in model._meta.fields)
        and any(f.name == "history_user" for f in model._meta.fields)
    ]


def _index_definitions(table):
    """{index name: its SQL} of ``table``, as the database has it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table]
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
        return dict(cursor.fetchall())


def test_every_history_indexes_its_user_only_where_there_is_one():
    """The rows the system writes have no user (24 million at the demo's 500,000
    households): the user column's one index leaves them out."""
    models = _history_models_with_a_user()
    assert len(models) >= 40
    for model in models:
        # PostgreSQL and SQLite quote differently: compared without quotes.
        definitions = [
            sql.replace('"', "") for sql in _index_definitions(model._meta.db_table).values()
        ]
        on_user = [sql for sql in definitions if "(history_user_id)" in sql]
        assert len(on_user) == 1, model
        where = on_user[0].split(" WHERE ", 1)[1].lower()
        assert where.strip("() ") == "history_user_id is not null", model


def test_the_changes_of_a_user_are_found_through_that_index(django_user_model):
    """A lookup by user (deleting a user clears their rows so) can use the partial
    index: equality implies the column is not null."""
    if connection.vendor != "postgresql":
        pytest.skip("the query plan is PostgreSQL's; SQLite has the same index (test above)")
    Person = apps.get_model("communities.Person")
    user = django_user_model.objects.create(username="writer")
    query = Person.history.filter(history_user=user)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    name = [
        n for n in _index_definitions(Person.history.model._meta.db_table) if "_hist_user_" in n
    ]
    assert len(name) == 1 and name[0] in plan
