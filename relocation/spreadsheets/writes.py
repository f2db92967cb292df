"""Inserting many new records, with their history rows, as fast as the database allows.

On PostgreSQL new rows go in with ``COPY`` (psycopg 3): ids are reserved from
the table's sequence in one query, then the records and their history rows
(``+``, the importer, ``导入：<file>``, the same moment) are streamed.  That is
what ``bulk_create`` on the models' querysets does (``communities.history``),
without Django compiling 2.5 million parameters for a 100,000-row roster.
Elsewhere (SQLite) the querysets' own ``bulk_create`` runs.
"""

from django.db import connection, models
from django.utils import timezone

from communities.crypto import seal_writer
from communities.history_pii import tokenizing_writer


def insert(model, objs, ctx, *, batch_size=2000):
    """Create ``objs`` (unsaved instances) and one history row each; sets their pks."""
    objs = list(objs)
    if not objs:
        return
    if connection.vendor != "postgresql":
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
    table = model._meta.db_table
    pk = model._meta.pk
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(objs)],
        )
        for obj, (pk_value,) in zip(objs, cursor.fetchall(), strict=True):
            setattr(obj, pk.attname, pk_value)
            obj._state.adding = False
            obj._state.db = connection.alias
        _copy(cursor, table, [pk, *fields], objs, quote)
        history = model.history.model
        extra = {
            "history_date": now,
            "history_change_reason": ctx.reason,
            "history_type": "+",
            "history_user_id": ctx.user.pk if ctx.user is not None else None,
        }
        hist_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(quote(f.column) for f in hist_fields)
        getters = [(f.attname, extra.get(f.attname)) for f in hist_fields]
        with cursor.copy(f"COPY {quote(history._meta.db_table)} ({columns}) FROM STDIN") as copy:
            write = seal_writer(tokenizing_writer(copy.write_row, hist_fields), hist_fields)
            for obj in objs:
                write([extra[a] if a in extra else getattr(obj, a) for a, _d in getters])


def _copy(cursor, table, fields, objs, quote):
    columns = ", ".join(quote(f.column) for f in fields)
    names = [f.attname for f in fields]
    with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        write = seal_writer(copy.write_row, fields)
        for obj in objs:
            write([getattr(obj, name) for name in names])


def insert_rows(model, rows, ctx):
    """Like ``insert`` for rows given as {attname: value} with every column filled in.

    The roster's 100,000 new people go this way: on PostgreSQL no model
    instance is built at all.  The caller has set the derived columns.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**row) for row in rows], batch_size=2000, **ctx.write_kwargs()
        )
        return
    now = timezone.now()
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [
        f.attname
        for f in fields
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)
    ]
    names = [f.attname for f in fields]
    quote = connection.ops.quote_name
    history = model.history.model
    extra = {
        "history_date": now,
        "history_change_reason": ctx.reason,
        "history_type": "+",
        "history_user_id": ctx.user.pk if ctx.user is not None else None,
    }
    hist_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    hist_names = [f.attname for f in hist_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(rows)],
        )
        for row, (pk_value,) in zip(rows, cursor.fetchall(), strict=True):
            row[pk.attname] = pk_value
            for name in stamped:
                row[name] = now
        columns = ", ".join(quote(f.column) for f in [pk, *fields])
        with cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            write = seal_writer(copy.write_row, [pk, *fields])
            all_names = [pk.attname, *names]
            for row in rows:
                write([row[name] for name in all_names])
        columns = ", ".join(quote(f.column) for f in hist_fields)
        with cursor.copy(f"COPY {quote(history._meta.db_table)} ({columns}) FROM STDIN") as copy:
            write = seal_writer(tokenizing_writer(copy.write_row, hist_fields), hist_fields)
            for row in rows:
                row.update(extra)
                write([row[name] for name in hist_names])


def touch(objs):
    """``updated_at`` as ``save()`` would set it (bulk_update leaves auto_now alone)."""
    now = timezone.now()
    for obj in objs:
        obj.updated_at = now
