"""Inserting many new records, with their history rows, as fast as the database allows.

New rows bypass the ORM's ``bulk_create``, whose SQL compilation is most of
its cost (a 20,000-person roster: 36 s of 49 s compiling ``INSERT`` statements
of 999 parameters each on SQLite).  Ids are reserved first, then the records and
their history rows (``+``, the importer, ``导入：<file>``, the same moment) are
streamed: with ``COPY`` on PostgreSQL (psycopg 3; ids from the table's
sequence), with one prepared ``INSERT`` run by ``executemany`` on SQLite (ids
after the table's highest, which is safe because the caller holds SQLite's one
write lock).  Outside a transaction on SQLite the querysets' own ``bulk_create``
runs.  Either way encrypted columns are sealed (``communities.crypto``) and the
history's personal data tokenised (``communities.history_pii``) exactly as
``bulk_create`` on the models' querysets (``communities.history``) does.
"""

from django.db import connection, models
from django.utils import timezone

from communities.crypto import seal_writer
from communities.history_pii import tokenizing_writer
from relocation.rows import reserve_ids, rows_into


def _raw_inserts_possible():
    if connection.vendor == "postgresql":
        return True
    # SQLite: ids after the highest are only safe while this connection holds the lock.
    return connection.vendor == "sqlite" and connection.in_atomic_block


def insert(model, objs, ctx, *, batch_size=2000):
    """Create ``objs`` (unsaved instances) and one history row each; sets their pks."""
    objs = list(objs)
    if not objs:
        return
    if not _raw_inserts_possible():
        model.objects.bulk_create(objs, batch_size=batch_size, **ctx.write_kwargs())
        return
    if hasattr(model, "set_derived_fields"):
        # What the models' querysets do before a bulk insert (birth date and
        # sex from the ID number; net and per-capita income).
        for obj in objs:
            obj.set_derived_fields()
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for field in fields:
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            for obj in objs:
                setattr(obj, field.attname, now)
        if field.is_relation:
            for obj in objs:
                related = obj._state.fields_cache.get(field.name)
                if related is not None and getattr(obj, field.attname) is None:
                    setattr(obj, field.attname, related.pk)
    pk = model._meta.pk
    with connection.cursor() as cursor:
        for obj, pk_value in zip(objs, _reserve_ids(cursor, model, len(objs)), strict=True):
            setattr(obj, pk.attname, pk_value)
            obj._state.adding = False
            obj._state.db = connection.alias
        names = [f.attname for f in [pk, *fields]]
        history_fields, extra = _history(model, ctx, now)
        history_names = [f.attname for f in history_fields]
        _copy_with_history(
            cursor,
            model,
            [pk, *fields],
            ([getattr(obj, name) for name in names] for obj in objs),
            history_fields,
            ([extra[a] if a in extra else getattr(obj, a) for a in history_names] for obj in objs),
        )


def insert_rows(model, rows, ctx, count=None):
    """Like ``insert`` for rows given as {attname: value} with every column filled in.

    The roster's 100,000 new people go this way: no model instance is built at
    all.  The caller has set the derived columns.  Each row gets its new id.
    ``rows`` may be an iterator that makes them, given with their ``count``: each
    row is then made as it is written (on PostgreSQL, while the server writes the
    ones before it).
    """
    if count is None:
        rows = list(rows)
        count = len(rows)
    if not count:
        return
    if not _raw_inserts_possible():
        rows = list(rows)
        objs = model.objects.bulk_create(
            [model(**row) for row in rows], batch_size=2000, **ctx.write_kwargs()
        )
        for row, obj in zip(rows, objs, strict=True):
            row[model._meta.pk.attname] = obj.pk
        return
    now = timezone.now()
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [
        f.attname
        for f in fields
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)
    ]
    history_fields, extra = _history(model, ctx, now)
    history_names = [f.attname for f in history_fields]
    all_names = [f.attname for f in [pk, *fields]]
    made = []  # the rows streamed, for their history rows

    def streamed(ids):
        # strict: as many rows as ids reserved, or the transaction fails
        for row, pk_value in zip(rows, ids, strict=True):
            row[pk.attname] = pk_value
            for name in stamped:
                row[name] = now
            made.append(row)
            yield [row[name] for name in all_names]

    with connection.cursor() as cursor:
        _copy_with_history(
            cursor,
            model,
            [pk, *fields],
            streamed(_reserve_ids(cursor, model, count)),
            history_fields,
            ([extra[a] if a in extra else row[a] for a in history_names] for row in made),
        )


def _copy_with_history(cursor, model, fields, values, history_fields, history_values):
    """Stream the rows, then their history rows (values in the fields' order).

    Encrypted columns are sealed; the history's ID numbers and phones are
    tokenized with the keyed hashes the live rows just computed (one HMAC each).
    """
    hashes = {}
    with rows_into(cursor, model._meta.db_table, fields) as write_row:
        write = seal_writer(write_row, fields, hashes)
        for row in values:
            write(row)
    with rows_into(cursor, model.history.model._meta.db_table, history_fields) as write_row:
        write = seal_writer(tokenizing_writer(write_row, history_fields, hashes), history_fields)
        for row in history_values:
            write(row)


def _history(model, ctx, now):
    """The history table's columns (its own id left to the database) and their fixed values."""
    history = model.history.model
    extra = {
        "history_date": now,
        "history_change_reason": ctx.reason,
        "history_type": "+",
        "history_user_id": ctx.user.pk if ctx.user is not None else None,
    }
    return [f for f in history._meta.concrete_fields if not f.primary_key], extra


def _reserve_ids(cursor, model, count):
    table, column = model._meta.db_table, model._meta.pk.column
    if connection.vendor == "postgresql":
        return reserve_ids(cursor, table, count, column)
    quote = connection.ops.quote_name
    cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")
    top = cursor.fetchone()[0] or 0
    # AUTOINCREMENT tables never reuse the ids of deleted rows: start after those too.
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    found = cursor.fetchone()
    start = max(top, found[0] if found else 0) + 1
    return range(start, start + count)


def touch(objs):
    """``updated_at`` as ``save()`` would set it (bulk_update leaves auto_now alone)."""
    now = timezone.now()
    for obj in objs:
        obj.updated_at = now
