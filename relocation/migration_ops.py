"""Migration operations the apps share."""

from django.db import migrations


def _field_indexes(schema_editor, model, column):
    """Names of the plain one-column indexes on ``column`` (not unique, not a LIKE twin)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(
        name
        for name, info in found.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
        and not name.endswith("_like")
    )


def drop_foreign_key_index(app_label, alter_field):
    """``alter_field`` (a foreign key's ``AlterField`` to ``db_index=False``), keeping its constraint.

    Django's ``AlterField`` drops the foreign key constraint, drops the index and
    adds the constraint again, which on PostgreSQL validates every row of the
    table while it locks out writes (minutes for the ten million rows of a
    province).  This drops only the index; its reverse creates it again.
    """
    model_name, field_name = alter_field.model_name, alter_field.name

    def drop(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        column = model._meta.get_field(field_name).column
        for name in _field_indexes(schema_editor, model, column):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def create(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
        if not _field_indexes(schema_editor, model, field.column):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.SeparateDatabaseAndState(
        state_operations=[alter_field],
        database_operations=[migrations.RunPython(drop, create)],
    )
