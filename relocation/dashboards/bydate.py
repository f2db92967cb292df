"""Counting several windows in one pass over the records (``Source.dates``).

A source writes its queries once, for a list of windows: each aggregate that
depends on the window is repeated per window under a suffixed name
(``per_date``, ``per_window``) and read back per window (``split``).  A stock
depends on the window's reference date (``day``): its figures are keyed by it.
A flow counts the records dated in ``start``..``reference_date``, and periods
ending on the same day differ by their start (``span``): its figures are keyed
by both, and its queries read the records of every window at once
(``add_flows``).  The plain ``compute`` is the same code for one window
(``one_date``), so one window and many give the same figures by construction.
"""

import functools
import operator

from django.db.models import BigIntegerField, Case, Q, Sum, Value, When
from django.db.models.functions import Cast

SUFFIX = "__d"

#: How many dates one mask holds: a bit each in a signed 64-bit integer, the sign left alone.
MASK_DATES = 62


def suffix(index):
    return f"{SUFFIX}{index}"


def day(window):
    """A stock's figures are keyed by the window's reference date."""
    return window.reference_date


def span(window):
    """A flow's figures are keyed by the window's start and reference date."""
    return (window.start, window.reference_date)


def per_window(windows, aggregates):
    """``{name + suffix(i): aggregate}`` for each window i; ``aggregates(window)`` -> {name: aggregate}."""
    return {
        f"{name}{suffix(i)}": aggregate
        for i, window in enumerate(windows)
        for name, aggregate in aggregates(window).items()
    }


def per_date(windows, aggregates):
    """``per_window`` with ``aggregates(day)``: a stock's aggregates on each reference date."""
    return per_window(windows, lambda window: aggregates(window.reference_date))


def per_date_only(windows, condition):
    """``condition`` (a day's, a window's) in a per-window filter when there are several
    windows; for one, nothing: the query's own condition says it (``where``,
    ``add_flows``), which the database plans better than a filter on each aggregate (the
    nightly refresh counts one date)."""
    return condition if len(windows) > 1 else Q()


def where(windows, condition, widest):
    """The query's condition: ``condition(day)`` for one date, else ``widest`` (every row
    any date may count)."""
    return condition(windows[0].reference_date) if len(windows) == 1 else widest


def split(row, windows, key=day):
    """``{key(window): {name: value}}`` from a row of ``per_date`` (``per_window``) columns;
    the row's other columns are shared by every window."""
    shared = {}
    dated = {key(window): {} for window in windows}
    for column, value in row.items():
        name, mark, index = column.rpartition(SUFFIX)
        if mark and index.isdigit():
            dated[key(windows[int(index)])][name] = value
        else:
            shared[column] = value
    for values in dated.values():
        values.update(shared)
    return dated


def add_rows(figures, rows, group, windows, sign=1, key=day):
    """Add the grouped ``rows`` (dicts: the ``group`` column, ``per_date`` columns and
    shared ones) into ``figures`` (``{key(window): {group value: {name: count}}}``),
    each count times ``sign``; a sum over no rows (None) adds nothing."""
    for row in rows:
        group_value = row.pop(group)
        for window_key, values in split(row, windows, key).items():
            target = figures[window_key].setdefault(group_value, {})
            for name, n in values.items():
                target[name] = target.get(name, 0) + sign * (n or 0)


def within(field, window):
    """The records whose ``field`` (a date) lies in the window: ``start``..``reference_date``."""
    return Q(**{f"{field}__gte": window.start, f"{field}__lte": window.reference_date})


def add_flows(figures, qs, group, field, windows, aggregates):
    """Count the records of ``qs`` dated (``field``) in each flow window, grouped by
    ``group``, into ``figures`` (``{span(window): {group value: {name: count}}}``), in
    one query for all the windows: it reads the records from the earliest start to the
    last reference date (a single window's own bounds) and counts each window's with a
    filter (``per_date_only``: none for a single window).

    ``aggregates(on)`` -> ``{name: aggregate}``, each aggregate filtered by ``on``.
    """
    bounds = {
        f"{field}__gte": min(window.start for window in windows),
        f"{field}__lte": max(window.reference_date for window in windows),
    }
    annotations = per_window(
        windows, lambda window: aggregates(per_date_only(windows, within(field, window)))
    )
    rows = qs.filter(**bounds).values(group).annotate(**annotations).order_by()
    add_rows(figures, rows, group, windows, key=span)


