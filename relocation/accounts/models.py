from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .enums import SignInResult


class SignInEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Events of the users ``user`` manages (see ``communities.admin_users``).

        Failures for user names that match no account are for superusers only:
        they name nobody in anyone's area.
        """
        if user.is_superuser:
            return self
        from communities.admin_users import manageable_users

        return self.filter(user__in=manageable_users(user))


class SignInEvent(models.Model):
    """One sign-in, failure, lockout, sign-out or timeout: who, from where, when."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sign_in_events",
    )
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    result = models.CharField(_("结果"), max_length=32, choices=SignInResult.choices)
    ip_address = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("解除锁定的管理员。"),
    )

    objects = SignInEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("登录日志")
        verbose_name_plural = _("登录日志")
        ordering = ["-at", "-pk"]
        indexes = [
            # The log admin's default view: one user's events, newest first.
            models.Index(fields=["user", "-at"], name="signinevent_user_at"),
        ]

    def __str__(self):
        return f"{self.username} {self.get_result_display()}"


class SecondFactorRole(models.Model):
    """A role (auth group) whose users must sign in with a TOTP code too."""

    group = models.OneToOneField(
        Group, verbose_name=_("角色"), on_delete=models.CASCADE, related_name="second_factor"
    )
    created_at = models.DateTimeField(_("设置时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("需要动态验证码的角色")
        verbose_name_plural = _("需要动态验证码的角色")

    def __str__(self):
        return str(self.group)


class UserCreator(models.Model):
    """Who created a user account: until it has an area, only they (and superusers) see it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="creator_record",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("账号创建人")
        verbose_name_plural = _("账号创建人")

    def __str__(self):
        return f"{self.user} ← {self.created_by}"
