"""Read replica, for real: a second PostgreSQL cluster streaming from the test database's.

The session fixture ``replica_cluster`` makes a streaming replica of the
primary that pytest's database lives on (``pg_basebackup -R -X stream`` into a
temporary directory, started with ``pg_ctl`` on a free port of 127.0.0.1), once
per test session, and stops and deletes it at the end.  It streams
continuously, so it holds the test database however and whenever pytest made
it (``--reuse-db`` or not), and every row a test commits on the primary.

The tests then add the ``replica`` database alias (as ``REPLICA_DATABASE_URL``
does in production) and check that

- dashboard pages and exports read from the replica, and keep working while it
  lags (replay paused with ``pg_wal_replay_pause()``): they show what the
  replica holds;
- nothing is ever sent to the replica but reads (every statement it receives is
  recorded; a write would fail anyway: a hot standby is read-only);
- sessions, rights and area scopes are read from the primary, so that a
  withdrawn area holds at once whatever the lag.

Where a second cluster cannot be made (SQLite, no PostgreSQL server programs,
no replication permission on the primary) the tests are skipped with the
reason and what to change (docs/production.md, "Read replica").  The router's
rules themselves are tested without a replica at the end of this module, on
every database.
"""

import contextlib
import datetime
import io
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.urls import resolve, reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from communities.models import AreaScope, Household, Region, Settlement
from relocation import db_router
from relocation.dashboards import engine
from relocation.dashboards.models import LiveState
from relocation.db_router import REPLICA, ReplicaRouter, reads_from_replica
from relocation.spreadsheets.models import ImportJob

#: The tests that use the second cluster: committed rows (the replica streams them), both aliases.
with_replica = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

#: How long the replica may take to start or to catch up (the base backup copies the whole
#: primary cluster, every database on it; replay waits for what others wrote meanwhile).
START_SECONDS = 600
GIB = 1024**3
#: Statements a replica may receive: reads, and the session setup psycopg/Django send.
READ_ONLY = re.compile(r"^\s*(SELECT|WITH|SET|SHOW)\b", re.IGNORECASE)


# --- the second cluster ------------------------------------------------------------------


@dataclass
class Cluster:
    host: str
    port: int
    directory: Path
    pg_ctl: list

    def query(self, sql, dbname, *params):
        with psycopg.connect(
            host=self.host, port=self.port, user="postgres", dbname=dbname, autocommit=True
        ) as conn:
            return conn.execute(sql, params).fetchall()


