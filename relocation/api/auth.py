"""Who calls: token authentication, permissions and the rate limit."""

import contextlib
import datetime

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from communities.scope import get_scope

from .models import ApiToken, hash_key

#: last_used_at is stamped at most this often (a write per request would cost more than it tells).
STAMP_EVERY = datetime.timedelta(minutes=1)


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` (or ``Token <key>``) of a usable ``ApiToken``."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("认证信息格式不正确：应为“Bearer <密钥>”。"))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("密钥无效。")) from None
        now = timezone.now()
        token = (
            ApiToken.objects.usable(now)
            .select_related("user")
            .filter(key_hash=hash_key(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("密钥无效、已停用或已过期。"))
        if token.last_used_at is None or token.last_used_at < now - STAMP_EVERY:
            with contextlib.suppress(DatabaseError):  # SQLite busy: the next request stamps it
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ScopedReadPermission(permissions.BasePermission):
    """A system account with an area, and - for a model's endpoint - its view permission."""

    message = _("该账号没有管辖区域或没有查看这类数据的权限。")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if get_scope(user).empty:
            return False
        model = getattr(getattr(view, "queryset", None), "model", None)
        if model is None:
            return True
        opts = model._meta
        return user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


class ApiRateThrottle(throttling.UserRateThrottle):
    """Requests per token's account; the rate is ``API_RATE_LIMIT`` (settings)."""

    scope = "api"


class TokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the authentication."""

    target_class = TokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(_("系统账号的接口密钥（由超级管理员在“接口密钥”中生成）。")),
        }
