"""Backup and restore: a backup restored into an empty database has the same rows.

The suite's own database (SQLite, or PostgreSQL when ``DATABASE_URL`` says so)
is backed up with ``backup_db`` and restored with ``restore_db`` into a fresh
database the test creates (and on PostgreSQL drops); every table's row count
must match.  The SQLite mechanics (online backup while another connection
writes) are tested on SQLite files whatever the suite runs on.
"""

import sqlite3
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from communities.models import Household, Person
from relocation.backups import services

KEY_TABLES = ("communities_person", "communities_household", "communities_region", "auth_user")


def url_for(settings_dict, name):
    auth = settings_dict["USER"] + (
        f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    )
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{auth}@{settings_dict['HOST']}{port}/{name}"


@pytest.fixture
def empty_database(tmp_path):
    """The URL of a new, empty database of the suite's kind; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = services.database(url_for(connection.settings_dict, "postgres"))
    params = admin.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(connection.settings_dict, name)
    finally:
        with psycopg.connect(**params, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_database_has_every_row(world, tmp_path, empty_database):
    source = services.table_counts(connection)
    assert source["communities_person"] == Person.objects.count() > 0
    assert source["communities_household"] == Household.objects.count() > 0
    path = tmp_path / ("backup.dump" if connection.vendor == "postgresql" else "backup.sqlite3")

    call_command("backup_db", str(path))
    assert services.file_kind(path) == connection.vendor
    call_command("restore_db", str(path), target=empty_database)

    target = services.database(empty_database)
    try:
        restored = services.table_counts(target)
    finally:
        target.close()
    assert restored == source  # every table, every row count
    assert all(restored[table] > 0 for table in KEY_TABLES)

    # Again into the now full database: refused, nothing changed ...
    with pytest.raises(CommandError, match="目标数据库不是空的"):
        call_command("restore_db", str(path), target=empty_database)
    # ... unless asked to replace it.
    call_command("restore_db", str(path), target=empty_database, replace=True)
    target = services.database(empty_database)
    try:
        assert services.table_counts(target) == source
    finally:
        target.close()


def make_sqlite(path, rows):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.executemany("INSERT INTO people (name) VALUES (?)", [(f"人{i}",) for i in range(rows)])
    db.executemany("INSERT INTO notes (body) VALUES (?)", [("备注",)] * 7)
    db.commit()
    return db


@pytest.mark.django_db  # pytest-django opens no connection without it
def test_sqlite_backup_is_online_and_restores_exactly(tmp_path):
    source_path, backup_path = tmp_path / "live.sqlite3", tmp_path / "backup.sqlite3"
    writer = make_sqlite(source_path, 5000)
    writer.execute("BEGIN IMMEDIATE")  # the job worker in the middle of a commit
    writer.execute("INSERT INTO people (name) VALUES ('未提交')")
    source = services.database(f"sqlite:///{source_path}")
    try:
        counts = services.backup(backup_path, source)
    finally:
        source.close()
    writer.rollback()
    writer.close()
    assert counts == {"notes": 7, "people": 5000}  # the committed snapshot

    target_url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    target = services.database(target_url)
    try:
        assert services.restore(backup_path, target) == counts
    finally:
        target.close()
    restored = sqlite3.connect(tmp_path / "empty.sqlite3")
    assert restored.execute("SELECT name FROM people WHERE id = 5000").fetchone() == ("人4999",)
    restored.close()


@pytest.mark.django_db
def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(tmp_path):
    target_path = tmp_path / "target.sqlite3"
    make_sqlite(target_path, 3).close()
    target = f"sqlite:///{target_path}"
    garbage = tmp_path / "notes.txt"
    garbage.write_text("不是备份")
    with pytest.raises(CommandError, match="不是本系统的备份文件"):
        call_command("restore_db", str(garbage), target=target, replace=True)
    postgres_dump = tmp_path / "other.dump"
    postgres_dump.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    with pytest.raises(CommandError, match="备份文件是 postgresql 格式，不能恢复到 sqlite 数据库"):
        call_command("restore_db", str(postgres_dump), target=target, replace=True)
    check = sqlite3.connect(target_path)
    assert check.execute("SELECT COUNT(*) FROM people").fetchone() == (3,)
    check.close()
