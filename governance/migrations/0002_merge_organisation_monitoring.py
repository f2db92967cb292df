# The two halves of the governance app were built side by side (organisation,
# pairing and petitions; 防返贫 monitoring); this joins their initial migrations.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0001_initial"),
        ("governance", "0001_monitoring"),
    ]

    operations = []
