from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInResult(models.TextChoices):
    SIGNED_IN = "signed_in", _("登录成功")
    FAILED = "failed", _("用户名或密码错误")
    LOCKED_OUT = "locked_out", _("连续失败，账号被锁定")
    REFUSED_LOCKED = "refused_locked", _("账号锁定中，拒绝登录")
    REFUSED_INACTIVE = "refused_inactive", _("账号已停用或无登录权限，拒绝登录")
    SECOND_FACTOR_OK = "second_factor_ok", _("动态验证码正确")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("动态验证码错误")
    SIGNED_OUT = "signed_out", _("退出登录")
    IDLE_TIMEOUT = "idle_timeout", _("长时间未操作，自动退出")
    UNLOCKED = "unlocked", _("管理员解除锁定")
