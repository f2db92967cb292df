"""``manage.py shell`` starts without a list of models it could not import."""

from io import StringIO

from django.core.management import call_command


def run_shell(command, capsys):
    out = StringIO()
    call_command("shell", command=command, stdout=out)
    return out.getvalue(), capsys.readouterr().out


def test_the_shell_imports_the_models_and_reports_no_failures(capsys):
    said, printed = run_shell("print(Person.__name__, Household.__name__)", capsys)
    assert "objects imported automatically" in said
    assert "could not be automatically imported" not in said
    assert printed == "Person Household\n"


def test_the_change_history_stays_reachable_through_its_model(capsys):
    _said, printed = run_shell("print(Person.history.model.__name__)", capsys)
    assert printed == "HistoricalPerson\n"
