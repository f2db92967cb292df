"""Keeping the running periods fresh for page views: inline, or by the job worker.

Separate from ``engine`` (which computes and stores figures) so that the
engine and the worker's jobs (``tasks``) do not import each other.
"""

import datetime
import logging
from typing import NamedTuple

from django.db import OperationalError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from communities.scope import get_scope

from .engine import changed_settlements, changes_since, history_counts, refresh_live, setting
from .models import LiveState, Period, SettlementFigure
from .periods import PeriodKind, period_containing
from .tasks import recompute_stale_periods, refresh_live_figures

log = logging.getLogger(__name__)


def live_state():
    return LiveState.objects.filter(pk=1).first()


class _Read(NamedTuple):
    since: datetime.datetime
    upto: datetime.datetime
    counts: dict  # history rows per watched model in [since, upto), counted before reading
    ids: frozenset


def _nonzero(counts):
    return {label: n for label, n in counts.items() if n}


class PageChanges:
    """``engine.changed_settlements(since)`` for the page views of one process, carried
    from one request to the next.

    Until the job worker's next refresh, every page that corrects the stored figures
    asks which settlements changed since the same time.  Asked afresh, that walks
    every history row written since then: after a 100,000-row import, its 225,000
    rows, seconds on every page view (the burst of the load test of 2026-12-02).
    Here the answer is kept with the time ``upto`` it covers and the number of
    history rows per model in [since, upto) as counted before it was read; the
    next page counts that range again in the same query as the rows after
    ``upto``.  The same counts: no row was added in or removed from the range
    (a transaction that stamped its rows before ``upto`` and committed later
    would add to them), so only the rows from ``upto`` on are read.  Other
    counts, or another ``since`` (a refresh ran): read afresh.  Exact whatever
    the look-back window.  ``upto`` stays ``MARGIN`` behind the clock, so that
    a save committing a moment after its rows were stamped does not force a
    fresh read.  One tuple, replaced whole: threads of one process may share it.
    """

    MARGIN = datetime.timedelta(seconds=5)

    def __init__(self):
        self.kept = None

    def __call__(self, since, *, now=None):
        now = now or timezone.now()
        upto = max(since, now - self.MARGIN)
        kept = self.kept
        if kept is not None and (kept.since != since or kept.upto > upto):
            kept = None
        # One count: the range the next answer covers, everything since ``since`` (which
        # sources to ask when reading afresh) and, with a kept answer, the range it
        # covered and the rows after it.
        windows = {
            "covered": Q(history_date__gte=since, history_date__lt=upto),
            "since": Q(history_date__gte=since),
        }
        if kept is not None:
            windows["kept"] = Q(history_date__gte=since, history_date__lt=kept.upto)
            windows["after"] = Q(history_date__gte=kept.upto)
        counts = history_counts(windows)
        if kept is not None and _nonzero(counts["kept"]) == kept.counts:
            ids = kept.ids | changed_settlements(kept.upto, counts["after"])
        else:
            ids = changed_settlements(since, counts["since"])
        self.kept = _Read(since, upto, _nonzero(counts["covered"]), frozenset(ids))
        return set(ids)


page_changes = PageChanges()


_UNSET = object()


