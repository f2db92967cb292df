"""The importer's fast paths keep their meaning: the cycle collector paused only
while a job runs, and the bulk look-ups finding exactly the records asked for."""

import gc

import pytest

from communities.models import Household, Person
from relocation.spreadsheets import engine, services
from relocation.spreadsheets.models import ImportUpload

from .helpers import ROSTER_HEADERS, csv_bytes, instance_state, person_row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector_seen(monkeypatch):
    """Whether the collector was on while each file was planned."""
    seen = []
    original = engine.plan_file

    def plan_file(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "plan_file", plan_file)
    return seen


def test_the_collector_is_off_while_a_file_is_checked_and_on_again_after(world, collector_seen):
    assert gc.isenabled()
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [person_row("P001", "S1")]))
    assert job.state in ("ready", "invalid")
    assert collector_seen == [False]
    assert gc.isenabled()


def test_the_collector_is_on_again_when_a_check_fails(world, monkeypatch):
    def broken(*args, **kwargs):
        assert not gc.isenabled()
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "plan_file", broken)
    with pytest.raises(RuntimeError):
        upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [person_row("P001", "S1")]))
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_finds_it_paused_after(world, collector_seen):
    gc.disable()
    try:
        upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [person_row("P001", "S1")]))
        assert collector_seen == [False]
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_check_stores_its_plan_or_its_parsed_cells_never_both(world):
    rows = [person_row("P001", world.a.code, seq=1), person_row("P002", world.a.code, seq=2)]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "ready", job.errors
    stored = ImportUpload.objects.get(job=job)
    # A kept plan (PostgreSQL) or the parsed cells (SQLite): one of the two, never both.
    assert (stored.kept is None) != (stored.parsed is None)
    job = services.job_confirm(job, world.admin)
    assert job.state == "committed", job.failure
    assert set(
        Household.objects.filter(number__in=["P001", "P002"]).values_list("number", flat=True)
    ) == {
        "P001",
        "P002",
    }


def test_bulk_in_by_id_finds_exactly_the_ids_asked_for(world):
    households = list(Household.objects.order_by("pk"))
    assert len(households) >= 3
    wanted = {households[0].pk, households[2].pk}
    found = engine.bulk_in(Household.objects.all(), "id", [*wanted, 10**12])
    assert {h.pk for h in found} == wanted
    assert engine.bulk_in(Household.objects.all(), "id", []) == []


def test_bulk_in_by_an_encrypted_id_number_matches_its_hash(world):
    people = list(Person.objects.order_by("pk")[:3])
    wanted = [p.id_number for p in people[:2]]
    found = engine.bulk_in(Person.objects.all(), "id_number", [*wanted, "110105194912310001"])
    assert sorted(p.pk for p in found) == sorted(p.pk for p in people[:2])


def test_bulk_in_by_text_keeps_a_value_with_a_comma_whole(world):
    """Household numbers are people's text: "A,B" is one number, not "A" and "B"."""
    first = Household.objects.order_by("pk").first()
    odd = Household.objects.create(
        number=f"{first.number},X", settlement=first.settlement, relocation_year=2018
    )
    found = engine.bulk_in(Household.objects.all(), "number", [f"{first.number},X"])
    assert [h.pk for h in found] == [odd.pk]
    found = engine.bulk_in(Household.objects.all(), "number", [first.number, "X"])
    assert [h.pk for h in found] == [first.pk]


def test_bulk_in_refuses_what_is_not_an_id(world):
    with pytest.raises(ValueError):
        engine.bulk_in(Household.objects.all(), "id", ["1,2"])


def reference_parse(kind, headers, cells):
    """What each cell of a row means, parsed one by one: {key: value} and the failed keys."""
    mapping = {c.header: c for c in kind.columns}
    values, bad = {}, set()
    for index, header in enumerate(headers):
        column = mapping.get(header)
        if column is None or column.export_only:
            continue
        try:
            values[column.key] = column.parse(cells[index] if index < len(cells) else None)
        except engine.CellError:
            bad.add(column.key)
    return values, bad


def test_remembered_and_repeated_cells_mean_what_each_cell_means_alone(world):
    """Equal cells of other types (True, 1, 1.0, "1") are parsed apart; errors stay per row."""
    import datetime

    from relocation.spreadsheets.kinds import get_kind
    from relocation.spreadsheets.reading import SheetData

    kind = get_kind("roster")
    headers = list(ROSTER_HEADERS)
    base = [person_row("P001", "S1").get(h, "") for h in headers]
    variants = {
        "单元": [1, 1.0, True, "1", "一", None, "", 2.5],
        "搬迁年度": [2018, 2018.0, "2018", "二〇一八", True, None, 2031],
        "入住日期": ["2019-12-20", datetime.datetime(2019, 12, 20), 43819, "2019年12月", None],
        "参加医保": ["是", True, 1, 1.0, "否", False, 0, "也许", None],
        "住房面积（㎡）": [80, 80.0, "80", "80.5", "八十", -1, None],
    }
    rows, number = [], 2
    for header, cells in variants.items():
        if header not in headers:
            continue
        for cell in cells:
            row = list(base)
            row[headers.index(header)] = cell
            rows.append((number, row))
            number += 1
    rows.append((number, base[:3]))  # a short row: the rest are blank
    expected = {n: reference_parse(kind, headers, cells) for n, cells in rows}
    plan = engine.Plan(kind)
    parsed = engine.parse_rows(kind, SheetData(headers, rows), plan, engine.Context(world.admin))
    assert len(parsed) == len(rows) > 30
    for row in parsed:
        values, bad = expected[row.number]
        assert (row.values, row.bad) == (values, bad), row.number
    failed = {(n, key) for n, (_v, bad) in expected.items() for key in bad}
    assert len(plan.errors.items) == len(failed) > 5
    assert {n for n, _h, _m in plan.errors.items} == {n for n, _k in failed}