def _skip(reason):
    pytest.skip(f"read-replica tests skipped: {reason} (docs/production.md, 'Read replica')")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd):
    """PostgreSQL refuses to run as root: run its programs as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _primary_settings(cursor):
    names = (
        "server_version_num",
        "wal_level",
        "max_wal_senders",
        "max_connections",
        "max_worker_processes",
        "max_prepared_transactions",
        "max_locks_per_transaction",
    )
    values = {}
    for name in names:
        cursor.execute(f"SHOW {name}")
        values[name] = cursor.fetchone()[0]
    return values


@pytest.fixture(scope="session")
def replica_cluster(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        _skip(
            "the test database is SQLite; run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> to test the replica"
        )
    primary = connection.settings_dict
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        found = _primary_settings(cursor)
    if found["wal_level"] not in ("replica", "logical") or int(found["max_wal_senders"]) < 1:
        _skip(
            f"the primary has wal_level={found['wal_level']}, max_wal_senders="
            f"{found['max_wal_senders']}; a streaming replica needs replica and at least 1"
        )
    major = int(found["server_version_num"]) // 10000
    bindir = Path(f"/usr/lib/postgresql/{major}/bin")
    programs = {}
    for name in ("pg_basebackup", "pg_ctl"):
        path = bindir / name if (bindir / name).exists() else shutil.which(name)
        if not path:
            _skip(f"{name} (PostgreSQL {major} server programs) is not installed")
        programs[name] = str(path)
    if os.geteuid() == 0 and not shutil.which("runuser"):
        _skip("running as root without runuser to start PostgreSQL as postgres")

    # pg_basebackup copies every database of the primary cluster: a demo left beside the
    # test database (10 GB at 2M people) would fill the disk or outlast the timeout.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT datname, pg_database_size(oid) FROM pg_database ORDER BY 2 DESC")
        sizes = cursor.fetchall()
    cluster_bytes = sum(size for _name, size in sizes)
    free = shutil.disk_usage(tempfile.gettempdir()).free
    if cluster_bytes + 2 * GIB > free:
        largest = ", ".join(f"{name} {size / GIB:.1f} GB" for name, size in sizes[:3])
        _skip(
            f"a base backup copies the whole primary cluster ({cluster_bytes / GIB:.1f} GB: "
            f"{largest}) and {tempfile.gettempdir()} has {free / GIB:.1f} GB free; drop the "
            "databases the tests do not need (a demo built for benchmarks)"
        )
    directory = Path(tempfile.mkdtemp(prefix="relocation-replica-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = _free_port()
    host = primary.get("HOST") or "127.0.0.1"
    try:
        backup = subprocess.run(
            _as_postgres(
                [
                    programs["pg_basebackup"],
                    *("-h", host, "-p", str(primary.get("PORT") or 5432)),
                    *("-U", primary.get("USER") or "postgres"),
                    *("-D", str(data), "-R", "-X", "stream", "-c", "fast", "--no-sync"),
                ]
            ),
            capture_output=True,
            text=True,
            # Five minutes, and a minute more for every 2 GB to copy.
            timeout=300 + 30 * cluster_bytes / GIB,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(
            f"pg_basebackup did not copy the primary cluster ({cluster_bytes / GIB:.1f} GB) "
            "in time; the partial copy was deleted"
        )
    if backup.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        _skip(
            f"pg_basebackup from {host} failed: {backup.stderr.strip()}; the primary's "
            "pg_hba.conf needs e.g. 'host replication postgres 127.0.0.1/32 trust' (then reload)"
        )
    # A Debian cluster keeps its configuration in /etc, outside the copied directory.
    config = {
        "port": port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{directory}'",
        "hot_standby": "on",
        # The primary keeps the rows the replica's running queries still read.
        "hot_standby_feedback": "on",
        "fsync": "off",
        "shared_buffers": "'32MB'",
        # A hot standby needs at least the primary's values for these.
        **{
            name: found[name]
            for name in (
                "max_connections",
                "max_worker_processes",
                "max_wal_senders",
                "max_prepared_transactions",
                "max_locks_per_transaction",
            )
        },
    }
    conf = "".join(f"{key} = {value}\n" for key, value in config.items())
    _write_as_postgres(data / "postgresql.conf", conf)
    _write_as_postgres(
        data / "pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    )
    _write_as_postgres(data / "pg_ident.conf", "")
    pg_ctl = [programs["pg_ctl"], "-D", str(data), "-l", str(directory / "replica.log")]
    started = subprocess.run(
        # A standby accepts connections once it has replayed the WAL written during the
        # backup: on a busy shared server that takes a while.
        _as_postgres([*pg_ctl, "-w", "-t", str(START_SECONDS), "start"]),
        capture_output=True,
        text=True,
    )
    cluster = Cluster(host="127.0.0.1", port=port, directory=directory, pg_ctl=pg_ctl)
    try:
        if started.returncode != 0:
            log = (directory / "replica.log").read_text(errors="replace")[-2000:]
            _skip(f"the replica cluster did not start: {started.stderr.strip()} {log}")
        _wait_for(lambda: cluster.query("SELECT 1 FROM django_migrations LIMIT 1", primary["NAME"]))
        assert cluster.query("SELECT pg_is_in_recovery()", primary["NAME"]) == [(True,)]
        yield cluster
    finally:
        subprocess.run(
            _as_postgres([*pg_ctl, "-m", "immediate", "-w", "stop"]), capture_output=True
        )
        shutil.rmtree(directory, ignore_errors=True)


def _write_as_postgres(path, text):
    path.write_text(text)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _wait_for(check, seconds=START_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except psycopg.Error:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the replica did not catch up in time")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def replica_alias(replica_cluster, django_db_blocker):
    """The ``replica`` alias as REPLICA_DATABASE_URL makes it, for this module's tests only.

    Module-wide so that it exists when a test's database set-up checks its aliases;
    removed at the end so that no other module's tests ever read from the replica.
    """
    settings_dict = {
        **connection.settings_dict,
        "HOST": replica_cluster.host,
        "PORT": replica_cluster.port,
        "ATOMIC_REQUESTS": False,
        "TEST": {**connection.settings_dict["TEST"], "MIRROR": DEFAULT_DB_ALIAS},
    }
    replica_cluster.dbname = connection.settings_dict["NAME"]
    connections.settings[REPLICA] = settings_dict
    try:
        yield replica_cluster
    finally:
        with django_db_blocker.unblock():
            connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def replica(replica_alias, transactional_db):
    """The replica, replaying again at the end of the test (a test may pause it)."""
    yield replica_alias
    replica_alias.query("SELECT pg_wal_replay_resume()", replica_alias.dbname)
    connections[REPLICA].close()


def caught_up(cluster):
    """Wait until the replica has replayed everything the primary has committed so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    _wait_for(
        lambda: cluster.query(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", cluster.dbname, target
        )[0][0]
    )