def one_date(dates):
    """``compute(settlements, window)`` of a source from its ``dates`` form."""

    @functools.wraps(dates)
    def compute(settlements, window):
        return dates(settlements, [window])(window)

    return compute


# --- dates as bits of masks ---------------------------------------------------------------
#
# Counting the distinct people who meet a condition on each of 14 dates with 14
# ``COUNT(DISTINCT …) FILTER`` per figure sorts every row once per figure and date.  With
# masks, each row says once on which dates it meets the day's conditions (bit i: date i),
# the rows of one person are OR-ed (``BIT_OR``: PostgreSQL's, and on SQLite the project's
# backend's, ``relocation.sqlite``), and each date's bit is summed per group
# (``employment_summaries``).  Not always faster: social protection's records, tried so,
# took 2.8 s for the demo's 14 dates at 30,000 households against 2.5 s with distinct
# counts, and kept them.


def bit(condition, value=1):
    """``value`` for a row that meets ``condition``, else 0 (a 64-bit integer)."""
    return Case(
        When(condition, then=Value(value)), default=Value(0), output_field=BigIntegerField()
    )


def mask(conditions):
    """A row's dates: bit i set when the row meets ``conditions[i]``."""
    return functools.reduce(operator.add, (bit(c, 1 << i) for i, c in enumerate(conditions)))


def bit_sums(masks, n, weight=None):
    """SQL: for each of ``masks`` (SQL expressions) and each date i < ``n``, the sum of the
    mask's bit i (how many rows have the date), mask by mask, as integers; ``weight``: each
    row counts that many times (an SQL expression)."""
    times = f" * {weight}" if weight else ""
    # As BIGINT: PostgreSQL's SUM of a BIGINT is a NUMERIC, which Python reads as a Decimal.
    return ", ".join(
        f"CAST(SUM((({m} >> {i}) & 1){times}) AS BIGINT)" for m in masks for i in range(n)
    )


# --- counts of several dates packed in integers --------------------------------------------
#
# Rows that count from their date on (a rights row from the day it was recorded) give each
# date's count with one sum instead of one filtered count per date: a row adds, for every
# date on or after its own, 1 in that date's bits (``bits`` wide, enough for the largest
# count a group can reach, so that no count carries into the next), several dates to a
# 63-bit integer.  The rights' 14 dates: 4 sums per household instead of 28 filtered counts.


class Packed:
    """The dates of ``windows`` packed ``bits`` to a count, for counts of at most ``most``."""

    def __init__(self, windows, most):
        self.days = sorted({window.reference_date for window in windows})
        self.bits = max(1, int(most).bit_length())
        per = max(1, 63 // self.bits)
        self.chunks = [self.days[i : i + per] for i in range(0, len(self.days), per)]
        self.mask = (1 << self.bits) - 1
        self.place = {
            day: (c, j * self.bits)
            for c, chunk in enumerate(self.chunks)
            for j, day in enumerate(chunk)
        }

    def columns(self, name):
        """The names of ``name``'s integers: one per chunk of dates."""
        return [f"{name}{suffix(c)}" for c in range(len(self.chunks))]

    def sums(self, name, condition, field):
        """``{column: aggregate}``: for the rows meeting ``condition``, each date on or after
        the row's ``field`` counted in its bits (as 64-bit integers)."""
        sums = {}
        for column, chunk in zip(self.columns(name), self.chunks, strict=True):
            whens = [
                When(
                    Q(**{f"{field}__lte": day}),
                    then=Value(sum(1 << (self.bits * i) for i in range(j, len(chunk)))),
                )
                for j, day in enumerate(chunk)
            ]
            # ``condition`` once per row, outside the dates' tests (not in each of them).
            dated = Case(*whens, default=Value(0), output_field=BigIntegerField())
            total = Sum(Case(When(condition, then=dated), default=Value(0)) if condition else dated)
            sums[column] = Cast(total, BigIntegerField())
        return sums

    def count(self, values, name, day):
        """``day``'s count of ``name`` from ``values`` (``{column: integer}``)."""
        c, shift = self.place[day]
        return (values[f"{name}{suffix(c)}"] >> shift) & self.mask

    def sql(self, column_of, name, day):
        """SQL of ``day``'s count of ``name``, ``column_of(column)`` giving a column's SQL."""
        c, shift = self.place[day]
        return f"(({column_of(f'{name}{suffix(c)}')} >> {shift}) & {self.mask})"
