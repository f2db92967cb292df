"""``delete_with_history``: the rows a demo step removes, their links and their history,
and nothing else (``load_demo --reset``)."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from communities.demo import DEMO_REASON
from communities.demo.generate import delete_with_history
from communities.models import AreaScope, Building, GridUnit

from .factories import BuildingFactory, SettlementFactory


def _demo_buildings():
    """Told by the history rows that ``delete_with_history`` removes too."""
    made = Building.history.filter(history_type="+", history_change_reason=DEMO_REASON)
    return Building._base_manager.filter(pk__in=made.values("id"))


@pytest.fixture
def estate(db):
    settlement = SettlementFactory()
    kept = BuildingFactory(settlement=settlement, name="1栋")
    made = [Building(settlement=settlement, name=f"{n}栋") for n in (2, 3)]
    Building.objects.bulk_create(made, history_reason=DEMO_REASON)
    kept_grid = GridUnit.objects.create(settlement=settlement, name="第1网格")
    kept_grid.buildings.add(kept)
    gone_grid = GridUnit.objects.create(settlement=settlement, name="第2网格")
    gone_grid.buildings.add(*made)
    return kept, made, kept_grid, gone_grid


def test_removes_the_rows_their_links_and_history_and_nothing_else(estate):
    kept, made, kept_grid, gone_grid = estate
    links = GridUnit.buildings.through._base_manager
    link_history = apps.get_model(
        "communities", f"{GridUnit.history.model.__name__}_buildings"
    )._base_manager
    assert link_history.filter(history__id=gone_grid.pk).exists()
    kept_link_history = link_history.filter(history__id=kept_grid.pk).count()

    assert delete_with_history(GridUnit, GridUnit._base_manager.filter(pk=gone_grid.pk)) == 1
    assert list(GridUnit.objects.values_list("pk", flat=True)) == [kept_grid.pk]
    assert not GridUnit.history.filter(id=gone_grid.pk).exists()
    assert not links.filter(gridunit_id=gone_grid.pk).exists()
    assert not link_history.filter(history__id=gone_grid.pk).exists()
    assert list(links.values_list("gridunit_id", "building_id")) == [(kept_grid.pk, kept.pk)]
    assert link_history.filter(history__id=kept_grid.pk).count() == kept_link_history
    assert GridUnit.history.filter(id=kept_grid.pk).exists()

    # A query told by the history rows it deletes: the ids are taken before.
    assert delete_with_history(Building, _demo_buildings()) == 2
    assert list(Building.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Building.history.filter(id__in=[b.pk for b in made]).exists()
    assert Building.history.filter(id=kept.pk).count() == 1
    assert delete_with_history(Building, _demo_buildings()) == 0  # nothing left: nothing done
    assert delete_with_history(Building, Building._base_manager.filter(pk__in=[])) == 0
    assert Building.objects.count() == 1


def _temporary_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relpersistence = 't' AND relname LIKE 'doomed%%'"
        )
        return [name for (name,) in cursor.fetchall()]


def test_postgresql_keeps_the_ids_on_the_server_and_drops_them_after(estate):
    """The ids go through a temporary table; one left behind by an earlier error
    (outside a transaction nothing drops it) neither stops the next removal nor
    lends it its ids."""
    if connection.vendor != "postgresql":
        pytest.skip("the ids go through a temporary table on PostgreSQL only")
    kept, made, _kept_grid, gone_grid = estate
    delete_with_history(GridUnit, GridUnit._base_manager.filter(pk=gone_grid.pk))  # links first
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE doomed_communities_building (id bigint)")
        cursor.execute("INSERT INTO doomed_communities_building VALUES (%s)", [kept.pk])

    assert delete_with_history(Building, _demo_buildings()) == 2
    assert list(Building.objects.values_list("pk", flat=True)) == [kept.pk]
    assert Building.history.filter(id=kept.pk).exists()
    assert _temporary_tables() == []


def _file_of(model):
    """The table's file: ``TRUNCATE`` gives it a new one, ``DELETE`` keeps it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_filenode(%s)", [model._meta.db_table])
        return cursor.fetchone()[0]


def test_postgresql_empties_a_whole_unreferenced_table_with_truncate(estate):
    """A table that loses every row and that no key refers to is truncated; one that
    keeps a row, or that another table's key refers to, loses its rows by DELETE."""
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is used on PostgreSQL only")
    kept, made, kept_grid, gone_grid = estate
    delete_with_history(GridUnit, GridUnit._base_manager.all())
    history = Building.history.model
    files = {model: _file_of(model) for model in (Building, history)}

    # One building and its history row stay: DELETE.
    assert delete_with_history(Building, _demo_buildings()) == 2
    assert {model: _file_of(model) for model in files} == files
    assert history.objects.count() == 1

    assert delete_with_history(Building, Building._base_manager.all()) == 1
    assert Building.objects.count() == 0 and history.objects.count() == 0
    assert _file_of(history) != files[history]  # every history row went: TRUNCATE
    assert _file_of(Building) == files[Building]  # households' and grids' keys refer to it


def test_postgresql_checks_the_keys_of_rows_written_earlier_then_truncates(estate):
    """PostgreSQL truncates no table whose new rows' keys the transaction checks at
    commit ("pending trigger events"): those checks run first, then the table is
    truncated; a row that breaks a key still fails, and nothing is removed."""
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is used on PostgreSQL only")
    user = get_user_model().objects.create_user("scoped", password="x")
    AreaScope.objects.create(user=user, settlement=estate[0].settlement)
    before = _file_of(AreaScope)

    assert delete_with_history(AreaScope, AreaScope._base_manager.all()) == 1
    assert not AreaScope.objects.exists() and not AreaScope.history.exists()
    assert _file_of(AreaScope) != before
    assert get_user_model().objects.filter(username="scoped").exists()

    AreaScope.objects.create(user=user, settlement=estate[0].settlement)
    with pytest.raises(IntegrityError), transaction.atomic():
        AreaScope.objects.create(user_id=user.pk + 1000, settlement=estate[0].settlement)
        delete_with_history(AreaScope, AreaScope._base_manager.all())
    assert AreaScope.objects.count() == 1
