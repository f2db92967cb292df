"""Numbered names sort by their numbers: 第2网格 before 第10网格 (communities.ordering)."""

from django.contrib.postgres import operations
from django.db import migrations
from django.db.models.functions import Collate


class CreateCollation(operations.CreateCollation):
    """Django's, also undone on PostgreSQL only: its reverse runs ``DROP COLLATION`` on any
    database (SQLite fails on it), though its forward does nothing but on PostgreSQL."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0011_history_indexes"),
    ]

    operations = [
        # PostgreSQL only (the operation does nothing elsewhere); SQLite's collation is
        # a Python function registered on each connection.  Written out here, not read
        # from communities.ordering, so that the migration stays as it ran.
        CreateCollation("natural", provider="icu", locale="und-u-kn-true"),
        migrations.AlterModelOptions(
            name="building",
            options={
                "ordering": ["settlement_id", Collate("name", "natural")],
                "verbose_name": "楼栋",
                "verbose_name_plural": "楼栋",
            },
        ),
        migrations.AlterModelOptions(
            name="gridunit",
            options={
                "ordering": ["settlement_id", Collate("name", "natural")],
                "verbose_name": "网格",
                "verbose_name_plural": "网格",
            },
        ),
        migrations.AlterModelOptions(
            name="tenhouseholdgroup",
            options={
                "ordering": ["grid_id", Collate("name", "natural")],
                "verbose_name": "十联户",
                "verbose_name_plural": "十联户",
            },
        ),
    ]
