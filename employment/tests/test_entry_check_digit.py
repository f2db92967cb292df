"""The employment import matches people by ID number: a mistyped one is never completed."""

import pytest

from communities.tests.test_entry_check_digit import wrong
from employment.models import EmploymentRecord
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file

pytestmark = pytest.mark.django_db


def test_employment_import_matches_by_number_without_a_hint(world):
    """The employment file does not register people: an unknown (mistyped) number is named
    as not registered, and nothing tells which digit would find someone."""
    kind = get_kind("employment")
    head = world.heads["a"]
    bad, passing = wrong(head.id_number)
    row = {str(c.header): c.example for c in kind.columns if not c.export_only}
    row[str(kind.column("id_number").header)] = bad
    row[str(kind.column("name").header)] = head.name
    headers = list(row)
    job = import_file(world.admin, "employment", csv_bytes(headers, [row]), "jobs.csv")
    assert job.state == "invalid"
    found = [e[2] for e in job.errors if e[1] == "身份证号"]
    assert found
    for message in found:
        assert passing not in message.replace("身份证", "")
        assert head.id_number not in message
    assert not EmploymentRecord.objects.filter(person=head).exists()
