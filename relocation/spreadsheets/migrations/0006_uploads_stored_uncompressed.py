"""PostgreSQL keeps an upload's bytes, and the check's packed results, as they come.

Each is compressed already (an .xlsx is a zip archive; the rest is zlib's), yet
PostgreSQL tried its own compression on every value over 2 kB before giving up:
a 13 MB workbook took 0.42 s to store, and 0.06 s with ``STORAGE EXTERNAL``
(out of line, never compressed again).  Other databases have no such setting.
"""

from django.db import migrations

COLUMNS = ("content", "parsed", "kept")


def storage(mode):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        table = apps.get_model("spreadsheets", "ImportUpload")._meta.db_table
        for column in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET STORAGE {mode}"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("spreadsheets", "0005_importjob_sheets"),
    ]

    operations = [
        migrations.RunPython(storage("EXTERNAL"), storage("EXTENDED")),
    ]
