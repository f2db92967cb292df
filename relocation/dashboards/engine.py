"""The indicator engine: compute, store and read figures by area.

Writing (``store_period``, ``refresh_live``) runs each registered source once
for a set of settlements — a handful of grouped queries whatever their
number — and stores one row per settlement and non-zero component.

Reading (``area_sums``) sums those rows for one period in one grouped query,
by child area (the code prefix of the settlement's county gives prefecture and
province); indicator values are then derived from the sums in Python, so that
every level recomputes its rates from summed numerators and denominators.
"""

import datetime
import functools
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.conf import settings as django_settings
from django.db import DatabaseError, connection, connections, router, transaction
from django.db.models import Case, CharField, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Concat, Substr
from django.utils import timezone

from communities.models import Settlement
from relocation.rows import rows_into

from . import bydate
from .changes import shared_reads
from .models import AreaFigure, LiveState, Period, SettlementFigure, StaleFigure
from .periods import PeriodKind, income_year, period_containing
from .registry import Window, registry

log = logging.getLogger(__name__)

DEFAULTS = {
    # Seconds the running period's figures may lag behind the data.
    "DASHBOARD_MAX_AGE": 60,
    # A transaction committing up to this many seconds after it stamped its
    # history rows is still seen by the next refresh (later ones: by the
    # nightly full refresh).
    "DASHBOARD_CHANGE_LOOKBACK": 900,
    # More changed settlements than this are refreshed by the job worker
    # rather than during a page view.
    "DASHBOARD_INLINE_LIMIT": 60,
    # Connections a full refresh and a snapshot of several periods compute on at once
    # (PostgreSQL, outside a transaction): the demo's past periods on a 50,000-household
    # demo took 39.7 s on one, 29.7 s on two.
    "DASHBOARD_WORKERS": 2,
    # PostgreSQL's work_mem on those connections ("" keeps the server's): the sources'
    # grouped counts over the whole country sort and hash millions of rows, which the
    # server's default 4 MB sends to disk (social protection 93 -> 74 s, rights items
    # 69 -> 38 s at 9.8 million people).
    "DASHBOARD_WORK_MEM": "256MB",
}


def setting(name):
    return getattr(django_settings, name, DEFAULTS[name])


def window_for(spec, reference_date):
    return Window(
        start=spec.start, reference_date=reference_date, income_year=income_year(reference_date)
    )


def compute(settlements, window, cache=None):
    """{settlement_id: {component: value}} for a Settlement QuerySet.

    ``cache`` (a dict) lets several periods with the same reference date share
    the results of sources that do not depend on the period's start.
    """
    figures = defaultdict(dict)
    for source in registry.sources.values():
        cache_key = source_key(source, window)
        if cache is not None and cache_key in cache:
            result = cache[cache_key]
        else:
            result = source.compute(settlements, window)
            if cache is not None:
                cache[cache_key] = result
        for settlement_id, values in result.items():
            figures[settlement_id].update(values)
    return figures


def source_key(source, window):
    """The ``compute`` cache's key of ``source``'s figures for ``window``: a stock
    depends on the reference date and income year, a flow on its start too."""
    key = (source.key, window.reference_date, window.income_year)
    return (*key, window.start) if source.flow else key


def compute_ahead(windows, cache, *, workers):
    """Fill the ``compute`` cache ``cache`` with every source's figures of every
    settlement for each of ``windows`` (what is not in it yet), ``workers``
    sources at once, each on its own connection: the sources' grouped queries run
    in the database, so two connections use both cores of a 2-core machine.  A
    source that counts several windows in one pass (``Source.dates``) does so for
    all the windows it has to count (the running year, quarter and month's flows).

    The other connections see only committed rows: with ``workers`` > 1, call it
    outside a transaction holding the data (not in a test's), on PostgreSQL
    (``parallel``); with 1, everything runs here.
    """
    missing = {}
    for window in windows:
        for source in by_cost(registry.sources.values()):
            missing.setdefault(source_key(source, window), (source, window))
    for key in cache:
        missing.pop(key, None)
    jobs = defaultdict(list)  # {source key: [(cache key, window)]}
    for key, (source, window) in missing.items():
        jobs[source.key].append((key, window))

    def run(job):
        source = registry.sources[job[0]]
        windows = [window for _key, window in job[1]]
        if source.dates is None:
            return [source.compute(Settlement.objects.all(), window) for window in windows]
        figures_for = source.dates(Settlement.objects.all(), windows)
        return [figures_for(window) for window in windows]

    if workers < 2:
        results = map(run, jobs.items())
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="refresh") as pool:
            results = list(pool.map(on_own_connection(run), jobs.items()))
    for items, figures in zip(jobs.values(), results, strict=True):
        cache.update(zip((key for key, _window in items), figures, strict=True))


