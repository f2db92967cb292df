"""Validators for resident ID numbers (GB 11643) and phone numbers."""

import datetime
import operator
import re
import time
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Province-level prefixes that appear in resident ID numbers (GB/T 2260),
# including 71 台湾, 81 香港, 82 澳门 and 83 for residence permits of 台湾 residents.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE | re.ASCII)

# A 15-digit number is a first-generation ID card (issued until 2004); the
# import says the same when Excel stored one as a number.
OLD_FORMAT_MESSAGE = _("这是15位的第一代身份证号，请换成18位的第二代身份证号。")

# A wrong check digit means some character was mistyped, not necessarily the last.
CHECK_DIGIT_MESSAGE = _("身份证号有误（校验码不符），请对照身份证逐位核对后重新填写。")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$", re.ASCII)


def normalize_resident_id(value):
    """Full-width digits to ASCII (NFKC), strip spaces, upper-case a trailing ``x``."""
    return unicodedata.normalize("NFKC", value or "").strip().replace(" ", "").upper()


#: Each digit's character code is its value plus 48 ("0"): this much too much in all.
_CODE_OFFSET = ord("0") * sum(_WEIGHTS)


def check_digit(first17):
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("check_digit takes the first 17 digits")
    # The digits' character codes, weighted in C (map over bytes): called once per
    # row of a 100,000-row roster and per person of the demo, a third of int() per digit.
    return _CHECK_CHARS[(sum(map(operator.mul, first17.encode(), _WEIGHTS)) - _CODE_OFFSET) % 11]


def birth_date_from_id(value):
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def sex_from_id(value):
    """'M' or 'F' from the 17th digit (odd for men)."""
    return "M" if int(value[16]) % 2 else "F"


def validate_resident_id(value):
    """Validate an 18-character resident ID number per GB 11643-1999.

    Each failure has its own Chinese message so that a data-entry worker knows
    what to fix.
    """
    value = normalize_resident_id(value)
    if _EXCEL_NUMBER.match(value):
        raise ValidationError(
            _(
                "身份证号被 Excel 转成了科学计数法（%(value)s），末几位已丢失。请把该列设为“文本”格式后重新录入。"
            ),
            code="excel_number",
            params={"value": value},
        )
    if len(value) == 15 and value.isdigit():
        raise ValidationError(OLD_FORMAT_MESSAGE, code="old_format")
    if len(value) != 18:
        raise ValidationError(
            _("身份证号应为18位，当前为%(length)d位。"),
            code="length",
            params={"length": len(value)},
        )
    if not _ID_SHAPE.match(value):
        raise ValidationError(
            _("身份证号前17位必须是数字，最后一位是数字或 X。"), code="characters"
        )
    if value[:2] not in PROVINCE_PREFIXES or value[2:4] == "00":
        raise ValidationError(
            _("身份证号前6位（%(prefix)s）不是有效的行政区划代码。"),
            code="region",
            params={"prefix": value[:6]},
        )
    try:
        born = birth_date_from_id(value)
    except ValueError:
        raise ValidationError(
            _("身份证号中的出生日期 %(date)s 不存在。"),
            code="birth_date",
            params={"date": value[6:14]},
        ) from None
    if after_today(born):
        raise ValidationError(
            _("身份证号中的出生日期 %(date)s 晚于今天。"),
            code="future_birth_date",
            params={"date": born.isoformat()},
        )
    if born.year < 1890:
        raise ValidationError(
            _("身份证号中的出生年份 %(year)d 不合理。"),
            code="birth_year",
            params={"year": born.year},
        )
    if value[17] != check_digit(value[:17]):
        # Never say which character would pass: that would turn a mistyped
        # number into a valid-looking wrong one instead of a look at the card.
        raise ValidationError(CHECK_DIGIT_MESSAGE, code="check_digit")


_TWO_DAYS = datetime.timedelta(days=2)
#: (until when, by ``time.monotonic()``; two days before the machine's date then)
_long_past = [0.0, datetime.date.min]


def after_today(day):
    """``day > timezone.localdate()``, without the time-zone arithmetic for days long past.

    An import calls this for every ID number and every household (150,000
    times for a 100,000-row roster, 5 s of time-zone conversion).  The local
    date of any time zone is within two days of the machine's own date, so a
    day before that is never after today and only recent days need the exact
    answer.  That bound is read from the clock once a minute (asking the system
    for the date cost 0.6 s of a roster's check): a bound read earlier is never
    later than the true one, so a day it calls long past is.
    """
    now = time.monotonic()
    if now >= _long_past[0]:
        _long_past[:] = [now + 60, datetime.date.today() - _TWO_DAYS]
    if day < _long_past[1]:
        return False
    return day > timezone.localdate()


_PHONE_SEPARATORS = re.compile(r"[\s\-.()]", re.ASCII)
_COUNTRY_CODE = re.compile(r"^(?:\+86|0086|86)(?=1[3-9]\d{9}$)", re.ASCII)


def normalize_phone(value):
    """Full-width digits and dashes to ASCII (NFKC); surrounding spaces removed.

    A mobile number written with the country code or separators
    (``+86 138 0013 8000``, ``0086-13800138000``, ``138-0013-8000``) becomes its
    11 digits.  Anything else (landlines such as ``0858-3221234``) keeps its form.
    """
    text = unicodedata.normalize("NFKC", value or "").strip()
    digits = _COUNTRY_CODE.sub("", _PHONE_SEPARATORS.sub("", text))
    return digits if MOBILE_RE.match(digits) else text


def validate_phone(value):
    """A mainland mobile (11 digits from 13–19) or a landline with area code."""
    value = (value or "").strip()
    if MOBILE_RE.match(value) or LANDLINE_RE.match(value):
        return
    raise ValidationError(
        _("电话号码格式不正确：手机号为1开头的11位数字，座机为区号加号码（如 0858-3221234）。"),
        code="phone",
    )


def mask_resident_id(value):
    """``520201********1234``: region prefix and last four only."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value):
    """``138****1234`` for mobiles, ``0858-****234`` style for landlines."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) >= 11 and MOBILE_RE.match(value):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    keep_head = value.index("-") + 1 if "-" in value else min(4, len(value) - 4)
    return value[:keep_head] + "*" * (len(value) - keep_head - 3) + value[-3:]
