"""Benchmarks never harm data: each runs only on a database whose contents it may touch.

Two rules, called at the start of every benchmark that writes:

* ``require_own_data(prefix)``: the database holds no household other than the
  benchmark's own (numbers starting with ``prefix``) — ``imports.py``, which
  creates, matches and deletes households and people by ID number, and once
  moved 534 demo people into its test households on a demo database;
* ``require_demo_data()``: every household and person was created by
  ``load_demo`` and nobody has changed them since (their change history has no
  other reason) — the benchmarks that need the demo and write beside it
  (``read_audit.py``'s audit rows, ``dashboards.py``'s rolled-back import).

Otherwise they stop with a message saying how to make a database of their own.
``BENCH_ALLOW_OTHER_DATA=1`` lets ``require_demo_data`` through on a database you
know to be a demo copy that others have edited (e.g. by ``load.py``'s saves); it
never lets ``require_own_data`` through, whose benchmark deletes what it matches.
"""

import os
import sys

CREATE_DB = (
    "createdb -h 127.0.0.1 -U postgres relocation_bench && "
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench "
    ".venv/bin/python manage.py migrate"
)


class ForeignData(SystemExit):
    """Raised (exit status 2) instead of touching a database with others' data."""

    def __init__(self, message):
        super().__init__(2)
        self.message = message

    def __str__(self):
        return self.message


def _refuse(message):
    print(f"refusing to run: {message}", file=sys.stderr)
    raise ForeignData(message)


def require_own_data(prefix):
    from communities.models import Household, Person

    foreign = Household.objects.exclude(number__startswith=prefix).count()
    people = Person.objects.exclude(household__number__startswith=prefix).count()
    if foreign or people:
        _refuse(
            f"this database holds {foreign} households and {people} people the benchmark "
            f"did not create (its own have numbers starting with {prefix!r}). Run it on an "
            f"empty database of its own: {CREATE_DB}"
        )


def require_demo_data():
    from communities.demo.generate import DEMO_REASON
    from communities.models import Household, Person

    if os.environ.get("BENCH_ALLOW_OTHER_DATA") == "1":
        print("BENCH_ALLOW_OTHER_DATA=1: not checking that the demo is unchanged", file=sys.stderr)
        return
    for model in (Household, Person):
        history = model.history.model.objects.exclude(history_change_reason=DEMO_REASON)
        if history.exists():
            _refuse(
                f"this database holds {model._meta.verbose_name} records that load_demo did "
                "not create or that someone changed since; this benchmark writes beside the "
                f"demo, so it only runs on a demo database of its own: {CREATE_DB} && "
                ".venv/bin/python manage.py load_regions && "
                ".venv/bin/python manage.py load_demo (or set BENCH_ALLOW_OTHER_DATA=1 on a "
                "demo copy you may write to)"
            )


def require_own_records(records, reasons, what):
    """Before a benchmark deletes ``records`` (a queryset of a model with change history):
    each was created with one of ``reasons`` as its change reason (an import job's, say),
    and nobody changed it since — ``load.py``'s removal of its imported roster."""
    history = records.model.history.model.objects.filter(id__in=records.values("pk"))
    created = history.filter(history_type="+", history_change_reason__in=reasons)
    foreign = history.exclude(history_change_reason__in=reasons).exists()
    if foreign or created.values("id").distinct().count() != records.count():
        _refuse(
            f"{what}: {records.model._meta.verbose_name} records this benchmark did not create "
            "(or that someone changed since) are among those it would delete; nothing deleted"
        )
