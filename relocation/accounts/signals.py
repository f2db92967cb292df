"""Sign-in log receivers: every sign-in, failure, lockout and sign-out is one row.

Receivers connect when the app is ready, before django-axes' own (the app comes
first in INSTALLED_APPS): a failure seen here with ``request.axes_locked_out``
already set was refused by the lockout, not by a wrong password.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .enums import SignInResult
from .services import sign_in_event_record


@receiver(user_logged_in, dispatch_uid="accounts_signed_in")
def log_signed_in(sender, request, user, **kwargs):
    sign_in_event_record(request=request, result=SignInResult.SIGNED_IN, user=user)


@receiver(user_login_failed, dispatch_uid="accounts_failed")
def log_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return  # not a web sign-in (shell, test client)
    username = credentials.get("username", "")
    if getattr(request, "axes_locked_out", False):
        request._sign_in_refused_locked = True
        result = SignInResult.REFUSED_LOCKED
    else:
        result = SignInResult.FAILED
    sign_in_event_record(request=request, result=result, username=username)


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def log_locked_out(sender, request, username, **kwargs):
    if getattr(request, "_sign_in_refused_locked", False):
        return  # already logged as refused; the lock itself was logged when it began
    sign_in_event_record(request=request, result=SignInResult.LOCKED_OUT, username=username or "")


@receiver(user_logged_out, dispatch_uid="accounts_signed_out")
def log_signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    timed_out = getattr(request, "_idle_timeout", False)
    result = SignInResult.IDLE_TIMEOUT if timed_out else SignInResult.SIGNED_OUT
    sign_in_event_record(request=request, result=result, user=user)
