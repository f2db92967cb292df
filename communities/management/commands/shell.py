"""``manage.py shell`` importing every model but the change-history ones.

Django's shell imports every installed model.  django-simple-history's
``Historical…`` models cannot be imported by name (they live only in the app
registry), so each start listed 35 of them as "could not be automatically
imported".  They are reached through their model (``Person.history``) anyway.
"""

from django.apps import apps
from django.core.management.commands import shell
from simple_history.models import HistoricalChanges


class Command(shell.Command):
    def get_auto_imports(self):
        history = {
            f"{model.__module__}.{model.__name__}"
            for model in apps.get_models()
            if issubclass(model, HistoricalChanges)
        }
        return [path for path in super().get_auto_imports() if path not in history]
