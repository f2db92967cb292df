"""Which settlements changed since a time, read from the change history.

Every write path of the tracked models (single saves, deletes, ``bulk_create``,
``bulk_update``, ``update``, the demo's COPY) leaves a history row with its
time (``communities.history``), so the history tables tell which settlements'
figures need recomputing — including a household's previous settlement when
it moved.  Each step is a range scan of a ``history_date`` index or a lookup
of the ids found by the step before (usually a handful, after an import a
hundred thousand: evaluated in Python and sent back as one parameter on
PostgreSQL, ``rows.in_lists``, so that the planner never has to guess).

Several sources ask the same questions (every source that watches people starts
from ``person_settlements(changed(Person, since))``): inside ``shared_reads()``
(``engine.changed_settlements``) each is read once.  After a 100,000-row import
that is one walk of its 225,000 history rows instead of one per source.
"""

import contextlib
import contextvars

from relocation.rows import in_lists

_reads = contextvars.ContextVar("dashboard_change_reads", default=None)


@contextlib.contextmanager
def shared_reads():
    """Within the block, ``changed`` and ``related`` read each question once (the
    answers are copies: a caller may change its set)."""
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def _read_once(key, read):
    memo = _reads.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = frozenset(read())
    return set(memo[key])


def changed(model, since, field="id"):
    """Distinct ``field`` values of ``model``'s history rows written at or after ``since``."""

    def read():
        rows = model.history.model.objects.filter(history_date__gte=since).order_by()
        return set(rows.values_list(field, flat=True).distinct())

    return _read_once(("changed", model, since, field), read)


def related(model, field, values, lookup="id"):
    """Distinct ``field`` of ``model`` rows whose ``lookup`` is in ``values``."""
    values = frozenset(values)

    def read():
        found = set()
        for ids in in_lists(values):
            rows = model.objects.filter(**{f"{lookup}__in": ids}).order_by()
            found |= set(rows.values_list(field, flat=True).distinct())
        return found

    return _read_once(("related", model, field, lookup, values), read)


def household_settlements(household_ids):
    """Settlement ids any of these households is or was in."""
    from communities.models import Household

    found = related(Household.history.model, "settlement_id", household_ids)
    found.discard(None)
    return found


def person_settlements(person_ids):
    """Settlement ids of the households these people are or were in."""
    from communities.models import Person

    return household_settlements(related(Person.history.model, "household_id", person_ids))


def versions(model, since, fields):
    """``fields`` of every stored version (old and new) of the ``model`` rows changed since."""
    rows = set()
    history = model.history.model.objects
    for ids in in_lists(changed(model, since)):
        rows |= set(history.filter(id__in=ids).values_list(*fields).distinct().order_by())
    return rows


def _owners(model, ids, field):
    """{id: {``field`` values of any version}} of ``model``'s history."""
    found = {}
    for chunk in in_lists(ids):
        rows = model.history.model.objects.filter(id__in=chunk).values_list("id", field)
        for pk, value in rows.distinct().order_by():
            if value is not None:
                found.setdefault(pk, set()).add(value)
    return found


def household_settlement_map(household_ids):
    """{household id: settlement ids it is or was in}."""
    from communities.models import Household

    return _owners(Household, household_ids, "settlement_id")


def person_settlement_map(person_ids):
    """{person id: settlement ids of the households they are or were in}."""
    from communities.models import Person

    households = _owners(Person, person_ids, "household_id")
    settlements = household_settlement_map({h for hs in households.values() for h in hs})
    return {
        person: set().union(*(settlements.get(h, set()) for h in hs))
        for person, hs in households.items()
    }


def dated_by_owner(rows, owner_settlements, basis, earliest=False):
    """(settlement id, basis, value) for ``(owner id, value)`` rows.

    ``owner_settlements`` maps owners (people, households) to settlements;
    ``earliest`` keeps only each owner's smallest value (a stock changed from
    its earliest date on), otherwise every value is kept (flows, years).
    """
    values = {}
    for owner, value in rows:
        if value is None:
            continue
        if earliest:
            values[owner] = {min(values.get(owner, {value}) | {value})}
        else:
            values.setdefault(owner, set()).add(value)
    return [
        (settlement, basis, value)
        for owner, owned in values.items()
        for settlement in owner_settlements.get(owner, ())
        for value in owned
    ]
