"""Streaming many rows into a table, as fast as the database allows."""

from contextlib import contextmanager

from django.db import OperationalError, connection, models, transaction
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
    """``count`` new values of the sequence behind ``table``.``column`` (PostgreSQL), in order.

    The sequence is looked up once: ``nextval(pg_get_serial_sequence(…))`` over
    ``generate_series`` looks it up again for every row (100,000 ids: 0.23 s,
    against 0.03 s).
    """
    cursor.execute(
        "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
        "SELECT nextval(seq) FROM s, generate_series(1, %s) ORDER BY 1",
        [table, column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


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


@contextmanager
def empty_tables_loaded_whole(tables):
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

    Only tables that hold no row are changed, only on PostgreSQL, and only when
    their locks come within ``BULK_LOCK_TIMEOUT`` (a session reading them would
    otherwise wait for the whole load); any other table is filled as usual.
    Dropping a foreign key also locks the table it refers to until the caller's
    transaction ends: a demo step, run before the server starts.  The
    block must not read the tables through a dropped index (it would scan them).
    An error rolls the caller's transaction back, and with it the dropped
    definitions, which PostgreSQL keeps transactionally.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block or not tables:
        yield []
        return
    indexes, keys = _drop_for_loading(list(tables))
    yield sorted({table for table, _statement in indexes + keys})
    with connection.cursor() as cursor:
        for _table, statement in indexes + keys:  # the indexes before the keys check the rows
            cursor.execute(statement)


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
                with _locks_waited_for_briefly(cursor):
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
def _locks_waited_for_briefly(cursor):
    """A savepoint whose statements wait at most ``BULK_LOCK_TIMEOUT`` for another
    session's lock (``OperationalError`` past it); rolled back, it lets the locks it
    took go again."""
    with transaction.atomic():
        cursor.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_TIMEOUT}'")
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


def _drop_for_loading(tables):
    """Drop the empty ``tables``' foreign keys, then their indexes that no foreign key
    left needs (with the primary key or unique constraint an index is behind).

    Returns ``(indexes, keys)``, each a list of ``(table, statement)``: the
    statements that create them again, with the names and definitions PostgreSQL
    printed.
    """
    quote = connection.ops.quote_name
    indexes, keys, empty = [], [], []
    with connection.cursor() as cursor:
        run_waiting_checks(cursor)
        for table in sorted(set(tables)):
            try:
                with _locks_waited_for_briefly(cursor):
                    cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
                    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")
                    if cursor.fetchone()[0]:
                        raise _HoldsRows
            except (OperationalError, _HoldsRows):
                continue  # holds rows, or another session holds it: left as it is
            empty.append(table)
            cursor.execute(
                """
                SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname
                """,
                [quote(table)],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
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
    return indexes, keys
