# The two halves of the services app were built side by side (places and events,
# social protection and rights); this joins their initial migrations.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0001_initial"),
        ("services", "0001_protection"),
    ]

    operations = []
