"""Tokens of system accounts that read the API.

A token belongs to a user account (a "system account": a user made for the
other system, with a role and areas like any official), so the API shows
exactly what that account may see: its area scope, its permissions and its
masking.  Only a hash of the key is stored; the key is shown once, when the
token is created.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_BYTES = 32
PREFIX_LENGTH = 8


def hash_key(key):
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    name = models.CharField(
        _("名称"), max_length=100, help_text=_("用途，例如“省防返贫监测系统”。")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("接口以该账号的管辖范围和权限返回数据（含是否显示完整的身份证号和电话）。"),
    )
    prefix = models.CharField(_("密钥前缀"), max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"

    @classmethod
    def issue(cls, *, name, user, created_by=None, expires_at=None):
        """A new token and its key (the only time the key is known)."""
        key = secrets.token_urlsafe(KEY_BYTES)
        token = cls.objects.create(
            name=name,
            user=user,
            prefix=key[:PREFIX_LENGTH],
            key_hash=hash_key(key),
            created_by=created_by,
            expires_at=expires_at,
        )
        return token, key

    def revoke(self):
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
