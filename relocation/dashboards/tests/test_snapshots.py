"""Snapshots of past periods, growth against them, and the live refresh."""

import datetime

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from simple_history.models import HistoricalChanges

from communities.models import Person
from communities.tests.factories import PersonFactory
from employment import enums as eenums
from employment.models import EmploymentRecord
from relocation.dashboards import areas, engine, live, tasks
from relocation.dashboards.dashboard import build
from relocation.dashboards.models import AreaFigure, LiveState, Period, SettlementFigure
from relocation.dashboards.periods import (
    PeriodKind,
    PeriodSpec,
    income_year,
    parse_period,
    period_containing,
    recent_periods,
)
from relocation.dashboards.registry import registry

pytestmark = pytest.mark.django_db


def new_job(dash, place=eenums.WorkPlace.IN_COUNTY):
    """A wage job of p2 (in 兴义市) that began three days ago."""
    return EmploymentRecord.objects.create(
        person=dash.p2,
        kind=eenums.EmploymentKind.WAGE,
        place=place,
        employer_name="某厂",
        start_date=dash.today - datetime.timedelta(days=3),
    )


def county_values(dash, **kw):
    return build(areas.region_area(dash.admin, "522301"), dash.admin, **kw)


def test_previous_month_snapshot_gives_change_and_trend(dash):
    previous = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.store_period(previous, previous.end)
    engine.refresh_live(full=True)
    page = county_values(dash)
    cards = {card.indicator.key: card for _s, cards in page.sections for card in cards}
    # 户主二's post began on the 1st of this month: last month 1 of 4 employed.
    assert cards["employed"].previous == 1
    assert cards["employed"].value == 2
    assert cards["employment_rate"].previous == 25
    assert cards["employment_rate"].change == "+25.00 个百分点"
    assert cards["employed"].change == "+1（+100.0%）"
    assert cards["employed"].direction == "up"
    assert [p.spec for p, _v in page.trend] == [previous, previous.next()]
    assert [v["employment_rate"] for _p, v in page.trend] == [25, 50]
    chart = page.chart_data()
    assert chart["trend"]["periods"] == [previous.code, previous.next().code]
    assert chart["trend"]["series"][1]["values"] == [25.0, 50.0]
    # The past period is read as stored, with its own reference date.
    past = county_values(dash, kind="month", period_code=previous.code)
    assert past.reference_date == previous.end
    assert past.total.values["employed"] == 1
    assert past.sections[1][1][0].previous is None  # nothing stored before it


def test_no_previous_period_says_so(dash):
    engine.refresh_live(full=True)
    page = county_values(dash)
    card = page.sections[0][1][1]
    assert card.previous is None and card.change == ""


def test_refresh_picks_up_a_single_change_within_the_bound(dash):
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    assert county_values(dash).total.values["employed"] == 2
    new_job(dash, eenums.WorkPlace.OUT_OF_PROVINCE)
    # Within a minute: the stored figures stand.
    live.ensure_fresh(now=start + datetime.timedelta(seconds=30))
    assert county_values(dash).total.values["employed"] == 2
    # After it, a page view refreshes the changed settlement only.
    live.ensure_fresh(now=start + datetime.timedelta(seconds=61))
    values = county_values(dash).total.values
    assert values["employed"] == 3
    assert values["employed_outside_province"] == 1
    state = LiveState.objects.get()
    assert state.refreshed_at == start + datetime.timedelta(seconds=61)


def test_without_inline_refresh_a_page_view_only_asks_the_worker(
    dash, settings, django_capture_on_commit_callbacks
):
    """Production (DASHBOARD_INLINE_LIMIT=0): a stale page view computes nothing and
    enqueues one refresh; the job worker's refresh brings the figures up to date."""
    settings.DASHBOARD_INLINE_LIMIT = 0
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    new_job(dash)
    later = start + datetime.timedelta(seconds=61)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        state = live.ensure_fresh(now=later)
    assert state.refreshed_at == start  # the page shows the last figures, with their time
    assert county_values(dash).total.values["employed"] == 2
    assert len(callbacks) == 1  # the worker's refresh, enqueued once
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        live.ensure_fresh(now=later + datetime.timedelta(seconds=5))
    assert callbacks == []
    tasks.refresh_live_figures.call()
    assert county_values(dash).total.values["employed"] == 3
    state = LiveState.objects.get()
    assert state.refreshed_at > start and state.full_refresh_requested_at is None


def test_refresh_without_changes_recomputes_nothing(dash):
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    result = engine.refresh_live(now=start + datetime.timedelta(seconds=90))
    assert result == {"settlements": 0, "closed": []}


