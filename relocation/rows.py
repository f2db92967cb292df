"""Streaming many rows into a table, as fast as the database allows."""

from contextlib import contextmanager

from django.db import connection, models

SQLITE_BATCH = 5000


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
