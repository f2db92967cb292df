"""benchmarks/load.py: what its virtual browser submits, and that it removes only its own import."""

import sys
from pathlib import Path

import pytest

from communities.models import Household, Person, Settlement
from relocation.spreadsheets.models import ImportJob

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import guard  # noqa: E402
import load  # noqa: E402

from communities.tests.conftest import world  # noqa: E402, F401  (the shared data set)


def test_the_form_is_submitted_as_a_browser_would():
    page = """
    <form id="household_form" action="" method="post">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input name="number" value="522301000001">
      <textarea name="notes">
第一行&amp;
第二行</textarea>
      <input type="checkbox" name="flag" checked><input type="checkbox" name="off">
      <input type="radio" name="kind" value="a"><input type="radio" name="kind" value="b" checked>
      <select name="category"><option value="1">甲</option><option value="2" selected>乙</option></select>
      <select name="first"><option value="x">x</option><option value="y">y</option></select>
      <select name="many" multiple><option value="1">1</option></select>
      <input name="gone" value="1" disabled>
      <input type="submit" name="_save" value="保存">
    </form>"""
    (form,) = load.forms_of(page)
    assert form["id"] == "household_form"
    assert form["fields"] == [
        ["csrfmiddlewaretoken", "tok"],
        ["number", "522301000001"],
        ["notes", "第一行&\n第二行"],  # the newline after <textarea> is not the value's
        ["flag", "on"],
        ["kind", "b"],
        ["category", "2"],
        ["first", "x"],  # nothing selected: a browser sends the first option
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/dashboard/520000/", "dashboard province"),
        ("/dashboard/522300/", "dashboard prefecture"),
        ("/dashboard/522301/", "dashboard county"),
        ("/dashboard/522301100/", "dashboard township"),
        ("/dashboard/settlement/7/", "dashboard settlement"),
    ],
)
def test_dashboards_are_named_by_level(path, name):
    assert load.dashboard_name(path) == name


def _others():
    return (
        sorted(
            Household.objects.exclude(number__startswith="LT").values_list(
                "pk", "number", "settlement_id", "notes"
            )
        ),
        sorted(
            Person.objects.exclude(household__number__startswith="LT").values_list(
                "pk", "household_id", "name"
            )
        ),
        sorted(Settlement.objects.exclude(code__startswith="LOADTEST").values_list("pk", "code")),
    )


def test_the_import_is_removed_and_nothing_else(world):  # noqa: F811
    from relocation.spreadsheets.kinds import get_kind
    from relocation.spreadsheets.tests.helpers import import_file

    code = "LOADTEST014"
    keys = [c.key for c in get_kind("settlement").columns]
    values = {"code": code, "name": "负载测试安置点", "county": "522301"}
    settlement_csv = load.csv_bytes("settlement", [[values.get(k, "") for k in keys]])
    job = import_file(world.admin, "settlement", settlement_csv, name=f"{code}.csv")
    assert job.state == "committed", job.errors
    roster = load.csv_bytes("roster", load.roster_rows(8, code))
    job = import_file(world.admin, "roster", roster, name=f"{code}-roster.csv")
    assert (job.state, job.new_rows, job.updated_rows) == ("committed", 8, 0), job.errors
    settlement = Settlement.objects.get(code=code)
    assert Person.objects.filter(household__settlement=settlement).count() == 8
    others = _others()

    # Someone moved a household of theirs into the load test's settlement: nothing is removed.
    moved = world.households["a"]
    moved.settlement = settlement
    moved.save()
    with pytest.raises(guard.ForeignData):
        load.remove_import(code)
    assert Household.objects.filter(settlement=settlement).count() == 3
    moved.settlement = world.a
    moved.save()
    # Someone edited an imported person: theirs now too.
    person = Person.objects.filter(household__settlement=settlement).first()
    person.name = "改过的"
    person.save()
    with pytest.raises(guard.ForeignData):
        load.remove_import(code)
    assert Person.objects.filter(household__settlement=settlement).count() == 8
    person.delete()

    before = _others()
    assert before == others  # the refusals changed nothing of others'
    assert load.remove_import(code) == {"households": 2, "people": 7}
    assert not Settlement.objects.filter(code=code).exists()
    assert not Household.objects.filter(number__startswith="LT").exists()
    assert not ImportJob.objects.filter(file_name__startswith=code).exists()
    assert _others() == before
    assert load.remove_import(code) == "nothing"
