"""The demo's COPY writer on a model whose history leaves out columns (PostgreSQL)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from communities.demo.generate import PendingRows
from communities.tests.factories import PersonFactory
from communities.tests.test_demo_copy import NOW
from employment.models import EmploymentRecord


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("the demo writes with COPY only on PostgreSQL (bulk_create elsewhere)")


def test_a_history_without_some_columns_is_formatted_where_the_rows_are_made():
    history = EmploymentRecord.history.model
    assert not {f.attname for f in history._meta.concrete_fields} >= {"created_at"}
    person = PersonFactory()

    def records(task):
        return {
            EmploymentRecord: [
                {
                    "id": n,
                    "person_id": person.pk,
                    "kind": "wage",
                    "employer_name": f"{task}\t厂{n}",
                    "place": "county",
                    "monthly_income": Decimal("3500.50"),
                    "start_date": datetime.date(2025, n, 1),
                    "end_date": None if n == 1 else datetime.date(2026, n, 28),
                }
                for n in (1, 2)
            ]
        }

    kept = PendingRows(NOW, (EmploymentRecord,), keep_rows=(EmploymentRecord,))
    kept.take(records("dicts"))
    kept.flush()
    pending = PendingRows(NOW, (EmploymentRecord,))
    layout = pending.layouts[EmploymentRecord]
    assert layout.mirror is None and layout.history_rest is not None
    pending.take(pending.packing(records)("packed"))
    pending.flush()

    def stored(name):
        live = EmploymentRecord.objects.filter(employer_name__startswith=name).order_by("pk")
        rows = [
            (r.employer_name[len(name) :], r.start_date, r.end_date, r.monthly_income, r.created_at)
            for r in live
        ]
        past = [
            (h.id, h.employer_name[len(name) :], h.end_date, h.history_type, h.history_date)
            for h in history.objects.filter(employer_name__startswith=name).order_by("id")
        ]
        return rows, [(pk - live[0].pk, *rest) for pk, *rest in past]

    assert stored("packed") == stored("dicts")
    rows, past = stored("packed")
    assert rows[0] == ("\t厂1", datetime.date(2025, 1, 1), None, Decimal("3500.50"), NOW)
    assert [p[0] for p in past] == [0, 1] and {p[3:] for p in past} == {("+", NOW)}
