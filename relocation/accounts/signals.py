"""Sign-in log receivers: every sign-in, failure, lockout and sign-out is one row.

django-axes marks the request: ``axes_locked_out`` once the user name is
locked, and ``axes_failures_since_start`` only when it counted this attempt as
a failure.  Locked but not counted means the lockout refused the attempt before
any password was checked.  Either order of receivers gives the same rows.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .enums import SignInResult
from .middleware import start_session_clocks
from .services import sign_in_event_record


@receiver(user_logged_in, dispatch_uid="accounts_signed_in")
def log_signed_in(sender, request, user, **kwargs):
    sign_in_event_record(request=request, result=SignInResult.SIGNED_IN, user=user)
    if request is not None and hasattr(request, "session"):
        start_session_clocks(request.session, user)


@receiver(user_login_failed, dispatch_uid="accounts_failed")
def log_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return  # not a web sign-in (shell, test client)
    username = credentials.get("username", "")
    refused = _refused_by_lockout(request)
    result = SignInResult.REFUSED_LOCKED if refused else SignInResult.FAILED
    sign_in_event_record(request=request, result=result, username=username)
    request._sign_in_failure_logged = True
    if getattr(request, "_sign_in_lock_pending", False):
        # axes' receiver ran first and locked: the lock row follows the failure.
        sign_in_event_record(request=request, result=SignInResult.LOCKED_OUT, username=username)


def _refused_by_lockout(request):
    return getattr(request, "axes_locked_out", False) and (
        getattr(request, "axes_failures_since_start", None) is None
    )


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def log_locked_out(sender, request, username, **kwargs):
    if _refused_by_lockout(request):
        return  # an attempt during the lock: logged as refused; the lock began earlier
    if not getattr(request, "_sign_in_failure_logged", False):
        request._sign_in_lock_pending = True  # logged right after the failure itself
        return
    sign_in_event_record(request=request, result=SignInResult.LOCKED_OUT, username=username or "")


@receiver(user_logged_out, dispatch_uid="accounts_signed_out")
def log_signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    timed_out = getattr(request, "_idle_timeout", False)
    result = SignInResult.IDLE_TIMEOUT if timed_out else SignInResult.SIGNED_OUT
    sign_in_event_record(request=request, result=result, user=user)
