"""Backing up and restoring the whole database, online.

* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the client
  programs must be installed and at least as new as the server).
* SQLite: the sqlite3 backup API, which copies a consistent snapshot while the
  web server and the job worker go on working (WAL mode), and writes the
  restored pages into the live file the same way.

A restore goes into an empty database unless ``replace`` is given; either way
it compares the restored tables' row counts with the backup's.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import environ
from django.db import connections
from django.db.utils import ConnectionHandler
from django.utils.translation import gettext as _

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Why a backup or restore cannot be done; the message is for the operator."""


def database(url=None):
    """A Django connection to ``url`` (``DATABASE_URL`` syntax), or to the default database."""
    if url is None:
        return connections["default"]
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "relocation.sqlite"
    return ConnectionHandler({"default": config})["default"]


def table_counts(connection):
    """``{table: rows}`` for every table of the database."""
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def sqlite_file_counts(path):
    """``table_counts`` of an SQLite file, opened read-only."""
    connection = database(f"sqlite:///{path}")
    connection.settings_dict["OPTIONS"] = {**connection.settings_dict["OPTIONS"]}
    try:
        return table_counts(connection)
    finally:
        connection.close()


def file_kind(path):
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(
        _("%(path)s 不是本系统的备份文件（既不是 SQLite 数据库，也不是 pg_dump 自定义格式）。")
        % {"path": path}
    )


def _pg_env_and_args(connection):
    settings = connection.settings_dict
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    args = ["--dbname", settings["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            args += [flag, str(settings[key])]
    return env, args


def _program(name):
    found = shutil.which(name)
    if not found:
        raise BackupError(
            _("找不到 %(name)s。请安装 PostgreSQL 客户端程序（版本不低于服务器）。")
            % {"name": name}
        )
    return found


def _run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            _("%(program)s 失败：%(error)s")
            % {"program": Path(command[0]).name, "error": result.stderr.strip()[-2000:]}
        )


def backup(path, connection=None):
    """Write a backup of the database to ``path``; returns its ``table_counts``."""
    connection = connection or database()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args(connection)
        command = [_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
        _run([*command, "--file", str(partial), *args], env)
        counts = table_counts(connection)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(partial)
        try:
            # One step: a consistent snapshot; in WAL mode writers go on meanwhile.
            connection.connection.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            if target.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(_("备份文件校验失败，请重试。"))
        finally:
            target.close()
        counts = sqlite_file_counts(partial)
    else:
        raise BackupError(_("不支持备份 %(vendor)s 数据库。") % {"vendor": connection.vendor})
    os.replace(partial, path)
    return counts


def restore(path, connection=None, replace=False):
    """Restore the backup at ``path``; returns the restored ``table_counts``.

    Refuses (and changes nothing) when the file is not a backup of the same
    kind of database, or when the database has tables and ``replace`` is off.
    """
    connection = connection or database()
    kind = file_kind(path)
    if kind != connection.vendor:
        raise BackupError(
            _("备份文件是 %(kind)s 格式，不能恢复到 %(vendor)s 数据库。")
            % {"kind": kind, "vendor": connection.vendor}
        )
    with connection.cursor() as cursor:
        existing = connection.introspection.table_names(cursor)
    if existing and not replace:
        raise BackupError(
            _("目标数据库不是空的（有 %(count)d 张表），没有恢复。确实要覆盖时请加 --replace。")
            % {"count": len(existing)}
        )
    if kind == "postgresql":
        env, args = _pg_env_and_args(connection)
        command = [_program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        if existing:
            command += ["--clean", "--if-exists"]
        connection.close()
        _run([*command, "--single-transaction", *args, str(path)], env)
        expected = None
    else:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            expected = sqlite_file_counts(path)
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    restored = table_counts(connection)
    if expected is not None and restored != expected:
        raise BackupError(_("恢复后的行数与备份不一致，请检查。"))
    return restored


def default_path(vendor, directory):
    from django.utils import timezone

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    suffix = "dump" if vendor == "postgresql" else "sqlite3"
    return Path(directory) / f"relocation-{stamp}.{suffix}"