def by_cost(sources):
    """``sources``, the costliest first (``Source.cost``), else in their order: run side by
    side, the long ones start first and the short ones fill in (the demo's 19 windows at
    500,000 households left one connection idle 8 s with 11 s of ``governance_org``
    started last)."""
    return sorted(sources, key=lambda source: -source.cost)


def on_own_connection(function):
    """``function`` for a pool's thread: on the thread's own connection, with
    ``DASHBOARD_WORK_MEM``, closed after each call."""

    def run(item):
        try:
            set_work_mem()
            return function(item)
        finally:
            connection.close()

    return run


def set_work_mem(local=False):
    """Give this thread's connection ``DASHBOARD_WORK_MEM`` (PostgreSQL); ``local``: for
    the transaction only."""
    work_mem = setting("DASHBOARD_WORK_MEM")
    if work_mem and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, %s)", [work_mem, local])


def parallel(workers):
    """Whether ``workers`` connections may compute at once here: PostgreSQL (SQLite has one
    writer at a time), outside a transaction (the others would not see its rows)."""
    return workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


def date_batches(windows, settlements=None, run=map):
    """{source key: figures_for(window)} of the sources that count several windows in one
    pass (``Source.dates``), for ``windows``: a stock source when they hold two or more
    reference dates, a flow source when two or more spans (start and reference date).

    ``run`` maps a function over the sources (a thread pool's ``map``: each source
    on its own connection).
    """
    stocks = list({(w.reference_date, w.income_year): w for w in windows}.values())
    flows = list({bydate.span(w): w for w in windows}.values())
    jobs = [
        (source, flows if source.flow else stocks)
        for source in by_cost(registry.sources.values())
        if source.dates is not None and len(flows if source.flow else stocks) > 1
    ]
    if not jobs:
        return {}
    if settlements is None:
        settlements = Settlement.objects.all()
    results = run(lambda job: job[0].dates(settlements, job[1]), jobs)
    return {
        source.key: figures_for for (source, _w), figures_for in zip(jobs, results, strict=True)
    }


def cache_for(batches, windows):
    """A ``compute`` cache holding the figures of ``windows`` (each counted in the batch)
    from ``date_batches``."""
    return {
        source_key(registry.sources[key], window): figures_for(window)
        for key, figures_for in batches.items()
        for window in windows
    }


def running_periods(today):
    """The running year, quarter and month on ``today``."""
    return [period_containing(kind, today) for kind in PeriodKind.values]


def running_windows(today):
    """The running periods' windows on ``today``."""
    return [window_for(spec, today) for spec in running_periods(today)]


def store_periods(pairs, *, workers=None, thread_name_prefix="periods", stored=None, also=()):
    """Store every ``(spec, reference_date)`` of ``pairs`` for all settlements.

    The sources that count several windows at once (``date_batches``) scan their
    records once for all the periods; the periods sharing a reference date share
    one cache.  With ``workers`` > 1 (None: ``DASHBOARD_WORKERS``), on PostgreSQL and
    outside a transaction,
    the work runs on that many connections at once (the sources' grouped queries
    run in the database: two connections use both cores of a 2-core machine).
    Inside a transaction (a test's, a caller's) the other connections would not
    see its rows: then, and on SQLite (one writer at a time), one connection.
    ``stored(spec, reference_date)`` is called after each period.

    ``also``: more windows counted in the same pass but not stored; returns
    ``{reference date: compute cache}`` for them (the demo then refreshes the
    running periods with today's: ``refresh_live(cache=…)``).
    """
    by_date = defaultdict(list)
    for spec, reference_date in pairs:
        by_date[reference_date].append(spec)
    groups = sorted(by_date.items(), key=lambda item: len(item[1]), reverse=True)

    def store(group):
        reference_date, specs = group
        cache = cache_for(batches, [window_for(spec, reference_date) for spec in specs])
        for spec in specs:
            store_period(spec, reference_date, cache=cache)
            if stored is not None:
                stored(spec, reference_date)

    windows = [window_for(spec, day) for day, specs in groups for spec in specs] + list(also)
    workers = setting("DASHBOARD_WORKERS") if workers is None else workers
    if not parallel(workers):
        batches = date_batches(windows)
        for group in groups:
            store(group)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix=thread_name_prefix) as pool:
            batches = date_batches(
                windows, run=lambda f, items: list(pool.map(on_own_connection(f), items))
            )
            list(pool.map(on_own_connection(store), groups))
    extra = defaultdict(list)
    for window in also:
        extra[window.reference_date].append(window)
    return {day: cache_for(batches, windows) for day, windows in extra.items()}


