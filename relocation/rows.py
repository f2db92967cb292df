"""Streaming many rows into a table, as fast as the database allows."""

from contextlib import contextmanager

from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models.expressions import RawSQL

SQLITE_BATCH = 5000
IN_CHUNK = 5000


def in_lists(values, *, cast="bigint"):
    """Right-hand sides of ``__in`` lookups that together match ``values`` (distinct and
    sorted, ``None`` left out), for values that never hold a comma: integer ids
    (``cast="bigint"``, each passed through ``int()``: "1,2" is refused, not split) or
    hex hashes (``cast="text"``).

    PostgreSQL gets one, whatever their number: ``IN (SELECT unnest(…))`` over one
    comma-joined text that the server splits.  A list parameter is adapted value by
    value in Python (a third of a second for 100,000), and literal lists cost a
    round trip and a parse per chunk (100,000 ids: 1.6 s in chunks, 0.2 s as one
    text).  Other databases get chunks of ``IN_CHUNK`` literals.
    """
    values = sorted({v for v in values if v is not None})
    if not values:
        return
    if connection.vendor == "postgresql":
        text = ",".join(map(str, map(int, values)) if cast == "bigint" else values)
        yield RawSQL(f"SELECT unnest(string_to_array(%s, ',')::{cast}[])", [text])
        return
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def reserve_ids(cursor, table, count, column="id"):
    """``count`` new values of the sequence behind ``table``.``column`` (PostgreSQL), in order."""
    return reserve_ids_of(cursor, [(table, column, count)])[0]


def reserve_ids_of(cursor, wanted):
    """For each ``(table, column, count)`` of ``wanted``, ``count`` new values of the
    sequence behind ``table``.``column``, in order; one statement for them all (PostgreSQL).

    Each sequence is looked up once: ``nextval(pg_get_serial_sequence(…))`` over
    ``generate_series`` looks it up again for every row (100,000 ids: 0.23 s,
    against 0.03 s).  The demo's communities step takes the ids of a settlement's
    nine tables at once (one statement a settlement instead of nine).
    """
    tables, columns, counts = zip(*wanted, strict=True) if wanted else ((), (), ())
    cursor.execute(
        "WITH s AS MATERIALIZED ("
        "  SELECT t.place, pg_get_serial_sequence(t.name, t.col)::regclass AS seq, t.n"
        "  FROM unnest(%s::text[], %s::text[], %s::int[]) WITH ORDINALITY AS t(name, col, n, place)"
        ") SELECT s.place, nextval(s.seq) AS id FROM s, generate_series(1, s.n) ORDER BY 1, 2",
        [list(tables), list(columns), list(counts)],
    )
    ids = [[] for _ in wanted]
    for place, pk in cursor.fetchall():
        ids[place - 1].append(pk)
    return ids


@contextmanager
def rows_into(cursor, table, fields):
    """``write_row(values)`` sending rows of ``fields`` (model fields, in order) into ``table``.

    ``COPY`` on PostgreSQL (psycopg 3); on SQLite one prepared ``INSERT`` run by
    ``executemany`` in batches, each value adapted as the ORM would store it.
    No model instance is built: the importer's new records and the dashboards'
    millions of figures go this way.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    if connection.vendor == "postgresql":
        # As Django's own cursor calls: a duplicate key is an IntegrityError.
        with (
            connection.wrap_database_errors,
            cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy,
        ):
            yield copy.write_row
        return
    adapters = [_sqlite_adapter(f) for f in fields]
    sql = f"INSERT INTO {quote(table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    batch = []

    def write_row(values):
        batch.append(
            [v if v is None or a is None else a(v) for a, v in zip(adapters, values, strict=True)]
        )
        if len(batch) >= SQLITE_BATCH:
            cursor.executemany(sql, batch)
            batch.clear()

    yield write_row
    if batch:
        cursor.executemany(sql, batch)


def _sqlite_adapter(field):
    """How the ORM would store a value of ``field`` on SQLite, or None when as it is."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        last = [None, None]  # the same moment on every row of a write: adapt it once

        def adapt(value):
            if value is not last[0]:
                last[:] = [value, ops.adapt_datetimefield_value(value)]
            return last[1]

        return adapt
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.TimeField):
        return ops.adapt_timefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.JSONField | models.UUIDField):
        return lambda v: field.get_db_prep_save(v, connection)
    return None


