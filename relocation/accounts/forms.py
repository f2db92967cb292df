from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .enums import SignInResult
from .services import sign_in_event_record


class SignInForm(AdminAuthenticationForm):
    """The admin sign-in form, whose errors say what actually went wrong.

    Django's says "enter the correct password for a staff account" both for a
    wrong password and for a right password on an account that is inactive or
    not staff; here the last two get their own message (only once the password
    is right, so the message reveals nothing to someone guessing).
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确（注意区分大小写）。"),
        "inactive": _("该账号已停用，请联系管理员。"),
        "not_staff": _("该账号没有登录本系统的权限，请联系管理员。"),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if self._inactive_with_right_password(error):
                sign_in_event_record(
                    request=self.request,
                    result=SignInResult.REFUSED_INACTIVE,
                    username=self.cleaned_data.get("username"),
                )
                raise ValidationError(self.error_messages["inactive"], code="inactive") from None
            raise

    def _inactive_with_right_password(self, error):
        if getattr(self.request, "axes_locked_out", False):
            return False
        if not any(e.code == "invalid_login" for e in error.error_list):
            return False
        password = self.cleaned_data.get("password") or ""
        user = (
            get_user_model()
            .objects.filter(username=self.cleaned_data.get("username"), is_active=False)
            .first()
        )
        if user is None:
            # Hash anyway, so that the answer's timing does not tell which
            # names belong to inactive accounts.
            make_password(password)
            return False
        return user.check_password(password)

    def confirm_login_allowed(self, user):
        if not user.is_active or not user.is_staff:
            sign_in_event_record(
                request=self.request, result=SignInResult.REFUSED_INACTIVE, user=user
            )
            code = "inactive" if not user.is_active else "not_staff"
            raise ValidationError(self.error_messages[code], code=code)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态验证码"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("打开手机上的身份验证器应用，输入其显示的 6 位数字。"),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise ValidationError(_("动态验证码是 6 位数字。"))
        return token
