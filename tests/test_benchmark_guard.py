"""Benchmarks never harm data: on a database holding others' records they stop before writing."""

import sys
from pathlib import Path

import pytest

from communities.models import Household, Person, Settlement

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import guard  # noqa: E402

from communities.tests.conftest import world  # noqa: E402, F401  (the shared data set)


def _snapshot():
    return (
        sorted(Household.objects.values_list("pk", "number", "settlement_id")),
        sorted(Person.objects.values_list("pk", "household_id", "id_number_hash")),
        Settlement.objects.count(),
    )


def test_the_import_benchmark_refuses_a_database_with_real_households(
    world,  # noqa: F811
    monkeypatch,
    capsys,
):
    import imports

    before = _snapshot()
    monkeypatch.setattr(sys, "argv", ["imports.py"])
    with pytest.raises(guard.ForeignData) as refused:
        imports.main()
    assert refused.value.code == 2
    assert "did not create" in refused.value.message and "createdb" in refused.value.message
    assert "refusing to run" in capsys.readouterr().err
    assert _snapshot() == before  # not a settlement, household or person touched
    # Each scenario's own process refuses as well.
    monkeypatch.setattr(sys, "argv", ["imports.py", "cleanup"])
    with pytest.raises(guard.ForeignData):
        imports.main()
    assert _snapshot() == before


def test_its_own_rows_are_no_obstacle(db):
    Household.objects.create(number="BM000001", relocation_year=2018)
    guard.require_own_data("BM")  # no exception


def test_benchmarks_beside_the_demo_refuse_real_or_edited_records(world):  # noqa: F811
    from communities.demo.generate import DEMO_REASON

    with pytest.raises(guard.ForeignData, match="load_demo did not create"):
        guard.require_demo_data()
    for model in (Household, Person):
        model.history.model.objects.update(history_change_reason=DEMO_REASON)
    guard.require_demo_data()  # all of it the demo's: allowed
    household = world.households["a"]
    household.phone = "13812345678"
    household.save()  # someone edited a demo household: no longer the demo's alone
    with pytest.raises(guard.ForeignData):
        guard.require_demo_data()


def test_the_override_is_for_demo_copies_only(world, monkeypatch):  # noqa: F811
    monkeypatch.setenv("BENCH_ALLOW_OTHER_DATA", "1")
    guard.require_demo_data()  # edited demo copy: allowed on purpose
    with pytest.raises(guard.ForeignData):
        guard.require_own_data("BM")  # a benchmark that deletes what it matches: never
    monkeypatch.setenv("BENCH_ALLOW_OTHER_DATA", "yes")
    with pytest.raises(guard.ForeignData):
        guard.require_demo_data()
