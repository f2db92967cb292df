"""Writes of the accounts app: the sign-in log, creators, lockout release."""

from axes.helpers import get_client_ip_address
from axes.utils import reset
from django.contrib.auth import get_user_model

from .enums import SignInResult
from .models import SignInEvent, UserCreator


def client_address(request):
    """The address axes locks and logs by (REMOTE_ADDR unless a proxy is configured)."""
    if request is None:
        return None
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    return address or None


def sign_in_event_record(*, request, result, user=None, username="", actor=None):
    """Append one row to the sign-in log."""
    if user is None and username:
        user = get_user_model().objects.filter(username=username).first()
    if user is not None and not username:
        username = user.get_username()
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    return SignInEvent.objects.create(
        user=user,
        username=(username or "")[:150],
        result=result,
        ip_address=client_address(request),
        user_agent=agent[:255],
        actor=actor,
    )


def user_creator_record(*, user, created_by):
    """Remember who created ``user`` (once; later edits do not change it)."""
    UserCreator.objects.get_or_create(user=user, defaults={"created_by": created_by})


def lockout_release(*, request, users):
    """Lift the sign-in lockout of ``users``; returns how many were locked."""
    released = 0
    for user in users:
        if reset(username=user.get_username()):
            released += 1
            sign_in_event_record(
                request=request, result=SignInResult.UNLOCKED, user=user, actor=request.user
            )
    return released
