"""The stored figures' keys and region codes compare byte by byte (PostgreSQL).

A figure's key (``employment_rate``…), its county and township codes and an area's
level and code are ASCII names and digits, matched whole or by a prefix of digits,
never sorted for a reader by the language's rules; yet every figure written found
its place in the unique index (period, settlement, key) by those rules, a thousand
settlements' three hundred keys per period.  Under the "C" collation they compare
bytes, as their order already is: the figures of a period are written faster, and a
prefix (``county_code LIKE '5223%'``) is a range of the indexes that hold the code.
SQLite compares text byte by byte already.

``relocation.dashboards.tests.test_figure_codes`` holds the columns to it: an
``AlterField`` of one would write its type again without the collation.
"""

from django.db import migrations

#: (table, column, length) of the columns that compare bytes.
COLUMNS = (
    ("dashboards_settlementfigure", "county_code", 12),
    ("dashboards_settlementfigure", "township_code", 12),
    ("dashboards_settlementfigure", "key", 48),
    ("dashboards_areafigure", "level", 12),
    ("dashboards_areafigure", "area_code", 12),
    ("dashboards_areafigure", "key", 48),
)


def _collate(collation):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column, length in COLUMNS:
            schema_editor.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" '
                f'TYPE varchar({length}) COLLATE "{collation}"'
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0008_figure_settlement_index"),
    ]

    operations = [migrations.RunPython(_collate("C"), _collate("default"), elidable=False)]
