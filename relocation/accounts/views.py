"""The lockout page and the second-factor pages (enrolment, code entry)."""

from base64 import b32encode
from xml.etree import ElementTree

import qrcode
import qrcode.image.svg
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.forms.utils import ErrorDict, ErrorList
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .enums import SignInResult
from .forms import SignInForm, TokenForm
from .services import sign_in_event_record


def lockout_ends(username):
    """When the lockout of ``username`` ends (None if it is not recorded)."""
    last = AccessAttempt.objects.filter(username=username).aggregate(last=Max("attempt_time"))
    if last["last"] is None:
        return None
    return last["last"] + get_cool_off()


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout response: the sign-in page, saying until when (AXES_LOCKOUT_CALLABLE)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    ends = lockout_ends(username)
    if ends is None:
        message = _("该账号因连续登录失败已被锁定，请稍后再试或联系管理员解除锁定。")
    else:
        message = _(
            "该账号因连续登录失败已被锁定，将于 %(time)s 自动解锁；如需提前解锁，请联系管理员。"
        ) % {"time": date_format(timezone.localtime(ends), "Y-m-d H:i")}
    form = SignInForm(request, initial={"username": username})
    # The page of a failed sign-in, with the lockout as the form's error
    # (validating the form again would count as one more attempt).
    form._errors = ErrorDict({"__all__": ErrorList([message])})
    context = {
        **admin.site.each_context(request),
        "title": _("登录"),
        "subtitle": None,
        "form": form,
        "app_path": request.get_full_path(),
        "username": username,
        "next": request.POST.get("next", ""),
        "locked_out": True,
    }
    return render(request, "admin/login.html", context, status=429)


def _next_url(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("admin:index")


def qr_svg(text):
    """``text`` as a QR code in inline SVG markup (drawn here: no image service, no script)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return ElementTree.tostring(image.get_image(), encoding="unicode")


def _page(request, template, **context):
    return render(
        request, template, {**admin.site.each_context(request), "subtitle": None, **context}
    )


def _check_token(request, device, form):
    """Verify the posted code against ``device``; log the outcome either way."""
    if not form.is_valid():
        return False
    allowed, _details = device.verify_is_allowed()
    if allowed and device.verify_token(form.cleaned_data["token"]):
        sign_in_event_record(
            request=request, result=SignInResult.SECOND_FACTOR_OK, user=request.user
        )
        return True
    sign_in_event_record(
        request=request, result=SignInResult.SECOND_FACTOR_FAILED, user=request.user
    )
    if allowed:
        form.add_error("token", _("动态验证码不正确，请核对手机时间后重新输入。"))
    else:
        form.add_error("token", _("尝试过于频繁或错误次数过多，请稍候再试。"))
    return False


@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request):
    """Bind an authenticator app: scan the QR code, then confirm with one code."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        # Replacing a bound device needs an administrator (a password alone must not do it).
        return redirect(f"{reverse('accounts:otp_verify')}?next={_next_url(request)}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=_("身份验证器"), confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and _check_token(request, device, form):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        return redirect(_next_url(request))
    return _page(
        request,
        "accounts/otp_enrol.html",
        title=_("绑定身份验证器"),
        form=form,
        qr_code=mark_safe(qr_svg(device.config_url)),  # markup drawn by qr_svg
        secret=b32encode(device.bin_key).decode(),
        next=_next_url(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """Second step of signing in: the code from the bound authenticator app."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect(f"{reverse('accounts:otp_enrol')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and _check_token(request, device, form):
        otp_login(request, device)
        return redirect(_next_url(request))
    return _page(
        request,
        "accounts/otp_verify.html",
        title=_("输入动态验证码"),
        form=form,
        next=_next_url(request),
    )
