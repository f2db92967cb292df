"""The employment source now also stores ``recently_ended`` (employment.indicators).

Today's stored figures were computed without it, and figures are stored only where
they are not zero, so until every settlement is computed again they would read as
none ended.  Marking them as not today's makes the 工作清单 count every list live
meanwhile, and the next dashboard page view asks the job worker for a full refresh
(as on a new day).  Past periods get the component when they are stored again.
"""

from django.db import migrations


def forget_today(apps, schema_editor):
    apps.get_model("dashboards", "LiveState").objects.update(reference_date=None)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0004_stale_figures"),
        ("employment", "0005_income_year_per_capita"),
    ]

    operations = [migrations.RunPython(forget_today, migrations.RunPython.noop)]