def stored_basis(settlements, *, now=None):
    """What ``stored_today`` reads before any figure: ``(today's year period, ids of the
    changed settlements among settlements)``, or None when today's figures are not
    stored.  A page reading several lists' figures asks once and passes it on."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    state = live_state()
    if state is None or state.reference_date != today or state.changes_seen_until is None:
        return None
    spec = period_containing(PeriodKind.YEAR, today)
    period = Period.objects.filter(kind=spec.kind, start=spec.start, reference_date=today).first()
    if period is None:
        return None
    lookback = datetime.timedelta(seconds=setting("DASHBOARD_CHANGE_LOOKBACK"))
    changed = page_changes(changes_since(state, lookback), now=now)
    live_ids = sorted(settlements.filter(pk__in=changed).values_list("pk", flat=True))
    return period, live_ids


def stored_today(settlements, keys, *, now=None, per_settlement=False, basis=_UNSET):
    """Today's stored figures of ``keys`` over ``settlements``, for exact counts read fast.

    A page that must show exact counts (the 工作清单) cannot show the running
    figures as they are: they follow the data by up to ``DASHBOARD_MAX_AGE``.
    It can show them corrected: every settlement whose data changed since the
    last refresh (and, when a transaction stamped its history rows in the
    look-back window before it but committed later, in that window:
    ``engine.changes_since``) is left out of the stored sums and counted live by
    the caller, under the same rule.

    Returns ``(sums, live_ids)``: ``{key: int}`` summed over the unchanged
    settlements among ``settlements`` (a Settlement QuerySet, e.g. the user's),
    and the ids of the changed ones to count live.  ``None`` when today's
    figures are not stored (before the first refresh, or on a new day before
    the nightly job): the caller counts everything live.  ``per_settlement``:
    the sums are ``{settlement id: {key: int}}`` instead, one per unchanged
    settlement with a stored figure.
    """
    basis = stored_basis(settlements, now=now) if basis is _UNSET else basis
    if basis is None:
        return None
    period, live_ids = basis
    rows = (
        SettlementFigure.objects.filter(period=period, key__in=keys, settlement__in=settlements)
        .exclude(settlement_id__in=live_ids)
        .order_by()
    )
    if per_settlement:
        by_settlement = {}
        for settlement, key, value in rows.values_list("settlement_id", "key", "value"):
            row = by_settlement.get(settlement)
            if row is None:  # a row of zeros once per settlement, not once per figure
                row = by_settlement[settlement] = dict.fromkeys(keys, 0)
            row[key] = int(value)
        return by_settlement, live_ids
    rows = rows.values_list("key").annotate(total=Sum("value"))
    sums = dict.fromkeys(keys, 0)
    sums.update((key, int(total)) for key, total in rows)
    return sums, live_ids


def live_part(path, live_ids, *, unrestricted):
    """Q for the rows ``stored_today`` leaves to count live, or None when there are none.

    ``path`` is the lookup from the rows to their settlement (``settlement``,
    ``household__settlement``).  Rows of a household outside any settlement have
    no stored figures: for an account that sees them they are always live.
    """
    live = Q(**{f"{path}__in": live_ids})
    if unrestricted:
        return live | Q(**{f"{path}__isnull": True})
    return live if live_ids else None


def figure(key):
    """``(keys, combine)`` for ``stored_count``: a list counted by one stored figure."""
    return (key,), lambda sums: sums[key]


def difference(total, part):
    """``(keys, combine)`` for ``stored_count``: ``total`` less ``part`` (未就业 = 劳动力 − 已就业)."""
    return (total, part), lambda sums: sums[total] - sums[part]


def stored_count(queryset, settlements, keys, combine, *, unrestricted, basis=_UNSET):
    """How many rows of ``queryset`` one list has, from today's stored figures.

    For a list whose rule a dashboard source also counts per settlement:
    ``combine`` turns the summed figures of ``keys`` into the list's count
    (``lambda sums: sums["a"] - sums["b"]``) over the settlements that did not
    change, and the rows of the changed ones are counted live from
    ``queryset`` (the list as filtered, which must keep only rows of
    ``settlements``).  None when today's figures are not stored.  ``basis``: what
    ``stored_basis(settlements)`` returned, when the caller asked already.
    """
    stored = stored_today(settlements, keys, basis=basis)
    if stored is None:
        return None
    sums, live_ids = stored
    count = combine(sums)
    live = live_part(queryset.scope_path, live_ids, unrestricted=unrestricted)
    if live is not None:
        count += queryset.filter(live).order_by().count()
    return count


def stored_counts(queryset, settlements, keys, combine, *, unrestricted):
    """``stored_count`` per settlement: ``{settlement id: rows}`` for the settlements with
    rows of the list (the key ``None``: rows outside any settlement, which only an
    unrestricted account sees), or None when today's figures are not stored.

    ``combine`` is applied to each settlement's figures.  ``CappedCountPaginator``
    finds a page's rows with them; a first page takes ``stored_count`` instead,
    summed by the database (read one by one, the figures cost about 2 µs a row,
    70,000 rows for the whole country's settlements).
    """
    stored = stored_today(settlements, keys, per_settlement=True)
    if stored is None:
        return None
    by_settlement, live_ids = stored
    counts = {}
    for settlement, sums in by_settlement.items():
        rows = combine(sums)
        if rows:
            counts[settlement] = rows
    live = live_part(queryset.scope_path, live_ids, unrestricted=unrestricted)
    if live is not None:
        # Counted on the list's keys alone: its annotations (a household's member
        # count …) may join rows that a count grouped by settlement would repeat.
        keys_of_list = queryset.filter(live).order_by().values("pk")
        live_rows = (
            queryset.model._default_manager.filter(pk__in=keys_of_list)
            .order_by()
            .values_list(queryset.scope_path)
            .annotate(rows=Count("pk"))
        )
        counts.update((settlement, rows) for settlement, rows in live_rows if rows)
    return counts


class CountedFromFigures:
    """A list filter (mixin) whose lists a dashboard source also counts per settlement:
    ``communities.admin_scope.CountedChangeList`` asks its ``stored_count`` /
    ``stored_counts`` for the list's count from today's figures (None: count the rows).

    ``from_figures``: value → ``(keys, combine)`` (``figure``, ``difference``); a filter
    whose figures depend on more than the value overrides ``figures``, and one counted
    on a date other than today overrides ``on_date``.
    """

    from_figures = {}

    def figures(self, value):
        return self.from_figures.get(value)

    def on_date(self):
        return timezone.localdate()

    def stored_count(self, request, settlements, queryset):
        """Today's list counted from today's figures, else None."""
        return self._stored(stored_count, request, settlements, queryset)

    def stored_counts(self, request, settlements, queryset):
        """The same per settlement (``{settlement id: rows}``), else None."""
        return self._stored(stored_counts, request, settlements, queryset)

    def _stored(self, count, request, settlements, queryset):
        figures = self.figures(self.value())
        if figures is None or self.on_date() != timezone.localdate():
            return None
        keys, combine = figures
        unrestricted = get_scope(request.user).unrestricted
        return count(queryset, settlements, keys, combine, unrestricted=unrestricted)


def ensure_fresh(*, now=None):
    """Called by page views: keep the running periods within the freshness bound.

    Fresh state: nothing to do (one query).  Stale by more than
    ``DASHBOARD_MAX_AGE`` seconds on the same day: refresh the changed
    settlements inline (usually a few; more than ``DASHBOARD_INLINE_LIMIT``
    go to the job worker).  A new day needs every settlement recomputed, which
    is the job worker's (the nightly ``snapshot_indicators``); until it ran,
    pages show the last figures with their time.  With ``DASHBOARD_INLINE_LIMIT``
    0 (production) a page view never computes: it only asks the job worker.
    """
    now = now or timezone.now()
    state = live_state()
    today = timezone.localdate(now)
    max_age = datetime.timedelta(seconds=setting("DASHBOARD_MAX_AGE"))
    if state and state.reference_date == today and state.refreshed_at > now - max_age:
        return state
    try:
        with transaction.atomic():
            if state and state.reference_date == today and setting("DASHBOARD_INLINE_LIMIT"):
                result = refresh_live(now=now, max_settlements=setting("DASHBOARD_INLINE_LIMIT"))
                if result and "deferred" not in result:
                    if result.get("stale"):
                        request_stale_recompute(now)
                    return live_state()
            request_background_refresh(state, now)
    except OperationalError:
        # SQLite: a page's read-only transaction cannot write while another process
        # (the job worker committing an import) holds the lock; show the last figures.
        log.info("dashboard refresh skipped: the database is busy")
    return state


def request_background_refresh(state, now):
    """Enqueue one refresh for the job worker (not again within ten minutes)."""
    recent = now - datetime.timedelta(minutes=10)
    if state and state.full_refresh_requested_at and state.full_refresh_requested_at > recent:
        return
    LiveState.objects.update_or_create(pk=1, defaults={"full_refresh_requested_at": now})
    transaction.on_commit(refresh_live_figures.enqueue)


def request_stale_recompute(now):
    """Enqueue one recomputation of stale past periods (not again while one is pending,
    or within ten minutes of the last request)."""
    recent = now - datetime.timedelta(minutes=10)
    pending = LiveState.objects.filter(pk=1, stale_recompute_requested_at__gt=recent).exists()
    if pending:
        return
    LiveState.objects.filter(pk=1).update(stale_recompute_requested_at=now)
    transaction.on_commit(recompute_stale_periods.enqueue)
