"""Session rules applied to every request of a signed-in user."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import SecondFactorRole

#: Session key: when this session last made a request (seconds since the epoch).
LAST_SEEN = "accounts_last_seen"
#: Session key: ``[checked_at, required]``, so that the roles are not queried on every request.
SECOND_FACTOR = "accounts_second_factor"
#: Refresh the stamp at most this often, so that not every request writes the session.
TOUCH_EVERY = 60

# The clock, replaced in tests.
clock = time.time


def start_session_clocks(session, user):
    """At sign-in: start the idle clock and note whether a code is required.

    Pages then write nothing to the session until a minute has passed.
    """
    now = int(clock())
    session[LAST_SEEN] = now
    session[SECOND_FACTOR] = [now, second_factor_required(user)]


class IdleTimeoutMiddleware:
    """Ends a session after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    Each request extends the session (the stamp is refreshed once a minute at
    most); ``SESSION_COOKIE_AGE`` still bounds a session that is used all day.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(clock())
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
                request._idle_timeout = True  # for the sign-in log
                logout(request)
                messages.warning(
                    request,
                    _("您已 %(minutes)d 分钟未操作，为保护数据已自动退出，请重新登录。")
                    % {"minutes": settings.SESSION_IDLE_TIMEOUT // 60},
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= TOUCH_EVERY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


def second_factor_required(user):
    """True when one of ``user``'s roles requires a TOTP code at sign-in."""
    return SecondFactorRole.objects.filter(group__user=user).exists()


def second_factor_required_cached(request):
    """``second_factor_required``, re-checked at most once a minute per session."""
    now = int(clock())
    cached = request.session.get(SECOND_FACTOR)
    if cached is None or now - cached[0] >= TOUCH_EVERY:
        cached = [now, second_factor_required(request.user)]
        request.session[SECOND_FACTOR] = cached
    return cached[1]


# Pages a signed-in user may reach before entering their code.
EXEMPT_VIEWS = {"accounts:otp_enrol", "accounts:otp_verify", "admin:logout", "set_language"}


class SecondFactorMiddleware:
    """Until a user of such a role has entered a TOTP code, they reach only enrolment/verification."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match and request.resolver_match.view_name in EXEMPT_VIEWS:
            return None
        if not second_factor_required_cached(request):
            return None
        from django_otp.plugins.otp_totp.models import TOTPDevice

        enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        target = reverse("accounts:otp_verify" if enrolled else "accounts:otp_enrol")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