def test_refresh_sees_bulk_writes_and_deletes(dash):
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    PersonFactory._meta.model.objects.bulk_create(
        [PersonFactory.build(household=dash.h2, name="新成员", age=25, relationship="son")]
    )
    Person.objects.filter(name="长子三").delete()
    result = engine.refresh_live(now=start + datetime.timedelta(seconds=90))
    assert result["settlements"] == 2  # s2 and s4, not s1 or s3
    county = county_values(dash).total.values
    assert county["persons"] == 6 and county["labour_force"] == 5
    province = build(areas.region_area(dash.admin, "520000"), dash.admin).total.values
    assert province["labour_force"] == 7  # +1 in s2, −1 in s4


def test_household_moving_refreshes_both_settlements(dash):
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    dash.h2.settlement = dash.s3
    dash.h2.save()
    result = engine.refresh_live(now=start + datetime.timedelta(seconds=90))
    assert result["settlements"] == 2
    rows = {r.name: r.values for r in county_values(dash).rows}
    assert rows["空置安置点"]["households"] == 1
    assert rows["兴泰街道"]["households"] == 0


def _area_rows():
    return sorted(AreaFigure.objects.values_list("period_id", "level", "area_code", "key", "value"))


def _persons(dash, code):
    return build(areas.region_area(dash.admin, code), dash.admin).total.values["persons"]


def test_refresh_of_some_settlements_sums_only_their_areas_again(dash, monkeypatch):
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    before = {code: _persons(dash, code) for code in ("522301", "520201", "522300", "520000")}
    # A new member in s2 (兴义市), and s1 with its four people moved to 钟山区 (六盘水市).
    PersonFactory(household=dash.h2, name="新成员", age=25, relationship="son")
    dash.s1.county, dash.s1.township = dash.s4.county, dash.s4.township
    dash.s1.save()
    summed = []
    original = engine._sum_into

    township_sql = []

    def spy(period, level, rows, code_field, group, codes, suffix=""):
        summed.append((level, codes))
        if level == "township":
            township_sql.append(str(rows.query))
        return original(period, level, rows, code_field, group, codes, suffix)

    monkeypatch.setattr(engine, "_sum_into", spy)
    result = engine.refresh_live(now=start + datetime.timedelta(seconds=90))
    assert result["settlements"] == 2
    # Only the areas the two settlements were and are in, for each running period.
    assert {(level, tuple(codes)) for level, codes in summed} == {
        ("county", ("520201", "522301")),
        ("township", tuple(sorted({dash.s2.township_id, dash.s4.township_id, "522301001"}))),
        ("prefecture", ("5202", "5223")),
        ("province", ("52",)),
    }
    # The townships' rows are found under their counties (the index on period and county).
    assert township_sql and all('"county_code" IN' in sql for sql in township_sql)
    assert _persons(dash, "522301") == before["522301"] - 4 + 1
    assert _persons(dash, "520201") == before["520201"] + 4
    assert _persons(dash, "522300") == before["522300"] - 4 + 1
    assert _persons(dash, "520000") == before["520000"] + 1
    # The same sums as summing every area again.
    partial = _area_rows()
    monkeypatch.setattr(engine, "_sum_into", original)
    for period in Period.objects.all():
        engine.rollup(period)
    assert _area_rows() == partial


def test_lookback_catches_a_change_committed_after_the_last_refresh(dash, settings):
    """A long import stamps its history rows before it commits."""
    settings.DASHBOARD_CHANGE_LOOKBACK = 600
    start = timezone.now()
    engine.refresh_live(full=True, now=start - datetime.timedelta(minutes=1))
    engine.refresh_live(full=True, now=start)
    record = new_job(dash)
    # Its history row says it was written five minutes before the last
    # refresh: only the grown count of the look-back window reveals it.
    record.history.update(history_date=start - datetime.timedelta(minutes=5))
    result = engine.refresh_live(now=start + datetime.timedelta(seconds=90))
    assert result["settlements"] >= 1
    assert county_values(dash).total.values["employed"] == 3
    # Counted now: the next refresh does not read the window again.
    result = engine.refresh_live(now=start + datetime.timedelta(seconds=180))
    assert result["settlements"] == 0


def test_new_day_hands_the_full_refresh_to_the_worker(dash, django_capture_on_commit_callbacks):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    engine.refresh_live(full=True, now=yesterday)
    with django_capture_on_commit_callbacks(execute=True):
        state = live.ensure_fresh()
    assert state.reference_date == timezone.localdate(yesterday)
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_live_figures").count() == 1
    # Asked again soon after: not enqueued twice.
    with django_capture_on_commit_callbacks(execute=True):
        live.ensure_fresh()
    assert DBTaskResult.objects.count() == 1


