"""Counting several reference dates in one pass over the records (``Source.dates``).

A stock source writes its queries once, for a list of windows: each aggregate
that depends on the day is repeated per date under a suffixed name
(``per_date``) and read back per date (``split``).  Its plain ``compute`` is
the same code for one window (``one_date``), so one date and many give the
same figures by construction.
"""

import functools

from django.db.models import Q

SUFFIX = "__d"


def suffix(index):
    return f"{SUFFIX}{index}"


def per_date(windows, aggregates):
    """``{name + suffix(i): aggregate}`` for each window i; ``aggregates(day)`` -> {name: aggregate}."""
    return {
        f"{name}{suffix(i)}": aggregate
        for i, window in enumerate(windows)
        for name, aggregate in aggregates(window.reference_date).items()
    }


def per_date_only(windows, condition):
    """``condition`` (a day's) in a per-date filter when there are several dates; for one,
    nothing: the query's own condition says it (``where``), which the database plans
    better than a filter on each aggregate (the nightly refresh counts one date)."""
    return condition if len(windows) > 1 else Q()


def where(windows, condition, widest):
    """The query's condition: ``condition(day)`` for one date, else ``widest`` (every row
    any date may count)."""
    return condition(windows[0].reference_date) if len(windows) == 1 else widest


def split(row, windows):
    """``{reference date: {name: value}}`` from a row of ``per_date`` columns; the row's
    other columns are shared by every date."""
    shared = {}
    dated = {window.reference_date: {} for window in windows}
    for column, value in row.items():
        name, mark, index = column.rpartition(SUFFIX)
        if mark and index.isdigit():
            dated[windows[int(index)].reference_date][name] = value
        else:
            shared[column] = value
    for values in dated.values():
        values.update(shared)
    return dated


def add_rows(figures, rows, group, windows, sign=1):
    """Add the grouped ``rows`` (dicts: the ``group`` column, ``per_date`` columns and
    shared ones) into ``figures`` (``{reference date: {group value: {name: count}}}``),
    each count times ``sign``."""
    for row in rows:
        key = row.pop(group)
        for day, values in split(row, windows).items():
            target = figures[day].setdefault(key, {})
            for name, n in values.items():
                target[name] = target.get(name, 0) + sign * n


def one_date(dates):
    """``compute(settlements, window)`` of a source from its ``dates`` form."""

    @functools.wraps(dates)
    def compute(settlements, window):
        return dates(settlements, [window])(window)

    return compute
