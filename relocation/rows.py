"""Streaming many rows into a table, as fast as the database allows."""

from contextlib import contextmanager

from django.db import connection, models
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
