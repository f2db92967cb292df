"""Numbered names sort by their numbers: 第2网格 before 第10网格 (communities.ordering)."""

from django.contrib.postgres.operations import CreateCollation
from django.db import migrations
from django.db.models.functions import Collate


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
