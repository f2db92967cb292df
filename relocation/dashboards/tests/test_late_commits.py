"""The look-back window is counted again only while a late commit is possible.

A transaction that stamped history rows inside the look-back window before the last
refresh and committed after it is a late commit (``engine.changes_since``).  Only a
transaction already running when the refresh counted the window can be one: the
refresh notes them (``LiveState.open_transactions``, PostgreSQL), and while none of
them has committed, a page does not count the window again; after the demo or a large
import that count read every history row the window held, on every such page.
"""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from relocation.dashboards import engine
from relocation.dashboards.models import LiveState

pytestmark = pytest.mark.django_db

LOOKBACK = datetime.timedelta(minutes=15)


@pytest.fixture
def counted(monkeypatch):
    """The look-back windows counted from now on."""
    calls = []
    real = engine.window_counts

    def window_counts(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "window_counts", window_counts)
    return calls


def test_with_no_transaction_running_at_the_refresh_the_window_is_not_counted(dash, counted):
    engine.refresh_live(full=True)
    state = LiveState.objects.get()
    state.open_transactions = []
    counted.clear()
    assert engine.changes_since(state, LOOKBACK) == state.changes_seen_until
    assert counted == []


def test_a_transaction_that_committed_since_makes_the_window_counted(
    dash, counted, committed_transaction_id
):
    engine.refresh_live(full=True)
    state = LiveState.objects.get()
    state.open_transactions = [committed_transaction_id or "1"]
    counted.clear()
    assert engine.changes_since(state, LOOKBACK) == state.changes_seen_until  # nothing late
    assert len(counted) == 1
    # Figures stored before the refresh noted the transactions: counted, as before.
    state.open_transactions = None
    assert engine.may_have_committed_late(state)


def test_the_refresh_notes_what_it_can_know(dash):
    """Nothing else running: PostgreSQL notes no transaction; SQLite cannot know, and a
    page there always counts the window."""
    engine.refresh_live(full=True)
    state = LiveState.objects.get()
    if connection.vendor == "postgresql":
        assert state.open_transactions == []
        assert not engine.may_have_committed_late(state)
    else:
        assert state.open_transactions is None
        assert engine.may_have_committed_late(state)


def test_the_refresh_notes_the_transactions_running_and_a_page_follows_them(
    dash, counted, other_session
):
    """A second session holds a transaction that has written (it has an id) while the
    figures are refreshed: noted; not committed, the window is not counted again;
    committed, it is."""
    xid = other_session.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
    engine.refresh_live(full=True, now=timezone.now())
    state = LiveState.objects.get()
    assert xid in state.open_transactions
    own = connection.cursor().execute("SELECT pg_current_xact_id()::text").fetchone()[0]
    assert own not in state.open_transactions  # the refresh's own transaction
    assert not engine.may_have_committed_late(state)  # still running
    counted.clear()
    engine.changes_since(state, LOOKBACK)
    assert counted == []
    other_session.commit()
    assert engine.may_have_committed_late(state)
    engine.changes_since(state, LOOKBACK)
    assert len(counted) == 1


def test_a_transaction_rolled_back_commits_nothing_late(dash, other_session):
    xid = other_session.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
    other_session.rollback()
    assert not engine.may_have_committed_late(LiveState(open_transactions=[xid]))