def test_new_day_closes_the_periods_that_ended(dash):
    last_month = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.refresh_live(
        full=True,
        now=timezone.make_aware(datetime.datetime.combine(last_month.end, datetime.time(12))),
    )
    engine.refresh_live()
    closed = Period.objects.get(kind=PeriodKind.MONTH, start=last_month.start)
    assert closed.reference_date == last_month.end
    assert (
        Period.objects.get(kind=PeriodKind.MONTH, start=last_month.next().start).reference_date
        == dash.today
    )


def test_snapshot_command(dash, capsys):
    previous = period_containing(PeriodKind.QUARTER, dash.today).previous()
    call_command("snapshot_indicators", "--period", previous.code, "--months", "2")
    period = Period.objects.get(kind=PeriodKind.QUARTER, start=previous.start)
    assert period.reference_date == previous.end
    assert Period.objects.filter(kind=PeriodKind.MONTH).count() == 2
    assert SettlementFigure.objects.filter(period=period, key="settlements").count() == 4
    out = capsys.readouterr().out
    assert previous.code[:4] in out and "完成" in out
    with pytest.raises(CommandError, match="统计期格式不正确"):
        call_command("snapshot_indicators", "--period", "2025-13")
    with pytest.raises(CommandError, match="尚未开始"):
        call_command("snapshot_indicators", "--period", str(dash.today.year + 1))
    call_command("snapshot_indicators")
    assert LiveState.objects.get().reference_date == dash.today
    assert "重算安置点：全部" in capsys.readouterr().out
    call_command("snapshot_indicators", "--refresh")
    assert "重算安置点：0" in capsys.readouterr().out


def test_snapshot_command_enqueue(dash, capsys):
    """One job for every period asked for; it stores what the command would: a past
    period as of its last day, the running one as of today (not its future last day)."""
    from relocation.dashboards import tasks

    running = period_containing(PeriodKind.MONTH, dash.today)
    previous = running.previous()
    call_command(
        "snapshot_indicators", "--enqueue", "--period", previous.code, "--period", running.code
    )
    assert "保存 2 个统计期" in capsys.readouterr().out
    job = DBTaskResult.objects.get()
    assert job.args_kwargs["args"] == [[previous.code, running.code]]
    done = tasks.snapshot_periods.call(*job.args_kwargs["args"])
    assert done == [
        {"period": previous.code, "reference_date": previous.end.isoformat()},
        {"period": running.code, "reference_date": dash.today.isoformat()},
    ]
    stored = dict(Period.objects.values_list("start", "reference_date"))
    assert stored == {previous.start: previous.end, running.start: dash.today}
    assert SettlementFigure.objects.filter(key="settlements").count() == 8
    # A job queued by the earlier one-period task still runs.
    assert tasks.snapshot_period.call(previous.code)["reference_date"] == previous.end.isoformat()
    with pytest.raises(ValueError, match="2025-13"):
        tasks.snapshot_periods.call(["2025-13"])


def test_periods():
    assert parse_period("2026-q3") == PeriodSpec("quarter", datetime.date(2026, 7, 1))
    assert parse_period("2026-11").end == datetime.date(2026, 11, 30)
    assert parse_period("2024-02").end == datetime.date(2024, 2, 29)
    assert parse_period("2025").end == datetime.date(2025, 12, 31)
    assert parse_period("2025-00") is None and parse_period("x") is None
    assert parse_period("2026-Q1").previous().code == "2025-Q4"
    assert parse_period("2026-01").previous().code == "2025-12"
    assert income_year(datetime.date(2026, 11, 25)) == 2025
    assert income_year(datetime.date(2025, 12, 31)) == 2025
    assert [p.code for p in recent_periods("quarter", datetime.date(2026, 2, 1), 3)] == [
        "2025-Q3",
        "2025-Q4",
        "2026-Q1",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_workers_refresh_waits_for_a_page_holding_the_state():
    """A page view that holds the state row (an inline refresh, or asking for this
    refresh) makes another page view skip, but the job worker waits for it: skipped,
    the figures stayed stale for ten minutes under steady dashboard traffic."""
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's (SQLite locks the database)")
    engine.refresh_live(full=True)
    held, release = threading.Event(), threading.Event()

    def page_view():
        with transaction.atomic():
            LiveState.objects.select_for_update().get(pk=1)
            held.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=page_view)
    thread.start()
    try:
        assert held.wait(10)
        assert engine.refresh_live() is None  # another page view: skipped, not waited for
        threading.Timer(0.5, release.set).start()
        started = time.monotonic()
        result = tasks.refresh_live_figures.call()
        assert time.monotonic() - started >= 0.4  # it waited for the lock
        assert result is not None and result["settlements"] == 0
    finally:
        release.set()
        thread.join(10)


