"""The read audit: who was shown which personal data in clear, when and how.

One ``ReadAuditEntry`` per record and field shown (an ID number, a phone, a
health value) on a page or in an export (``communities.audit`` writes them).
Rows are append-only: the model, its querysets and the admin refuse to change
or delete them; only ``purge_read_audit`` removes rows, and never one younger
than ``READ_AUDIT_MIN_RETENTION_DAYS`` (183 days, Cybersecurity Law art. 21).
"""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .scope import get_scope

READ_ONLY_MESSAGE = _("查看记录只能新增，不能修改或删除。")


class AuditChannel(models.TextChoices):
    PAGE = "page", _("页面")
    LIST = "list", _("列表")
    EXPORT = "export", _("导出")


class ReadAuditQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows about records in the user's area, or about users they manage."""
        scope = get_scope(user)
        if scope.unrestricted:
            return self
        if scope.empty:
            return self.none()
        from .admin_users import manageable_users
        from .models import Settlement

        settlements = Settlement.objects.visible_to(user).values_list("pk", flat=True)
        q = Q(settlement_id__in=list(settlements))
        for prefix in scope.region_prefixes:
            q |= Q(region_code__startswith=prefix)
        q |= Q(user_id__in=manageable_users(user).values("pk"))
        return self.filter(q)

    def update(self, **kwargs):
        raise PermissionDenied(READ_ONLY_MESSAGE)

    update.alters_data = True

    def delete(self):
        raise PermissionDenied(READ_ONLY_MESSAGE)

    delete.alters_data = True
    delete.queryset_only = True

    def bulk_update(self, objs, fields, *args, **kwargs):
        raise PermissionDenied(READ_ONLY_MESSAGE)

    def purge_older_than(self, days):
        """Delete rows older than ``days`` (≥ the minimum retention); returns the count."""
        minimum = settings.READ_AUDIT_MIN_RETENTION_DAYS
        if days < minimum:
            raise ValueError(f"retention below {minimum} days")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        old = models.QuerySet(self.model, using=self.db).filter(at__lt=cutoff)
        return old._raw_delete(old.db)


class ReadAuditEntry(models.Model):
    """One field of one record shown in clear to one user."""

    at = models.DateTimeField(_("时间"), default=timezone.now)
    # No database constraint and DO_NOTHING: deleting a user must neither fail
    # nor touch the audit rows; the user name is kept as it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("用户名"), max_length=150)
    channel = models.CharField(_("方式"), max_length=8, choices=AuditChannel.choices)
    export_format = models.CharField(_("导出格式"), max_length=16, blank=True)
    path = models.CharField(_("网址"), max_length=200, blank=True)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("记录类型"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    object_id = models.CharField(_("记录编号"), max_length=40)
    object_label = models.CharField(_("记录"), max_length=200)
    field = models.CharField(_("字段"), max_length=64)
    # Where the record lives, for the area scope of the audit list itself.
    settlement_id = models.IntegerField(_("安置点编号"), null=True, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)

    objects = ReadAuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = pgettext_lazy("plural", "个人信息查看记录")
        ordering = ["-at", "-id"]
        # Read-only for everyone: no add/change/delete permissions exist.
        default_permissions = ("view",)
        indexes = [
            # The audit list, newest first; purge_read_audit's range delete.
            models.Index(fields=["at"], name="readaudit_at"),
            # "Who saw this person's data": the rows of one record.
            models.Index(fields=["content_type", "object_id"], name="readaudit_record"),
            # Scope of the audit list: rows of the settlements in an area.
            models.Index(fields=["settlement_id", "at"], name="readaudit_settlement"),
        ]

    def __str__(self):
        return f"{self.username} {self.object_label} {self.field_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied(READ_ONLY_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied(READ_ONLY_MESSAGE)

    @property
    def field_label(self):
        model = self.content_type.model_class() if self.content_type_id else None
        try:
            return str(model._meta.get_field(self.field).verbose_name)
        except (AttributeError, FieldDoesNotExist):  # a model or field since removed
            return self.field
