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