def test_the_look_back_window_is_counted_in_one_query(dash, django_assert_num_queries):
    """Every page correcting the stored figures counts the window: one query for all
    watched models (a UNION ALL), not one per model, with each model's own count."""
    lookback = datetime.timedelta(minutes=15)

    def counted(model, start, end):
        return model.history.filter(history_date__gt=start, history_date__lte=end).count()

    assert len(registry.watched_models) > 1
    jobs = EmploymentRecord.history.count()
    new_job(dash)
    start = timezone.now()
    with django_assert_num_queries(1):
        before, current = engine.window_counts(lookback, start, start)
    assert (
        before
        == current
        == {
            label: counted(model, start - lookback, start)
            for label, model in registry.watched_models.items()
        }
    )
    assert current["employment.EmploymentRecord"] == jobs + 1  # the fixture's and the new job
    assert current["communities.Person"] > 0
    # Twenty minutes on, the window before still holds them; the current one nothing.
    later = start + datetime.timedelta(minutes=20)
    with django_assert_num_queries(1):
        before, current = engine.window_counts(lookback, later, start)
    assert before["employment.EmploymentRecord"] == jobs + 1
    assert set(current.values()) == {0}
    _none, current = engine.window_counts(lookback, start)
    assert _none is None and current["employment.EmploymentRecord"] == jobs + 1


def test_the_window_counts_keep_each_bound_open_or_closed(dash):
    """``history_counts`` writes its SQL once per process: a window's bounds are kept as
    written (a row stamped exactly on a bound is in ``__gte`` / ``__lte`` and not in
    ``__gt`` / ``__lt``), and anything but history_date bounds joined by AND is refused."""
    new_job(dash)
    stamp = EmploymentRecord.history.latest("history_date").history_date
    on_stamp = EmploymentRecord.history.filter(history_date=stamp).count()
    before = EmploymentRecord.history.filter(history_date__lt=stamp).count()
    label = "employment.EmploymentRecord"
    windows = {
        "from": Q(history_date__gte=stamp),
        "after": Q(history_date__gt=stamp),
        "upto": Q(history_date__lte=stamp),
        "before": Q(history_date__lt=stamp),
        "on": Q(history_date__gte=stamp, history_date__lte=stamp),
    }
    for _ in range(2):  # the second call reuses the SQL written by the first
        counts = engine.history_counts(windows)
        assert {name: counts[name][label] for name in windows} == {
            "from": on_stamp,
            "after": 0,
            "upto": before + on_stamp,
            "before": before,
            "on": on_stamp,
        }
    for bad in (
        Q(history_date__gte=stamp) | Q(history_date__lt=stamp),
        ~Q(history_date__gte=stamp),
        Q(history_id__gte=1),
        Q(Q(history_date__gte=stamp)),
    ):
        with pytest.raises(ValueError, match="history_date bounds"):
            engine.history_counts({"bad": bad})


def test_only_sources_watching_a_changed_model_are_asked(dash, asked):
    """A change to a job asks the sources that watch jobs, and no other: their answer
    would read history tables that hold nothing since then."""
    start = timezone.now()
    assert engine.changed_settlements(start) == set()
    assert asked == []  # nothing changed: one count, no source asked
    new_job(dash)
    changed = engine.changed_settlements(start)
    assert changed == {dash.s1.pk}
    watching = {
        key
        for key, source in registry.sources.items()
        if source.changes is not None and EmploymentRecord in source.watch
    }
    assert watching and {key for key, _since in asked} == watching


def test_every_source_reads_only_the_history_it_watches(dash):
    """``changed_settlements`` skips a source whose watched models are quiet: that is
    exact only if its ``changes`` reads no other model's history."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    every_history_table = {
        model._meta.db_table for model in apps.get_models() if issubclass(model, HistoricalChanges)
    }
    watched_tables = {m.history.model._meta.db_table for m in registry.watched_models.values()}
    assert watched_tables <= every_history_table
    since = timezone.now() - datetime.timedelta(days=1)
    for key, source in registry.sources.items():
        if source.changes is None:
            continue
        watched = {model.history.model._meta.db_table for model in source.watch}
        with CaptureQueriesContext(connection) as queries:
            source.changes(since)
        # The scans by time (``changes.changed``); a lookup by id of what a scan found
        # (a household's settlements) reads what it likes.
        scans = [q["sql"] for q in queries if "history_date" in q["sql"]]
        read = {table for table in every_history_table for sql in scans if f'"{table}"' in sql}
        assert read, key
        assert read <= watched, (key, read - watched)