def store_period(spec, reference_date, settlement_ids=None, *, now=None, cache=None):
    """Compute and store ``spec``'s figures for all (or some) settlements."""
    now = now or timezone.now()
    window = window_for(spec, reference_date)
    settlements = Settlement.objects.all()
    if settlement_ids is not None:
        settlement_ids = sorted(settlement_ids)
        settlements = settlements.filter(pk__in=settlement_ids)
    # Corrections noticed so far are in figures recomputed for every settlement.
    marks = (
        read_marks(period__kind=spec.kind, period__start=spec.start)
        if settlement_ids is None
        else []
    )
    figures = compute(settlements, window, cache)
    places = settlement_places(settlements)
    with transaction.atomic():
        period, _created = Period.objects.update_or_create(
            kind=spec.kind,
            start=spec.start,
            defaults={"end": spec.end, "reference_date": reference_date, "computed_at": now},
        )
        old = SettlementFigure.objects.filter(period=period)
        touched = None
        if settlement_ids is not None:
            old = old.filter(settlement_id__in=settlement_ids)
            if len(places) == len(settlement_ids):
                # The areas these settlements were and are in; a settlement
                # that is gone sends the roll-up over everything.
                touched = set(old.values_list("county_code", "township_code").distinct())
                touched |= set(places.values())
        old.delete()
        clear_marks(marks)
        write_figures(period, figures, places)
        rollup(period, touched)
    return period


def settlement_places(settlements):
    """{settlement id: (county code, township code or "")} (one query)."""
    return {
        pk: (county, township or "")
        for pk, county, township in settlements.values_list("pk", "county_id", "township_id")
    }


def read_marks(**filters):
    """[(pk, marked_at)] of the stale marks matching ``filters``."""
    return list(StaleFigure.objects.filter(**filters).values_list("pk", "marked_at"))


def clear_marks(marks):
    """Delete the marks read by ``read_marks`` unless marked again since (newer time)."""
    by_time = defaultdict(list)
    for pk, marked_at in marks:
        by_time[marked_at].append(pk)
    for marked_at, pks in by_time.items():
        StaleFigure.objects.filter(pk__in=pks, marked_at=marked_at).delete()


def write_figures(period, figures, places):
    """Store ``{settlement_id: {component: value}}`` of ``period`` (non-zero values).

    Streamed (``relocation.rows``: ``COPY`` on PostgreSQL): the whole country's
    refresh writes millions of rows per period, and building a model instance
    for each took most of its time.
    """
    meta = SettlementFigure._meta
    fields = [
        meta.get_field(name)
        for name in ("period", "settlement", "county_code", "township_code", "key", "value")
    ]
    with connection.cursor() as cursor, rows_into(cursor, meta.db_table, fields) as write:
        for sid, values in figures.items():
            if sid not in places:
                continue
            county, township = places[sid]
            for key, value in values.items():
                if value:
                    write((period.pk, sid, county, township, key, Decimal(value)))


ROLLUP_LEVELS = ("province", "prefecture", "county", "township")