#: How long ``empty_tables_loaded_whole`` waits for another session's lock on a table.
BULK_LOCK_TIMEOUT = "5s"


def appended_ids(tables):
    """``{table: ("id", lowest)}`` for ``check_written_keys``' ``appended``: the
    lowest id that the sequence behind each of ``tables``' ``id`` can give from now
    on (PostgreSQL), for a load that takes its ids from those sequences."""
    found = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))",
                [connection.ops.quote_name(table)],
            )
            found[table] = ("id", (cursor.fetchone()[0] or 0) + 1)
    return found


@contextmanager
def empty_tables_loaded_whole(tables, appended=None):
    """Fill ``tables`` (names) inside the caller's transaction, building their indexes once.

    PostgreSQL updates every index of a table for every row ``COPY`` writes, and
    queues a check for every foreign key of the row until the transaction commits
    (Django's foreign keys are ``DEFERRABLE INITIALLY DEFERRED``).  A table filled
    whole from empty gets them faster at the end, as ``pg_restore`` does it: this
    drops the tables' foreign keys and indexes, and their primary keys and unique
    constraints that no remaining foreign key refers to, and creates them again
    when the block ends, with the same names and definitions.  Adding a foreign
    key checks every row with one join instead of one lookup per row; a unique
    index built once checks every row too, so a duplicate still fails the load.
    The demo's social-protection step: 38.4 s -> 22.0 s at 50,000 households,
    321 s -> 246 s at 500,000 for the foreign keys and plain indexes; COPY of its
    1.1 million rights at 50,000 households, 5.2 s into a table with its primary
    key and unique index, 1.3 s into one without them, and 0.9 s to build both.

    Dropping a foreign key locks the table it refers to as well, until the
    transaction ends: nobody else could read the people while the employment
    records were loaded.  Where the session may skip key triggers
    (``may_skip_key_triggers``: a superuser, as ``load_demo`` usually runs), the
    keys that refer to other tables stay in place instead, unchecked during the
    block (``session_replication_role = replica``), and every key of every table
    the transaction wrote is checked when it ends, one join per key
    (``check_written_keys``): the tables they refer to are only read, so demo
    steps load side by side (``relocation.demo.running``).

    Only tables that hold no row are changed, only on PostgreSQL, and only when
    their locks come within ``BULK_LOCK_TIMEOUT`` (a session reading them would
    otherwise wait for the whole load); any other table is filled as usual.  The
    block must not read the tables through a dropped index (it would scan them).
    An error rolls the caller's transaction back, and with it the dropped
    definitions, which PostgreSQL keeps transactionally.  ``appended``: tables with
    rows that the block only adds rows to, with their lowest new id
    (``appended_ids``): their keys are checked over the new rows alone.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block or not tables:
        yield []
        return
    with connection.cursor() as cursor:
        unchecked = may_skip_key_triggers(cursor)
    indexes, keys, dropped = _drop_for_loading(list(tables), keep_outside=unchecked)
    if unchecked:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('session_replication_role')")
            role = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('session_replication_role', 'replica', true)")
    yield sorted({table for table, _statement in indexes + keys})
    with connection.cursor() as cursor:
        if unchecked:  # the triggers of what is written from here on run again
            cursor.execute("SELECT set_config('session_replication_role', %s, true)", [role])
        for _table, statement in indexes + keys:  # the indexes before the keys check the rows
            cursor.execute(statement)
        if unchecked:
            check_written_keys(cursor, skip=dropped, appended=appended)


def may_skip_key_triggers(cursor):
    """Whether this session may turn its foreign keys' triggers off
    (``session_replication_role``: a superuser's, or granted on PostgreSQL 15 and later)
    while the statistics ``check_written_keys`` relies on are collected."""
    if connection.pg_version >= 150000:
        may = "has_parameter_privilege('session_replication_role', 'SET')"
    else:
        may = "current_setting('is_superuser') = 'on'"
    cursor.execute(f"SELECT {may} AND current_setting('track_counts')::boolean")
    return cursor.fetchone()[0]


#: The foreign keys to check after a load: those of the tables this transaction
#: inserted into or updated, and those referring to tables it updated or deleted from.
_WRITTEN_KEYS = """
    WITH written AS (
        SELECT relid, n_tup_ins + n_tup_upd > 0 AS wrote, n_tup_upd + n_tup_del > 0 AS took
        FROM pg_stat_xact_user_tables
    )
    SELECT k.conname, k.conrelid::regclass::text, k.confrelid::regclass::text,
           ARRAY(SELECT quote_ident(a.attname) FROM unnest(k.conkey) WITH ORDINALITY c(n, i)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = c.n ORDER BY c.i),
           ARRAY(SELECT quote_ident(a.attname) FROM unnest(k.confkey) WITH ORDINALITY c(n, i)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = c.n ORDER BY c.i),
           -- rows of either table updated or deleted: the older rows are checked too
           EXISTS (SELECT 1 FROM written w WHERE w.took
                   AND w.relid IN (k.conrelid, k.confrelid)) AS changed
    FROM pg_constraint k
    WHERE k.contype = 'f' AND (
        EXISTS (SELECT 1 FROM written w WHERE w.relid = k.conrelid AND w.wrote)
        OR EXISTS (SELECT 1 FROM written w WHERE w.relid = k.confrelid AND w.took)
    )
    ORDER BY 2, 1
"""


def check_written_keys(cursor, skip=(), appended=None):
    """Check the foreign keys of what this transaction wrote, as ``ADD CONSTRAINT``
    checks a new key: one anti-join over the whole table per key.  Raises
    ``IntegrityError`` naming the key and a value not found (PostgreSQL's words).

    For a load with the keys' triggers off (``empty_tables_loaded_whole``); ``skip``:
    ``(table, name)`` of the keys just added again, checked already.  ``appended``:
    ``{table: (column, lowest)}`` for tables this transaction only added rows to,
    each with ``column`` at least ``lowest`` (ids from the table's sequence,
    ``appended_ids``): the keys of such a table are checked over those rows alone,
    unless the transaction updated or deleted rows of the table or of the one a key
    refers to (``pg_stat_xact_user_tables``): the whole table is checked then.
    The national demo commits a province at a time: checked whole, the people's key
    to their households was a scan of every province written before (13 s a
    province at the end, on 9.7 million people).
    """
    quote = connection.ops.quote_name
    appended = appended or {}
    cursor.execute(_WRITTEN_KEYS)
    for name, table, target, columns, targets, changed in cursor.fetchall():
        if (table, name) in skip:
            continue
        match = " AND ".join(f"t.{c} = r.{f}" for c, f in zip(columns, targets, strict=True))
        given = " AND ".join(f"t.{c} IS NOT NULL" for c in columns)
        params = []
        if table in appended and not changed:
            column, lowest = appended[table]
            given += f" AND t.{quote(column)} >= %s"
            params.append(lowest)
        orphans = (
            f"FROM ONLY {table} t WHERE {given} "
            f"AND NOT EXISTS (SELECT 1 FROM ONLY {target} r WHERE {match})"
        )
        cursor.execute(f"SELECT count(*) {orphans}", params)  # planned whole: a hash anti-join
        if cursor.fetchone()[0]:
            cursor.execute(
                f"SELECT {', '.join(f't.{c}' for c in columns)} {orphans} LIMIT 1", params
            )
            values = ", ".join(str(v) for v in cursor.fetchone())
            raise IntegrityError(
                f'insert or update on table "{table}" violates foreign key constraint "{name}"\n'
                f"DETAIL:  Key ({', '.join(columns)})=({values}) is not present in table "
                f'"{target}".'
            )


@contextmanager
def keys_referring_checked_once(tables):
    """Delete rows of ``tables`` (names) inside the caller's transaction, with the
    foreign keys that refer to them checked once, when the block ends.

    PostgreSQL checks, at commit, every foreign key that may refer to each deleted
    row, one lookup per key and row (Django's keys are ``DEFERRABLE INITIALLY
    DEFERRED``): removing the 2-million-people demo's people and households spent
    over four minutes there, on tables already emptied.  This drops those keys
    (the keys of other tables, and of ``tables`` themselves, that refer to
    ``tables``) and adds them again when the block ends, with the same names and
    definitions: adding a key checks every row of its table with one join, so a
    row still referring to a deleted one fails the caller's transaction as the
    commit would have.  Only on PostgreSQL, inside a transaction, and only the
    keys of tables whose locks come within ``BULK_LOCK_TIMEOUT``; the others are
    checked row by row, as usual.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block or not tables:
        yield
        return
    quote = connection.ops.quote_name
    keys = []
    with connection.cursor() as cursor:
        run_waiting_checks(cursor)
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND confrelid = ANY(%s::regclass[])
            ORDER BY 1, 2
            """,
            [[quote(table) for table in sorted(set(tables))]],
        )
        for table, name, definition in cursor.fetchall():
            try:
                with locks_waited_for_briefly(cursor):
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
            except OperationalError:
                continue  # another session holds the table: this key is checked per row
            keys.append(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    yield
    with connection.cursor() as cursor:
        run_waiting_checks(cursor)  # those of the keys left in place
        for statement in keys:
            cursor.execute(statement)


@contextmanager
def locks_waited_for_briefly(cursor, timeout=None):
    """A savepoint whose statements wait at most ``timeout`` (default
    ``BULK_LOCK_TIMEOUT``) for another session's lock (``OperationalError`` past it);
    rolled back, it lets the locks it took go again."""
    with transaction.atomic():
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [timeout or BULK_LOCK_TIMEOUT]
        )
        yield
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")


def run_waiting_checks(cursor):
    """Run the key checks this transaction queued for its commit, now, as the commit
    would (a table with checks waiting cannot be altered: its keys' triggers cannot
    be dropped or added), then defer the keys again, as Django declares them."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class _HoldsRows(Exception):
    """A table ``empty_tables_loaded_whole`` was given is not empty (its savepoint rolls back)."""


def _drop_for_loading(tables, keep_outside=False):
    """Drop the empty ``tables``' foreign keys (with ``keep_outside``, only those that
    refer to one of them), then their indexes that no foreign key left needs (with
    the primary key or unique constraint an index is behind).

    Returns ``(indexes, keys, dropped)``: ``indexes`` and ``keys`` lists of
    ``(table, statement)``, the statements that create them again, with the names
    and definitions PostgreSQL printed; ``dropped`` the ``(table, name)`` of the keys.
    """
    quote = connection.ops.quote_name
    indexes, keys, dropped, empty = [], [], set(), []
    with connection.cursor() as cursor:
        run_waiting_checks(cursor)
        for table in sorted(set(tables)):
            try:
                with locks_waited_for_briefly(cursor):
                    cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
                    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")
                    if cursor.fetchone()[0]:
                        raise _HoldsRows
            except (OperationalError, _HoldsRows):
                continue  # holds rows, or another session holds it: left as it is
            empty.append(table)
        for table in empty:
            cursor.execute(
                """
                SELECT conname, pg_get_constraintdef(oid), confrelid = ANY(%s::regclass[])
                FROM pg_constraint
                WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname
                """,
                [[quote(t) for t in empty], quote(table)],
            )
            for name, definition, inside in cursor.fetchall():
                if keep_outside and not inside:
                    continue  # left in place: dropping it would lock the table it refers to
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
                dropped.add((table, name))
                keys.append(
                    (table, f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
                )
        # The keys of all the tables gone, an index goes unless another table's
        # key refers to it or an exclusion constraint owns it.
        for table in empty:
            cursor.execute(
                """
                SELECT c.relname, pg_get_indexdef(i.indexrelid), k.conname,
                       pg_get_constraintdef(k.oid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                LEFT JOIN pg_constraint k
                  ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype <> 'f'
                WHERE i.indrelid = %s::regclass AND (k.oid IS NULL OR k.contype IN ('p', 'u'))
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid
                  )
                ORDER BY c.relname
                """,
                [quote(table)],
            )
            for index, index_definition, constraint, definition in cursor.fetchall():
                if constraint:
                    alter = f"ALTER TABLE {quote(table)}"
                    cursor.execute(f"{alter} DROP CONSTRAINT {quote(constraint)}")
                    indexes.append(
                        (table, f"{alter} ADD CONSTRAINT {quote(constraint)} {definition}")
                    )
                else:
                    cursor.execute(f"DROP INDEX {quote(index)}")
                    indexes.append((table, index_definition))
    return indexes, keys, dropped


#: Where ``set_aside_plain_indexes`` keeps the definitions of the indexes it dropped
#: until ``restore_plain_indexes`` creates them again (a table of its own, made and
#: dropped by them: it exists only while a load that set indexes aside is unfinished).
SET_ASIDE_TABLE = "relocation_indexes_set_aside"


def set_aside_plain_indexes(tables):
    """Drop the plain indexes of ``tables`` (names) for a load that commits in many
    transactions (PostgreSQL; elsewhere nothing), keeping their definitions.

    ``empty_tables_loaded_whole`` builds a table's indexes once, but only for a
    load that fills an empty table in one transaction.  The national demo commits
    a province at a time: from the second province on, PostgreSQL updated the
    people's and households' plain indexes for every row (71 % of its time writing
    them, by ``perf``), and a province took twice as long as the first.

    A plain index is one that is neither unique nor behind a constraint: primary
    keys, unique indexes and foreign keys stay, so every transaction is checked as
    before.  The definitions PostgreSQL prints are kept in ``SET_ASIDE_TABLE``,
    committed with the drops, so that ``restore_plain_indexes`` creates the same
    indexes again even after a load that was interrupted before it could.

    Returns the names dropped; none when a table's lock did not come within
    ``BULK_LOCK_TIMEOUT`` (another session reads it: the load then updates the
    indexes as usual).
    """
    if connection.vendor != "postgresql" or not tables:
        return []
    quote = connection.ops.quote_name
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            with locks_waited_for_briefly(cursor):
                for table in sorted(set(tables)):
                    cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {quote(SET_ASIDE_TABLE)} "
                "(name text PRIMARY KEY, definition text NOT NULL)"
            )
            cursor.execute(
                """
                SELECT c.relname, pg_get_indexdef(i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                ORDER BY c.relname
                """,
                [[quote(table) for table in sorted(set(tables))]],
            )
            dropped = cursor.fetchall()
            for name, definition in dropped:
                cursor.execute(
                    f"INSERT INTO {quote(SET_ASIDE_TABLE)} (name, definition) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO NOTHING",
                    [name, definition],
                )
                cursor.execute(f"DROP INDEX {quote(name)}")
    except OperationalError:
        return []
    return [name for name, _definition in dropped]


def restore_plain_indexes():
    """Create again the indexes ``set_aside_plain_indexes`` dropped (those still
    missing), with their definitions, in one transaction that also drops
    ``SET_ASIDE_TABLE``; returns their names (none when nothing was set aside, and
    always none elsewhere than PostgreSQL)."""
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [quote(SET_ASIDE_TABLE)])
        if not cursor.fetchone()[0]:
            return []
        cursor.execute(
            f"""
            SELECT s.name, s.definition FROM {quote(SET_ASIDE_TABLE)} s
            WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = s.name
                              AND c.relnamespace = current_schema()::regnamespace)
            ORDER BY s.name
            """
        )
        missing = cursor.fetchall()
        for _name, definition in missing:
            cursor.execute(definition)
        cursor.execute(f"DROP TABLE {quote(SET_ASIDE_TABLE)}")
    return [name for name, _definition in missing]
