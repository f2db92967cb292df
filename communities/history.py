"""Change history for personal data, including bulk code paths.

django-simple-history records ``save()`` and ``delete()`` (also a queryset's
``delete()``, which sends a signal per row).  ``bulk_create`` and ``update``
send no signals, so the querysets of tracked models record those themselves:
no code path can change a household or a person without a history row.
"""

from django.db import models, transaction
from simple_history.models import HistoricalRecords


def _history_user():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


class HistoryRecordingQuerySet(models.QuerySet):
    """QuerySet whose bulk writes leave the same history as single saves."""

    def bulk_create(self, objs, *args, history_user=None, history_reason=None, **kwargs):
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            self.model.history.bulk_history_create(
                [obj for obj in created if obj.pk is not None],
                update=False,
                default_user=history_user or _history_user(),
                default_change_reason=history_reason,
            )
        return created

    def bulk_update(self, objs, fields, *args, history_user=None, history_reason=None, **kwargs):
        with transaction.atomic(using=self.db):
            # A plain QuerySet: Django's bulk_update calls update(), which here
            # would record a second, reason-less history row per object.
            rows = models.QuerySet(self.model, using=self.db).bulk_update(
                objs, fields, *args, **kwargs
            )
            self.model.history.bulk_history_create(
                objs,
                update=True,
                default_user=history_user or _history_user(),
                default_change_reason=history_reason,
            )
        return rows

    def update(self, **kwargs):
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            rows = super().update(**kwargs)
            if pks:
                changed = list(self.model._default_manager.filter(pk__in=pks))
                self.model.history.bulk_history_create(
                    changed, update=True, default_user=_history_user()
                )
        return rows

    update.alters_data = True
