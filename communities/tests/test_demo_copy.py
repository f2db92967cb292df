"""The demo's COPY writer: each new row with its "+" history row (PostgreSQL)."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from communities.demo import DEMO_REASON
from communities.demo.generate import PendingRows
from communities.models import GridUnit, Person, Settlement

from .factories import HouseholdFactory, SettlementFactory, make_id_number


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("the demo writes with COPY only on PostgreSQL (bulk_create elsewhere)")


NOW = timezone.make_aware(datetime.datetime(2026, 3, 4, 5, 6, 7, 123456))


def write_rows(model, rows, references=None):
    """Write ``rows`` as a demo step does (``PendingRows``): each row gets its id."""
    for place, row in enumerate(rows, start=1):
        row.setdefault("id", place)
    pending = PendingRows(NOW, (model,), references=references)
    pending.take({model: rows})
    pending.flush()


def test_history_rows_hold_the_live_values_even_with_tabs_newlines_and_backslashes():
    county = SettlementFactory().county
    rows = [
        {
            "code": "AZD-COPY-1",
            "name": "幸福\t小区\n二期\\东",
            "county_id": county.pk,
            "community": "",
            "kind": "urban",
            "year_built": None,
        },
        {"code": "AZD-COPY-2", "name": "新民小区\r", "county_id": county.pk, "kind": "rural"},
    ]
    write_rows(Settlement, rows)
    assert all(row["id"] for row in rows)
    for row in rows:
        live = Settlement.objects.get(pk=row["id"])
        assert live.name == row["name"]
        (record,) = Settlement.history.filter(id=row["id"])
        assert (record.history_type, record.history_change_reason) == ("+", DEMO_REASON)
        assert record.history_date == NOW and record.history_user_id is None
        for field in Settlement._meta.concrete_fields:
            assert getattr(record, field.attname) == getattr(live, field.attname), field.name
    # Missing keys take the model's defaults, in the live row and its history alike.
    assert Settlement.objects.get(pk=rows[1]["id"]).year_built is None
    assert Settlement.history.get(id=rows[1]["id"]).community == ""


def test_a_model_with_encrypted_columns_keeps_only_tokens_in_history():
    household = HouseholdFactory()
    id_number = make_id_number(datetime.date(1980, 5, 6))
    rows = [
        {
            "household_id": household.pk,
            "name": "王五",
            "id_number": id_number,
            "relationship": "head",
            "sex": "M",
            "birth_date": datetime.date(1980, 5, 6),
            "phone": "13800000000",
        }
    ]
    write_rows(Person, rows)
    person = Person.objects.get(pk=rows[0]["id"])
    assert person.id_number == id_number and person.phone == "13800000000"
    record = Person.history.get(id=person.pk)
    assert id_number not in record.id_number and "13800000000" not in record.phone
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM communities_person WHERE id = %s AND id_number = %s",
            [person.pk, id_number],
        )
        assert cursor.fetchone() == (0,)  # encrypted at rest


def test_rows_made_apart_get_the_tables_ids_in_order_and_their_references_follow():
    county = SettlementFactory().county
    pending = PendingRows(
        NOW, (Settlement, GridUnit), references={GridUnit: {"settlement_id": Settlement}}
    )
    made = []
    for task in range(2):  # two tasks, each numbering its rows from 1
        settlements = [
            {"id": n, "code": f"AZD-P{task}{n}", "name": f"{task}-{n}", "county_id": county.pk}
            for n in (1, 2)
        ]
        grids = [{"id": 1, "settlement_id": 2, "name": f"{task}-grid"}]
        made.append((settlements, grids))
        pending.take({Settlement: settlements, GridUnit: grids})
    pending.flush()
    ids = [row["id"] for settlements, _grids in made for row in settlements]
    assert ids == sorted(ids) and len(set(ids)) == 4
    names = dict(Settlement.objects.filter(pk__in=ids).values_list("pk", "name"))
    assert [names[pk] for pk in ids] == ["0-1", "0-2", "1-1", "1-2"]
    # Each grid belongs to the second settlement of its own task.
    assert dict(GridUnit.objects.values_list("name", "settlement__name")) == {
        "0-grid": "0-2",
        "1-grid": "1-2",
    }