def rollup(period, touched=None):
    """Rebuild the region sums of ``period`` from its settlement rows.

    ``touched``: None for every area, or the (county code, township code) pairs
    whose settlements changed: only those areas and the prefectures and
    provinces above them are summed again (a refresh of a few settlements must
    not sum the whole country's rows).  Counties and townships are summed from
    the settlement rows, prefectures from the counties, provinces from the
    prefectures, each in one ``INSERT … SELECT``: the sums never pass through
    Python, and a sum of sums is the same sum.
    """
    counties = townships = prefectures = provinces = None
    if touched is None:
        AreaFigure.objects.filter(period=period).delete()
    else:
        counties = sorted({county for county, _township in touched})
        townships = sorted({township for _county, township in touched if township})
        prefectures = sorted({county[:4] for county in counties})
        provinces = sorted({county[:2] for county in counties})
    figures = SettlementFigure.objects.filter(period=period)
    areas = AreaFigure.objects.filter(period=period)
    _sum_into(period, "county", figures, "county_code", F("county_code"), counties)
    in_townships = figures.exclude(township_code="")
    if townships:
        # No index leads with the township: the rows of these townships are found
        # under their counties (the index on period and county; the whole country's
        # period was read otherwise, 2–3 s each).  Those the touched settlements
        # were and are in, and those of every settlement now in the townships.
        held = Settlement.objects.filter(township_id__in=townships).values_list("county_id")
        in_townships = in_townships.filter(
            county_code__in=sorted({*counties, *(county for (county,) in held)})
        )
    _sum_into(period, "township", in_townships, "township_code", F("township_code"), townships)
    for level, below, codes in (
        ("prefecture", "county", prefectures),
        ("province", "prefecture", provinces),
    ):
        digits = 4 if level == "prefecture" else 2
        group = region_code("area_code", digits)
        _sum_into(
            period, level, areas.filter(level=below), "area_code", group, codes, "0" * (6 - digits)
        )


def _sum_into(period, level, rows, code_field, group, codes, suffix=""):
    """Replace the ``level`` sums of ``period`` (those of ``codes`` only, unless None).

    ``rows`` (settlement or area rows) are grouped by ``group`` and summed per
    component; ``codes`` are the areas' codes, or their prefixes for the levels
    summed from the level below (``suffix`` completes them).
    """
    if codes is not None:
        if not codes:
            return
        if suffix:
            under = Q(pk__in=[])
            for prefix in codes:
                under |= code_prefix_q(prefix, code_field)
            rows = rows.filter(under)
            codes = [prefix + suffix for prefix in codes]
        else:
            rows = rows.filter(**{f"{code_field}__in": codes})
        AreaFigure.objects.filter(period=period, level=level, area_code__in=codes).delete()
    grouped = (
        rows.annotate(_group=group).values("_group", "key").annotate(total=Sum("value")).order_by()
    )
    select, params = grouped.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(AreaFigure._meta.get_field(name).column)
        for name in ("period", "level", "area_code", "key", "value")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AreaFigure._meta.db_table)} ({columns}) "
            f"SELECT %s, %s, g.{quote('_group')}, g.{quote('key')}, g.{quote('total')} "
            f"FROM ({select}) g",
            [period.pk, level, *params],
        )


#: The ``history_date`` lookups a window of ``history_counts`` is written with.
_WINDOW_BOUNDS = {
    "history_date__gt": ">",
    "history_date__gte": ">=",
    "history_date__lt": "<",
    "history_date__lte": "<=",
}


def _window_bounds(q):
    """``[(operator, time)]`` of a window written as ``Q(history_date__gte=…, …__lt=…)``."""
    if q.connector != Q.AND or q.negated or not q.children:
        raise ValueError(f"a window is history_date bounds joined by AND, not {q!r}")
    bounds = []
    for child in q.children:
        if not isinstance(child, tuple) or child[0] not in _WINDOW_BOUNDS:
            raise ValueError(f"a window is history_date bounds joined by AND, not {q!r}")
        bounds.append((_WINDOW_BOUNDS[child[0]], child[1]))
    return bounds


@functools.cache
def _history_model(model):
    # ``model.history`` builds a manager on every access (0.8 ms each).
    return model.history.model