def test_new_instance_is_the_keyword_form_field_for_field(world):
    """The roster's new households: the same attributes, defaults, ids and cached related
    objects as ``Household(**values)``, and ``clean()`` asks the database nothing."""
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from communities.models import Building, GridUnit, Region

    building = Building.objects.get(settlement=world.a, name="1栋")
    grid = GridUnit.objects.get(settlement=world.a, name="第1网格")
    county = Region.objects.get(code=world.a.county_id)
    values = {
        "number": "NI-1",
        "settlement": world.a,
        "building": building,
        "grid": grid,
        "ten_group": None,
        "origin_county": county,
        "unit": "2",
        "room": "301",
        "relocation_year": 2019,
        "moved_in_date": datetime.date(2020, 1, 5),
    }
    built = engine.new_instance(Household, values)
    assert instance_state(built) == instance_state(Household(**values))
    assert built.building is building and built.settlement is world.a
    assert built.origin_township is None and built.pk is None
    with CaptureQueriesContext(connection) as queries:
        built.clean()
    assert len(queries) == 0
    # What a mismatch looks like is unchanged: the grid of another settlement is refused.
    other_grid = GridUnit(pk=grid.pk, settlement_id=world.b.pk, name="别处")
    wrong = engine.new_instance(Household, {**values, "grid": other_grid})
    with pytest.raises(engine.ValidationError) as raised:
        wrong.clean()
    assert "grid" in raised.value.message_dict


def test_new_instance_takes_ids_by_attname_and_refuses_unknown_names(world):
    built = engine.new_instance(Household, {"number": "NI-2", "settlement_id": world.a.pk})
    assert instance_state(built) == instance_state(
        Household(number="NI-2", settlement_id=world.a.pk)
    )
    with pytest.raises(TypeError, match="flat"):
        engine.new_instance(Household, {"number": "NI-3", "flat": "1"})
    with pytest.raises(TypeError, match="settlement_id"):  # one field given twice
        engine.new_instance(
            Household, {"number": "NI-3", "settlement": world.a, "settlement_id": world.a.pk}
        )
    with pytest.raises(TypeError):
        Household(number="NI-3", flat="1")


def test_postgresql_stores_the_compressed_upload_and_results_as_they_are(world):
    """Its own compression of bytes compressed already cost a 13 MB workbook 0.4 s to
    store; the three columns are ``STORAGE EXTERNAL`` and still give back every byte."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a column's storage mode is PostgreSQL's (SQLite stores bytes as given)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute WHERE attrelid = %s::regclass"
            " AND attname IN ('content', 'parsed', 'kept')",
            [ImportUpload._meta.db_table],
        )
        assert dict(cursor.fetchall()) == {"content": "e", "parsed": "e", "kept": "e"}
    content = csv_bytes(ROSTER_HEADERS, [person_row("P001", "S1")]) * 200
    job = upload(world.admin, "roster", content)
    import zlib

    assert zlib.decompress(bytes(ImportUpload.objects.get(job=job).content)) == content


def _new_people(household, count):
    import datetime

    from communities.spreadsheets.roster import person_row
    from communities.tests.factories import make_id_number

    for seq in range(count):
        id_number = make_id_number(datetime.date(1990, 1, 1 + seq), "F", seq=seq)
        yield person_row(
            id_number, household.pk, {"name": f"流式{seq}", "relationship": "daughter"}
        )


def test_rows_made_as_they_are_streamed_get_ids_and_history_rows(world):
    """The roster's new people are made while they are written: each gets its id, the
    importer's "+" history row and its birth date from its ID number."""
    import datetime

    from django.db import transaction

    from relocation.spreadsheets.writes import insert_rows

    household = world.households["a"]
    before = Person.objects.count()
    with transaction.atomic():
        insert_rows(
            Person,
            _new_people(household, 3),
            engine.Context(world.admin, reason="导入：流式.xlsx"),
            count=3,
        )
    made = Person.objects.filter(name__startswith="流式").order_by("name")
    assert Person.objects.count() == before + 3
    assert [p.birth_date for p in made] == [datetime.date(1990, 1, d) for d in (1, 2, 3)]
    history = Person.history.filter(id__in=[p.pk for p in made])
    assert sorted((h.history_type, h.history_change_reason, h.id) for h in history) == sorted(
        ("+", "导入：流式.xlsx", p.pk) for p in made
    )


def test_fewer_rows_than_counted_write_nothing(world):
    from django.db import transaction

    from relocation.spreadsheets.writes import insert_rows

    household = world.households["a"]
    before, history_before = Person.objects.count(), Person.history.count()
    with pytest.raises(ValueError), transaction.atomic():
        insert_rows(Person, _new_people(household, 2), engine.Context(world.admin), count=3)
    assert (Person.objects.count(), Person.history.count()) == (before, history_before)
