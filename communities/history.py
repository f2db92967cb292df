"""Change history for personal data, including bulk code paths.

django-simple-history records ``save()`` and ``delete()`` (also a queryset's
``delete()``, which sends a signal per row).  ``bulk_create`` and ``update``
send no signals, so the querysets of tracked models record those themselves:
no code path can change a household or a person without a history row.
"""

import hashlib

from django.db import models, transaction
from simple_history import models as simple_history_models


class HistoricalRecords(simple_history_models.HistoricalRecords):
    """django-simple-history's ``HistoricalRecords`` without entries for saves that change nothing.

    Saving a form unchanged (or re-importing the same values) would otherwise add a
    history entry with no changes: the history page would fill with empty rows.
    Before recording an update, the tracked values are compared with the latest
    entry's; when none differs, no entry is written.  Creations and deletions are
    always recorded, and so are updates of a record without any earlier entry and
    changes of many-to-many fields.
    The bulk paths (``HistoryRecordingQuerySet``) record what they are given.

    The link to the user who made a change is a plain column, without a foreign
    key constraint (``user_db_constraint=False``): deleting a user still clears it
    through Django's ``on_delete``, and a bulk write no longer has the database
    check the same user once per history row when it commits (a 100,000-row
    roster: 125,000 checks, 0.3 s).

    That column is indexed only where it holds a user (``user_index``): the rows
    the system writes (the demo's, each period's jobs) carry none, and nothing
    looks history up by an empty user.  The index still serves what reads it:
    deleting a user (its ``SET NULL`` finds the user's rows) and any "changes by
    this user".  At 500,000 households the demo writes 24 million history rows
    without a user; indexing them all took 3.8 s for the rights' history alone.
    """

    def __init__(self, *args, user_db_constraint=False, **kwargs):
        super().__init__(*args, user_db_constraint=user_db_constraint, **kwargs)

    def _get_history_user_fields(self):
        fields = super()._get_history_user_fields()
        user = fields.get("history_user")
        if isinstance(user, models.ForeignKey):
            user.db_index = False  # the partial index of get_meta_options instead
        return fields

    def get_meta_options(self, model):
        meta = super().get_meta_options(model)
        if self.user_id_field is None:
            meta["indexes"] = [*meta.get("indexes", ()), user_index(model)]
        return meta

    def post_save(self, instance, created, using=None, **kwargs):
        # Only saves: a change of a many-to-many field (m2m_changed) leaves the
        # record's own columns as they were and is still recorded.
        if (
            not created
            and not kwargs.get("raw", False)
            and not hasattr(instance, "skip_history_when_saving")
            and self.unchanged_since_last_entry(instance, using)
        ):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def unchanged_since_last_entry(self, instance, using=None):
        manager = getattr(instance, self.manager_name)
        if using and self.use_base_model_db:
            manager = manager.using(using)
        last = manager.order_by("-history_date", "-history_id").first()
        if last is None:
            return False
        history_fields = {f.attname: f for f in last._meta.concrete_fields}
        for field in self.fields_included(instance):
            new, old = getattr(instance, field.attname), getattr(last, field.attname, None)
            if new == old:
                continue
            # A history column may store a derived form (history_pii's tokens).
            stored_as = getattr(history_fields.get(field.attname), "history_form", None)
            if stored_as is None or stored_as(new) != old:
                return False
        return True


def user_index(model):
    """The index of the user column of ``model``'s history: only the rows a user made.

    Named after the tracked model (a name of at most 30 characters, as Django
    requires, unique in the database).
    """
    label = model._meta.label_lower
    digest = hashlib.md5(label.encode(), usedforsecurity=False).hexdigest()[:8]
    return models.Index(
        fields=["history_user"],
        condition=models.Q(history_user__isnull=False),
        name=f"{model._meta.app_label[:11]}_hist_user_{digest}",
    )


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