@functools.lru_cache(maxsize=64)
def _history_counts_sql(alias, tables, shape):
    """The ``UNION ALL`` of ``history_counts`` on database ``alias`` for ``tables`` and
    windows of ``shape`` (``((name, (operator, …)), …)``): written once per process,
    the times are parameters."""
    quote = connections[alias].ops.quote_name
    aggregate_filter = connections[alias].features.supports_aggregate_filter_clause
    column = quote("history_date")

    def condition(operators):
        return " AND ".join(f"{column} {op} %s" for op in operators)

    counts = ", ".join(
        (
            f"COUNT({column}) FILTER (WHERE {condition(ops)}) AS {quote(name)}"
            if aggregate_filter
            else f"COUNT(CASE WHEN {condition(ops)} THEN 1 END) AS {quote(name)}"
        )
        for name, ops in shape
    )
    scope = " OR ".join(f"({condition(ops)})" for _name, ops in shape)
    return " UNION ALL ".join(
        f"SELECT %s AS {quote('model_label')}, {counts} FROM {quote(table)} WHERE {scope}"
        for table in tables
    )


def history_counts(windows):
    """``{name: {model label: rows}}``: each watched model's history rows in each of
    ``windows`` (``{name: Q of history_date bounds}``), counted in one query: a
    ``UNION ALL`` of one aggregate per model (34 models: one round trip, not 34, on
    every page that corrects the stored figures).  ``history_date`` is what is
    counted: it is never null and it is the index's own column, so PostgreSQL counts
    from the index alone (``COUNT(history_id)`` read the table too: 240 against
    110 ms for the 1.1 million rows a demo leaves in the window).  Its SQL is written
    once per process (``_history_counts_sql``): built from 34 QuerySets on every
    call, it cost 66 ms of CPU, twice on such a page."""
    watched = sorted(registry.watched_models.items())
    counts = {name: {} for name in windows}
    if not watched:
        return counts
    bounds = {name: _window_bounds(q) for name, q in windows.items()}
    shape = tuple((name, tuple(op for op, _time in b)) for name, b in bounds.items())
    history = [_history_model(model) for _label, model in watched]
    # Where the ORM would read them (a dashboard page's or an export's reads: the replica).
    alias = router.db_for_read(history[0])
    sql = _history_counts_sql(alias, tuple(h._meta.db_table for h in history), shape)
    adapt = connections[alias].ops.adapt_datetimefield_value
    times = [adapt(time) for b in bounds.values() for _op, time in b]
    params = []
    for label, _model in watched:
        params += [label, *times, *times]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        for label, *values in cursor.fetchall():
            for name, value in zip(windows, values, strict=True):
                counts[name][label] = value
    return counts


def changed_settlements(since, counts=None):
    """Ids of the settlements whose figures may have changed since ``since``.

    One count tells which watched models have history rows since then (``counts``:
    that count, when the caller has made it); a source is asked (``source.changes``)
    only when one of the models it watches has: every history table a source's
    ``changes`` reads is one it watches (a test holds every source to that), so the
    others' answer is known to be empty.  The sources share their reads
    (``changes.shared_reads``).
    """
    if counts is None:
        counts = history_counts({"since": Q(history_date__gte=since)})["since"]
    ids = set()
    with shared_reads():
        for source in registry.sources.values():
            if source.changes is None:
                continue
            if source.watch and not any(counts.get(model._meta.label) for model in source.watch):
                continue
            ids |= set(source.changes(since))
    ids.discard(None)
    return ids


def window_counts(lookback, now, seen=None):
    """History rows per watched model in the look-back windows (one query: ``history_counts``).

    Returns ``(before, current)``: the counts in (``seen`` − lookback, ``seen``]
    (to compare with what was counted then; ``None`` without ``seen``) and in
    (``now`` − lookback, ``now``] (to store for the next refresh).
    """
    windows = {"current": Q(history_date__gt=now - lookback, history_date__lte=now)}
    if seen is not None:
        windows["before"] = Q(history_date__gt=seen - lookback, history_date__lte=seen)
    counts = history_counts(windows)
    return counts.get("before"), counts["current"]


def late_commits(state, before):
    """Whether a transaction stamped history rows in the look-back window before the last
    refresh but committed after it: ``before``, the window's counts now, grew from what
    the refresh counted (``state.window_counts``)."""
    return before != state.window_counts


