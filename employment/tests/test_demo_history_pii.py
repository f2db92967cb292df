"""The demo's COPY writers (communities and employment) keep no clear ID number or phone in history."""

import io

from communities.models import Person
from communities.tests.test_history_pii import clear_copies, live_values


def test_demo_build_with_copy_or_orm(db):
    from communities.demo import build_demo
    from employment.demo import build_employment_demo

    build_demo(seed=3, households=30)
    build_employment_demo(seed=3, stdout=io.StringIO())
    values = live_values()
    assert len(values) > 50
    assert clear_copies(values) == []
    assert Person.history.count() == Person.objects.count()