def lagging(cluster):
    """Whether the primary has WAL the paused replica has not replayed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    return cluster.query("SELECT pg_last_wal_replay_lsn() < %s::pg_lsn", cluster.dbname, target)[0][
        0
    ]


@contextlib.contextmanager
def statements(alias):
    """Every statement sent to ``alias`` (as a list of SQL strings)."""
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        yield sent


@pytest.fixture
def demo(client):
    call_command("load_demo", households=30, settlements=3, stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    return users


def county_dashboard(settlement):
    return reverse("dashboards:region", args=[settlement.county_id])


# --- with a real replica -----------------------------------------------------------------


@with_replica
def test_dashboards_read_from_the_replica_and_keep_working_while_it_lags(client, demo, replica):
    settlement = Settlement.objects.visible_to(demo["county"]).order_by("code").first()
    client.force_login(demo["county"])
    url = reverse("dashboards:settlement", args=[settlement.pk])  # titled with its name
    assert client.get(url).status_code == 200  # brings the running figures up to date
    caught_up(replica)
    old_name = settlement.name

    replica.query("SELECT pg_wal_replay_pause()", replica.dbname)
    _wait_for(lambda: replica.query("SELECT pg_is_wal_replay_paused()", replica.dbname)[0][0])
    Settlement.objects.filter(pk=settlement.pk).update(name="主库上刚改的名字")
    assert lagging(replica)

    with statements(REPLICA) as on_replica, statements(DEFAULT_DB_ALIAS) as on_primary:
        page = client.get(url)
        workbook = client.get(url, {"format": "xlsx"})
    assert page.status_code == 200 and workbook.status_code == 200
    body = page.content.decode()
    assert old_name in body and "主库上刚改的名字" not in body  # what the replica holds
    assert on_replica and all(READ_ONLY.match(sql) for sql in on_replica)
    assert any("communities_settlement" in sql for sql in on_replica)
    # The primary answered the sign-in and the rights, not the figures.
    primary_tables = set(re.findall(r'FROM "(\w+)"', " ".join(on_primary)))
    assert "django_session" in primary_tables and "communities_areascope" in primary_tables
    assert "communities_settlement" not in primary_tables
    assert not any(
        sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for sql in on_primary
    )

    replica.query("SELECT pg_wal_replay_resume()", replica.dbname)
    caught_up(replica)
    assert "主库上刚改的名字" in client.get(url).content.decode()


@with_replica
def test_exports_read_from_the_replica(client, demo, replica):
    caught_up(replica)
    manager = demo["manager"]
    client.force_login(manager)
    settlement = Settlement.objects.visible_to(manager).order_by("code").first()
    replica.query("SELECT pg_wal_replay_pause()", replica.dbname)
    Settlement.objects.filter(pk=settlement.pk).update(name="主库上刚改的名字")  # primary only
    assert lagging(replica)
    with statements(REPLICA) as on_replica:
        response = client.get(reverse("spreadsheets:export", args=["settlement", "csv"]))
    assert response.status_code == 200
    assert on_replica and all(READ_ONLY.match(sql) for sql in on_replica)
    assert any("communities_settlement" in sql for sql in on_replica)
    text = response.content.decode("utf-8-sig")
    assert settlement.name in text and "主库上刚改的名字" not in text


@with_replica
def test_the_look_back_window_is_counted_where_the_orm_would_read(demo, replica):
    """``history_counts`` writes its own SQL; it still goes where the router sends the
    history's reads: the replica inside a dashboard or export request, the primary
    everywhere else, with the same counts once the replica has caught up."""
    caught_up(replica)
    windows = {"day": Q(history_date__gte=timezone.now() - datetime.timedelta(days=1))}
    token = db_router._current.set(
        db_router._ReplicaReads(depth=len(connections[DEFAULT_DB_ALIAS].atomic_blocks))
    )
    try:
        with statements(REPLICA) as on_replica, statements(DEFAULT_DB_ALIAS) as on_primary:
            inside = engine.history_counts(windows)
    finally:
        db_router._current.reset(token)
    assert [sql for sql in on_replica if "model_label" in sql]
    assert not [sql for sql in on_primary if "model_label" in sql]
    with statements(REPLICA) as on_replica:
        outside = engine.history_counts(windows)
    assert not on_replica
    assert inside == outside and inside["day"]["communities.Household"] == 30


@with_replica
def test_nothing_is_written_to_the_replica(client, demo, replica):
    """Every statement the replica receives, over pages that read and pages that write, is a read."""
    caught_up(replica)
    with connections[REPLICA].cursor() as cursor, pytest.raises(Exception) as refused:
        cursor.execute("UPDATE communities_settlement SET name = 'x'")
    assert "read-only" in str(refused.value)  # a hot standby refuses writes in any case
    connections[REPLICA].close()

    manager = demo["manager"]
    settlement = Settlement.objects.visible_to(manager).order_by("code").first()
    client.force_login(manager)
    pages = {
        "dashboard": lambda: client.get(county_dashboard(settlement)),
        "dashboard.xlsx": lambda: client.get(county_dashboard(settlement), {"format": "xlsx"}),
        "import export": lambda: client.get(
            reverse("spreadsheets:export", args=["settlement", "xlsx"])
        ),
        "admin export": lambda: client.post(
            reverse("admin:communities_household_export"), {"format": "0", "resource": "0"}
        ),
    }
    everything = []
    for name, request in pages.items():
        with statements(REPLICA) as on_replica:
            assert request().status_code == 200, name
        assert any(re.search(r'FROM "communities_', sql) for sql in on_replica), name
        everything += on_replica
    # Pages that are neither dashboards nor exports, reading or writing: nothing to the replica.
    upload = SimpleUploadedFile("安置点.csv", "安置点编码,安置点名称\n".encode(), "text/csv")
    with statements(REPLICA) as on_replica:
        change = reverse("admin:communities_settlement_change", args=[settlement.pk])
        assert client.get(change).status_code == 200
        response = client.post(
            reverse("spreadsheets:upload"), {"kind": "settlement", "file": upload}
        )
        assert response.status_code == 302 and ImportJob.objects.filter(user=manager).exists()
    assert on_replica == []
    assert everything and all(READ_ONLY.match(sql) for sql in everything), [
        sql for sql in everything if not READ_ONLY.match(sql)
    ]


@with_replica
def test_readiness_checks_the_replica_too(client, replica):
    caught_up(replica)
    data = client.get("/readyz").json()
    assert data["checks"]["database_replica"]["ok"] is True


@with_replica
def test_a_withdrawn_area_holds_at_once_whatever_the_lag(client, demo, replica):
    """Rights come from the primary: a county user losing the county sees nothing of it."""
    user = demo["county"]
    settlement = (
        Settlement.objects.visible_to(user).select_related("county").order_by("code").first()
    )
    client.force_login(user)
    url = county_dashboard(settlement)
    assert client.get(url).status_code == 200
    caught_up(replica)
    replica.query("SELECT pg_wal_replay_pause()", replica.dbname)
    AreaScope.objects.filter(user=user).delete()
    elsewhere = Region.objects.filter(level=settlement.county.level).exclude(
        pk=settlement.county_id
    )
    AreaScope.objects.create(user=user, region=elsewhere.order_by("code").first())
    assert lagging(replica)
    assert client.get(url).status_code == 404


# --- the router's rules (every database, no replica needed) -------------------------------


@pytest.fixture
def marked(db):
    """As ReplicaReadsMiddleware marks a dashboard request (outside ATOMIC_REQUESTS here)."""
    token = db_router._current.set(
        db_router._ReplicaReads(depth=len(connections[DEFAULT_DB_ALIAS].atomic_blocks))
    )
    yield
    db_router._current.reset(token)


def test_outside_a_dashboard_or_export_everything_is_the_primary():
    router = ReplicaRouter()
    assert router.db_for_read(Household) == DEFAULT_DB_ALIAS
    assert router.db_for_write(Household) == DEFAULT_DB_ALIAS


def test_inside_reads_go_to_the_replica_except_rights_sessions_and_write_transactions(marked):
    router = ReplicaRouter()
    assert router.db_for_read(Household) == REPLICA
    assert router.db_for_read(Settlement) == REPLICA
    for model in (AreaScope, Session, get_user_model(), LiveState, DBTaskResult):
        assert router.db_for_read(model) == DEFAULT_DB_ALIAS, model
    with transaction.atomic():
        assert router.db_for_read(Household) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Household) == REPLICA
    # After any write, the request reads its own writes from the primary.
    assert router.db_for_write(Household) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Household) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA, "communities") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "communities") is None


def test_the_primary_only_apps_and_models_exist():
    """A misspelt label would silently send its reads to the replica."""
    labels = {config.label for config in apps.get_app_configs()}
    assert labels >= db_router.PRIMARY_APPS
    for label in db_router.PRIMARY_MODELS:
        assert apps.get_model(label)


@pytest.mark.django_db
def test_select_for_update_is_routed_as_a_write(marked):
    assert Household.objects.all().db == REPLICA
    assert Household.objects.select_for_update().db == DEFAULT_DB_ALIAS


@pytest.mark.parametrize(
    ("path", "replica"),
    [
        ("/dashboard/", True),
        ("/dashboard/520000/", True),
        ("/dashboard/settlement/1/", True),
        ("/admin/imports/export/household.xlsx", True),
        ("/admin/communities/household/export/", True),
        ("/admin/communities/household/", False),
        ("/admin/communities/household/1/change/", False),
        ("/admin/imports/", False),
        ("/admin/login/", False),
        ("/accounts/two-factor/verify/", False),
    ],
)
def test_which_views_read_from_the_replica(path, replica):
    assert reads_from_replica(resolve(path)) is replica
