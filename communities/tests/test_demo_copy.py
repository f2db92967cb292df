"""The demo's COPY writer: each new row with its "+" history row (PostgreSQL)."""

import datetime
import os
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from communities.demo import DEMO_REASON
from communities.demo.generate import PackedRows, PendingRows, in_processes
from communities.history_pii import tokenize
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


@pytest.mark.parametrize("packed", [False, True], ids=["from dicts", "formatted where made"])
def test_a_model_with_encrypted_columns_keeps_only_tokens_in_history(packed):
    household = HouseholdFactory()
    id_number = make_id_number(datetime.date(1980, 5, 6))
    rows = [
        {
            "id": 1,
            "household_id": household.pk,
            "name": "王五",
            "id_number": id_number,
            "relationship": "head",
            "sex": "M",
            "birth_date": datetime.date(1980, 5, 6),
            "phone": "13800000000",
        }
    ]
    pending = PendingRows(NOW, (Person,), keep_rows=() if packed else (Person,))
    made = pending.packing(lambda task: {Person: rows})(None)
    assert isinstance(made[Person], PackedRows) is packed
    pending.take(made)
    pending.flush()
    person = Person.objects.get(household=household)
    assert person.id_number == id_number and person.phone == "13800000000"
    assert Person.objects.get(id_number=id_number) == person  # by its keyed hash
    record = Person.history.get(id=person.pk)
    assert (record.history_type, record.history_change_reason) == ("+", DEMO_REASON)
    # Tokens only: the masked value and the keyed hash's first digits.
    assert record.id_number == tokenize("id", id_number)
    assert record.phone == tokenize("phone", "13800000000")
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


def _settlements_and_grids(county, prefix):
    """One task's rows: two settlements (values COPY text must escape, defaults, None,
    decimals) and three grids, two of them on the second settlement."""
    settlements = [
        {
            "id": 1,
            "code": f"{prefix}-1",
            "name": "幸福\t小区\n二期\\东\r",
            "county_id": county.pk,
            "kind": "urban",
            "year_built": 2019,
            "land_area_mu": Decimal("12.50"),
            "latitude": Decimal("26.123456"),
            "address": "",
        },
        {"id": 2, "code": f"{prefix}-2", "name": r"\N", "county_id": county.pk, "kind": "rural"},
    ]
    grids = [
        {"id": 1, "settlement_id": 2, "name": "第1网格"},
        {"id": 2, "settlement_id": 1, "name": "第2网格\t"},
        {"id": 3, "settlement_id": 2, "name": "第3网格"},
    ]
    return {Settlement: settlements, GridUnit: grids}


def _written(prefix):
    """The rows of ``_settlements_and_grids(prefix)`` as stored, live and history, without
    their ids and codes (the grids by their settlement's name)."""
    settlements = Settlement.objects.filter(code__startswith=prefix).order_by("code")
    skip = {"id", "code", "history_id"}
    live = [
        {f.attname: getattr(s, f.attname) for f in Settlement._meta.concrete_fields}
        for s in settlements
    ]
    history = [
        {
            f.attname: getattr(h, f.attname)
            for f in Settlement.history.model._meta.concrete_fields
            if f.attname not in skip
        }
        for h in Settlement.history.filter(code__startswith=prefix).order_by("code")
    ]
    grids = sorted(
        GridUnit.objects.filter(settlement__in=settlements).values_list("name", "settlement__name")
    )
    grid_history = sorted(
        (h.name, Settlement.objects.get(pk=h.settlement_id).name, h.history_type, h.history_date)
        for h in GridUnit.history.filter(settlement_id__in=[s["id"] for s in live])
    )
    for row in live:
        del row["id"], row["code"]
    return live, history, grids, grid_history


def test_rows_formatted_where_they_are_made_are_written_as_rows_from_dicts():
    county = SettlementFactory().county
    references = {GridUnit: {"settlement_id": Settlement}}
    order = (Settlement, GridUnit)
    # As dicts, written here (the way models with encrypted columns still go).
    kept = PendingRows(NOW, order, references=references, keep_rows=order)
    assert not kept.layouts
    kept.take(_settlements_and_grids(county, "AZD-DICT"))
    kept.flush()
    # Formatted by the task (``packing``), only the ids put in here.
    pending = PendingRows(NOW, order, references=references)
    assert set(pending.layouts) == {Settlement, GridUnit}
    made = pending.packing(lambda task: _settlements_and_grids(county, task))("AZD-PACK")
    assert isinstance(made[Settlement], PackedRows) and len(made[GridUnit]) == 3
    pending.take(made)
    pending.flush()
    packed, from_dicts = _written("AZD-PACK"), _written("AZD-DICT")
    assert packed == from_dicts
    live, history, grids, _grid_history = packed
    assert live[0]["name"] == "幸福\t小区\n二期\\东\r" and live[1]["name"] == r"\N"
    assert live[1]["year_built"] is None and live[0]["land_area_mu"] == Decimal("12.50")
    assert {h["history_change_reason"] for h in history} == {DEMO_REASON}
    assert grids == [("第1网格", r"\N"), ("第2网格\t", live[0]["name"]), ("第3网格", r"\N")]


def test_rows_are_formatted_in_the_processes_that_make_them():
    county = SettlementFactory().county
    pending = PendingRows(
        NOW, (Settlement, GridUnit), references={GridUnit: {"settlement_id": Settlement}}
    )
    made_in = set()

    def make(task):
        made_in.add(os.getpid())
        return {**_settlements_and_grids(county, f"AZD-T{task}"), "pid": os.getpid()}

    results = list(in_processes(pending.packing(make), iter(range(4)), workers=2))
    assert {made["pid"] for made in results} - {os.getpid()}  # made elsewhere
    for made in results:
        assert isinstance(made[Settlement], PackedRows)  # and formatted there
        del made["pid"]
        pending.take(made)
    pending.flush()
    for task in range(4):
        live, history, grids, grid_history = _written(f"AZD-T{task}")
        assert [row["name"] for row in live] == ["幸福\t小区\n二期\\东\r", r"\N"]
        assert len(history) == 2 and len(grid_history) == 3
        assert grids == [("第1网格", r"\N"), ("第2网格\t", live[0]["name"]), ("第3网格", r"\N")]
    ids = list(
        Settlement.objects.filter(code__startswith="AZD-T")
        .order_by("code")
        .values_list("pk", flat=True)
    )
    assert ids == sorted(ids)  # the tables' ids in the order of the tasks


def test_kept_rows_stay_rows():
    pending = PendingRows(NOW, (Settlement, Person, GridUnit), keep_rows=(GridUnit,))
    assert set(pending.layouts) == {Settlement, Person}