def changes_since(state, lookback):
    """From when the changes not yet in the stored figures are read: the last refresh, or
    the look-back window before it when a late commit landed there (``late_commits``).

    One count of the watched models' history in the window; reading the window's changes
    instead costs, after a large import or the demo, walking every row it wrote.  Not even
    that while no transaction that was running when the refresh counted the window has
    committed since (``may_have_committed_late``): the count of a window holding the
    2-million-people demo's 24 million history rows took 3.5 s on every page that
    corrects the stored figures, until a refresh 15 minutes after the build moved it on.
    """
    seen = state.changes_seen_until
    if not lookback or not may_have_committed_late(state):
        return seen
    _none, counted_now = window_counts(lookback, seen)  # the window ending at ``seen``
    return seen - lookback if late_commits(state, counted_now) else seen


def running_transactions():
    """The ids (``xid8``, as text) of the other transactions of this database's clients
    that have written and not yet ended; None when that cannot be known: another
    database, or a client of another role whose transaction this role may not see
    (autovacuum writes no history row).

    Taken after a refresh's ``now`` and before it counts the look-back window: a row
    stamped at or before ``now`` was written by a transaction that had its id by then
    (PostgreSQL gives one at a transaction's first write, before Django stamps the
    history row), so it had committed before the count, which sees it, or it is one of
    these.  (It assumes the application servers' clocks agree: a row stamped by a clock
    running behind, by a transaction begun after this, would not be looked for again
    before the next refresh, which counts its own window.)  From ``pg_stat_activity``:
    a snapshot's list of running transactions leaves out those with ids past its upper
    bound, which may have begun before it.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # Each id in full (xid8) from its 32 bits, beside this transaction's own: the
        # running ones lie within 2^31 of it, either way.
        cursor.execute(
            """
            WITH own AS (SELECT pg_current_xact_id()::text::bigint AS id)
            SELECT bool_or(a.query = '<insufficient privilege>'),
                   coalesce(array_agg(
                       (own.id + ((a.backend_xid::text::bigint - own.id % 4294967296
                                   + 6442450944) % 4294967296) - 2147483648)::text
                       ORDER BY a.pid) FILTER (WHERE a.backend_xid IS NOT NULL), '{}')
            FROM pg_stat_activity a, own
            WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
              AND a.backend_type = 'client backend'
            """
        )
        hidden, ids = cursor.fetchone()
    return None if hidden else ids


def may_have_committed_late(state):
    """Whether a transaction running when the last refresh counted its look-back window
    (``state.open_transactions``) may have committed since: False when none was running,
    or each one still is or was rolled back; True when one committed, when nothing is
    known of them (another database, figures stored before this was recorded) or when
    the database cannot tell (an id too old, a standby that has not replayed it)."""
    ids = state.open_transactions
    if ids is None:
        return True
    if not ids:
        return False
    alias = router.db_for_read(LiveState)
    if connections[alias].vendor != "postgresql":
        return True
    try:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute(
                """
                SELECT bool_or(coalesce(pg_xact_status(x::xid8), 'unknown')
                               NOT IN ('in progress', 'aborted'))
                FROM unnest(%s::text[]) x
                """,
                [ids],
            )
            return bool(cursor.fetchone()[0])
    except DatabaseError:
        return True


def refresh_live(
    *, now=None, full=False, max_settlements=None, wait=False, cache=None, workers=None
):
    """Bring the running year, quarter and month up to date.

    Recomputes only the settlements whose data changed since the last refresh,
    or all of them on a new day (ages and covering jobs move with the date) or
    when ``full``.  A transaction that stamped its history rows before the last
    refresh but committed after it is caught by counting each watched model's
    history rows in the look-back window (``DASHBOARD_CHANGE_LOOKBACK``
    seconds before the last refresh): when a count grew, that window is read
    again.  A period that ended since the last refresh is first closed:
    recomputed as of its last day.  Changes to records dated inside stored
    closed periods mark those periods stale (``stale.mark``; ``"stale"`` in the
    result counts the marks) for the job worker to recompute.  Returns a dict describing what was done,
    ``None`` when another process is refreshing (unless ``wait``: the job
    worker waits for it, a page view does not), or ``{"deferred": n}`` when
    more than ``max_settlements`` changed (left to the job worker).

    ``cache``: a ``compute`` cache already holding some sources' figures of
    every settlement for today (``store_periods(also=running_windows(today))``), used when
    every settlement is recomputed.

    ``workers`` (None: ``DASHBOARD_WORKERS``): when every settlement is recomputed, on
    PostgreSQL and outside a transaction, the sources are computed that many at once
    (``compute_ahead``), each on its own connection (the nightly job and the job worker:
    both cores; a page view's refresh runs inside its transaction, on its connection).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    lookback = datetime.timedelta(seconds=setting("DASHBOARD_CHANGE_LOOKBACK"))
    workers = setting("DASHBOARD_WORKERS") if workers is None else workers
    ahead = parallel(workers)  # decided outside the transaction opened below
    with transaction.atomic():
        LiveState.objects.get_or_create(pk=1)
        state = LiveState.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()
        if state is None:
            return None
        new_day = state.reference_date != today
        seen = state.changes_seen_until
        full = full or new_day or seen is None
        open_transactions = running_transactions()  # before the count: see its text
        counting = _count_beside(lookback, now) if full and ahead else None
        if counting is None:
            before, counts = window_counts(lookback, now, None if full else seen)
        since = seen
        if full:
            ids = None
        else:
            since = seen - lookback if late_commits(state, before) else seen
            ids = changed_settlements(since)
            if max_settlements is not None and len(ids) > max_settlements:
                return {"deferred": len(ids)}
        # Corrections of records dated inside closed periods mark those periods stale.
        from .stale import mark

        stale = mark(since, now=now) if since is not None else 0
        closed = []
        if state.reference_date and new_day:
            for kind in PeriodKind.values:
                old = period_containing(kind, state.reference_date)
                if old.end < today:
                    store_period(old, old.end, now=now)
                    closed.append(old.code)
        cache = dict(cache or {}) if ids is None else {}
        if ids is None:
            set_work_mem(local=True)  # writing and summing the whole country's rows
        running = running_periods(today)
        if ids is None and ahead:
            compute_ahead(running_windows(today), cache, workers=workers)
        for spec in running:
            if ids is None or ids:
                store_period(spec, today, ids, now=now, cache=cache)
        if counting is not None:
            _before, counts = counting.result()
        state.reference_date = today
        state.refreshed_at = now
        state.changes_seen_until = now
        state.window_counts = counts
        state.open_transactions = open_transactions
        state.full_refresh_requested_at = None
        state.save()
    result = {"settlements": "all" if ids is None else len(ids), "closed": closed}
    if stale:
        result["stale"] = stale
    return result


def _count_beside(lookback, now):
    """``window_counts(lookback, now)`` started on a connection of its own (a thread): a
    future of it.

    For a full refresh outside a transaction, which keeps the count only for the next
    refresh: the count reads the history tables, which the refresh does not write, so it
    runs beside the stores of the running periods instead of before them, one core
    waiting (after the demo's 500,000 households, 3.9 s for the 24 million history rows
    of its window).  Started after ``running_transactions()``, as that order requires.
    """
    pool = ThreadPoolExecutor(1, thread_name_prefix="refresh-count")
    try:
        return pool.submit(on_own_connection(lambda _item: window_counts(lookback, now)), None)
    finally:
        pool.shutdown(wait=False)  # the thread ends after its one task; result() waits for it


# --- reading -------------------------------------------------------------------------


def region_code(field, digits):
    """The 6-digit code of the province (2) or prefecture (4) of a county code in ``field``."""
    return Concat(Substr(field, 1, digits), Value("0" * (6 - digits)), output_field=CharField())


CHILD_LEVELS = {
    "province": lambda: region_code("county_code", 2),
    "prefecture": lambda: region_code("county_code", 4),
    "county": lambda: F("county_code"),
    # Settlements recorded without a township stand as their own row ("s<id>").
    "township": lambda: Case(
        When(township_code="", then=Concat(Value("s"), Cast("settlement_id", CharField()))),
        default=F("township_code"),
        output_field=CharField(),
    ),
    "settlement": lambda: Cast("settlement_id", CharField()),
}


def area_sums(period, settlement_q, group_level=None, keys=None):
    """Summed components of ``period`` over settlements matching ``settlement_q``.

    ``group_level`` None: {component: sum}; otherwise {group key: {component: sum}}
    with group keys as in ``CHILD_LEVELS`` (region codes, "s<id>" for a
    settlement without township, or the settlement id as text).
    One query.
    """
    qs = SettlementFigure.objects.filter(period=period).filter(settlement_q)
    if keys is not None:
        qs = qs.filter(key__in=sorted(keys))
    if group_level is None:
        rows = qs.values("key").annotate(total=Sum("value")).order_by()
        return {row["key"]: row["total"] for row in rows}
    rows = (
        qs.annotate(_group=CHILD_LEVELS[group_level]())
        .values("_group", "key")
        .annotate(total=Sum("value"))
        .order_by()
    )
    grouped = defaultdict(dict)
    for row in rows:
        grouped[row["_group"]][row["key"]] = row["total"]
    return dict(grouped)


def code_prefix_q(prefix, field="area_code"):
    """Q over a region code column (``AreaFigure.area_code``, ``county_code`` of the
    settlement rows): starts with ``prefix`` (a region's digits).

    As ``LIKE 'prefix%'`` plus the range of codes it spans (``'522301' <= code <
    '522302'``). PostgreSQL uses an index for a ``LIKE`` prefix only under the "C"
    collation, so the ``LIKE`` alone made a county's page read every area row of
    the period (7 million at the whole country: 0.4 s). The range is what the indexes
    ``(period, level, area_code)`` and ``(period, county_code, key)`` narrow by; the
    ``LIKE`` keeps the test exact.  Region codes are digits of one length per level,
    ordered alike by every collation.
    """
    q = Q(**{f"{field}__startswith": prefix, f"{field}__gte": prefix})
    if prefix.isdigit() and prefix.strip("9"):
        q &= Q(**{f"{field}__lt": str(int(prefix) + 1).zfill(len(prefix))})
    return q


def region_children(period, region, level, keys=None):
    """{area code: {component: sum}} of ``region``'s children at ``level`` (one query)."""
    qs = AreaFigure.objects.filter(period=period, level=level)
    if region is not None:
        qs = qs.filter(code_prefix_q(region.prefix))
    if keys is not None:
        qs = qs.filter(key__in=sorted(keys))
    grouped = defaultdict(dict)
    for code, key, value in qs.values_list("area_code", "key", "value"):
        grouped[code][key] = value
    return dict(grouped)


def region_series(periods, region, keys=None):
    """{period_id: {component: sum}} of one region over several periods (one query)."""
    qs = AreaFigure.objects.filter(period__in=[p.pk for p in periods], area_code=region.code)
    if keys is not None:
        qs = qs.filter(key__in=sorted(keys))
    grouped = defaultdict(dict)
    for period_id, key, value in qs.values_list("period_id", "key", "value"):
        grouped[period_id][key] = value
    return grouped


def region_children_and_series(period, region, level, periods):
    """``region_children(period, region, level)`` and ``region_series(periods, region)`` in one query.

    A region's page needs both (its child areas' rows, its own totals and trend);
    both are rows of ``AreaFigure``, read together.
    """
    ids = {p.pk for p in periods}
    qs = AreaFigure.objects.filter(
        Q(period=period, level=level) & code_prefix_q(region.prefix)
        | Q(period__in=sorted(ids), area_code=region.code)
    )
    children, series = defaultdict(dict), defaultdict(dict)
    for period_id, row_level, code, key, value in qs.values_list(
        "period_id", "level", "area_code", "key", "value"
    ):
        if period_id == period.pk and row_level == level and code.startswith(region.prefix):
            children[code][key] = value
        if code == region.code and period_id in ids:
            series[period_id][key] = value
    return dict(children), series


def series_sums(periods, settlement_q, keys):
    """{period_id: {component: sum}} for several periods in one query (trends)."""
    qs = SettlementFigure.objects.filter(period__in=[p.pk for p in periods])
    if keys is not None:
        qs = qs.filter(key__in=sorted(keys))
    rows = (
        qs.filter(settlement_q).values("period_id", "key").annotate(total=Sum("value")).order_by()
    )
    grouped = defaultdict(dict)
    for row in rows:
        grouped[row["period_id"]][row["key"]] = row["total"]
    return grouped


def evaluate(indicators, sums):
    """{indicator key: value} from summed components."""
    return {indicator.key: indicator.evaluate(sums) for indicator in indicators}


def add_sums(rows):
    """Component-wise total of several sums dicts (a parent from its children)."""
    total = defaultdict(Decimal)
    for row in rows:
        for key, value in row.items():
            total[key] += value
    return dict(total)
