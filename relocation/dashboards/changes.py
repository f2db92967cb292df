"""Which settlements changed since a time, read from the change history.

Every write path of the tracked models (single saves, deletes, ``bulk_create``,
``bulk_update``, ``update``, the demo's COPY) leaves a history row with its
time (``communities.history``), so the history tables tell which settlements'
figures need recomputing — including a household's previous settlement when
it moved.  Each step is a range scan of a ``history_date`` index or a lookup
of the ids found by the step before (usually a handful; evaluated into
literal lists, in chunks, so that the planner never has to guess).
"""

CHUNK = 5000


def _chunks(values):
    values = sorted(v for v in set(values) if v is not None)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def changed(model, since, field="id"):
    """Distinct ``field`` values of ``model``'s history rows written at or after ``since``."""
    rows = model.history.model.objects.filter(history_date__gte=since).order_by()
    return set(rows.values_list(field, flat=True).distinct())


def related(model, field, values, lookup="id"):
    """Distinct ``field`` of ``model`` rows whose ``lookup`` is in ``values``."""
    found = set()
    for chunk in _chunks(values):
        rows = model.objects.filter(**{f"{lookup}__in": chunk}).order_by()
        found |= set(rows.values_list(field, flat=True).distinct())
    return found


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
    for chunk in _chunks(changed(model, since)):
        rows |= set(history.filter(id__in=chunk).values_list(*fields).distinct().order_by())
    return rows


def _owners(model, ids, field):
    """{id: {``field`` values of any version}} of ``model``'s history."""
    found = {}
    for chunk in _chunks(ids):
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
