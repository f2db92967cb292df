"""Resident ID numbers (GB 11643), phone numbers and their masks.

Check digits below were worked out by hand: sum of digit × weight
(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2), mod 11, mapped through "10X98765432".
"""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from communities.tests.factories import make_id_number
from communities.validators import (
    _WEIGHTS,
    birth_date_from_id,
    check_digit,
    mask_phone,
    mask_resident_id,
    normalize_resident_id,
    sex_from_id,
    validate_phone,
    validate_resident_id,
)

# Published example (GB 11643 sample): 1949-12-31, female, check digit X.
PUBLISHED_X = "11010519491231002X"
# 5·7+2·9+0+2·5+0+1·4+1·2+9·1+9·6+0+0+1·9+0+1·5+1·8+2·4+3·2 = 168 ≡ 3 (mod 11) → "9".
ZHONGSHAN_MAN = "520201199001011239"
# 5·7+2·9+2·10+3·5+0+1·4+1·2+9·1+8·6+5·3+0+5·9+2·10+0+0+0+2·2 = 235 ≡ 4 → "8".
XINGYI_WOMAN = "522301198505200028"

CJK = re.compile(r"[\u4e00-\u9fff]")


def _error(value, validator=validate_resident_id):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        validator(value)
    error = info.value
    message = error.messages[0]
    assert CJK.search(message), f"message is not Chinese: {message!r}"
    return error.code, message


class TestCheckDigit:
    def test_hand_computed_check_digits(self):
        assert check_digit(PUBLISHED_X[:17]) == "X"
        assert check_digit(ZHONGSHAN_MAN[:17]) == "9"
        assert check_digit(XINGYI_WOMAN[:17]) == "8"
        # 1·7+1·9+0+1·5+0+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+1·8+0+0 = 171 ≡ 6 → "6".
        assert check_digit("11010519491231100") == "6"

    def test_make_id_number_builds_valid_numbers(self):
        born = datetime.date(1990, 1, 1)
        assert make_id_number(born, "M", seq=61) == ZHONGSHAN_MAN
        woman = make_id_number(datetime.date(1985, 5, 20), "F", prefix="522301", seq=1)
        assert woman == XINGYI_WOMAN
        validate_resident_id(woman)

    def test_birth_date_and_sex_from_id(self):
        assert birth_date_from_id(PUBLISHED_X) == datetime.date(1949, 12, 31)
        assert sex_from_id(PUBLISHED_X) == "F"
        assert birth_date_from_id(ZHONGSHAN_MAN) == datetime.date(1990, 1, 1)
        assert sex_from_id(ZHONGSHAN_MAN) == "M"
        assert sex_from_id(XINGYI_WOMAN) == "F"


class TestValidResidentId:
    @pytest.mark.parametrize("value", [PUBLISHED_X, ZHONGSHAN_MAN, XINGYI_WOMAN])
    def test_valid(self, value):
        assert validate_resident_id(value) is None

    def test_lowercase_x_is_accepted_and_normalised(self):
        assert validate_resident_id("11010519491231002x") is None
        assert normalize_resident_id("11010519491231002x") == PUBLISHED_X

    def test_spaces_are_stripped(self):
        spaced = " 520201 19900101 1239 "
        assert validate_resident_id(spaced) is None
        assert normalize_resident_id(spaced) == ZHONGSHAN_MAN

    def test_born_today_is_valid(self):
        today = timezone.localdate()
        assert validate_resident_id(make_id_number(today, "F")) is None


class TestInvalidResidentId:
    # Hand-computed: the check digits of these 17 digits are 9, X and 9.
    @pytest.mark.parametrize(
        ("value", "passing"),
        [
            ("520201199001011234", "9"),
            ("110105194912310021", "X"),
            ("52020119900101123X", "9"),
        ],
    )
    def test_wrong_check_digit_says_check_the_card_not_which_digit(self, value, passing):
        code, message = _error(value)
        assert code == "check_digit"
        assert message == "身份证号有误（校验码不符），请对照身份证逐位核对后重新填写。"
        assert passing not in message.replace("身份证", "")

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            ("520201199002300015", "19900230"),  # 30 February
            ("520201200002300011", "20000230"),  # 30 February of a leap year
            ("520201199004310017", "19900431"),  # 31 April
            ("520201199013010019", "19901301"),  # month 13
            ("520201199001000012", "19900100"),  # day 0
        ],
    )
    def test_impossible_birth_date(self, value, shown):
        code, message = _error(value)
        assert code == "birth_date"
        assert shown in message

    def test_29_february_only_in_leap_years(self):
        assert validate_resident_id(make_id_number(datetime.date(2000, 2, 29), "M")) is None
        code, _ = _error("520201190002290016")  # 1900 is not a leap year
        assert code == "birth_date"

    def test_future_birth_date(self):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        code, message = _error(make_id_number(tomorrow, "M"))
        assert code == "future_birth_date"
        assert tomorrow.isoformat() in message

    def test_year_before_1890(self):
        code, message = _error(make_id_number(datetime.date(1889, 12, 31), "M"))
        assert code == "birth_year"
        assert "1889" in message
        assert validate_resident_id(make_id_number(datetime.date(1890, 1, 1), "M")) is None

    def test_old_15_digit_number(self):
        code, message = _error("520201900101123")
        assert code == "old_format"
        assert "15位" in message and "18位" in message

    @pytest.mark.parametrize(
        ("value", "length"), [(ZHONGSHAN_MAN[:17], 17), (ZHONGSHAN_MAN + "1", 19)]
    )
    def test_wrong_length(self, value, length):
        code, message = _error(value)
        assert code == "length"
        assert f"当前为{length}位" in message

    def test_empty(self):
        code, message = _error("")
        assert code == "length"
        assert "当前为0位" in message

    @pytest.mark.parametrize(
        "value", ["5202011990A1011239", "52020119900101123Y", "5202011990-1011239"]
    )
    def test_letters_or_signs_in_the_number(self, value):
        code, _ = _error(value)
        assert code == "characters"

    @pytest.mark.parametrize(
        ("value", "prefix"),
        [
            ("990105194912310026", "990105"),  # no province 99
            ("100105194912310026", "100105"),  # 10 is not a province
            ("520001199001011239", "520001"),  # province code with prefecture 00
        ],
    )
    def test_bad_region_prefix(self, value, prefix):
        code, message = _error(value)
        assert code == "region"
        assert prefix in message

    @pytest.mark.parametrize("value", ["5.20201E+17", "5.20201199001011e+17", "5E17"])
    def test_excel_scientific_notation(self, value):
        code, message = _error(value)
        assert code == "excel_number"
        assert "文本" in message
        assert "科学计数法" in message


class TestPhone:
    @pytest.mark.parametrize(
        "value",
        ["13812341234", "15985001234", "19912345678", " 18685991234 "],
    )
    def test_valid_mobiles(self, value):
        assert validate_phone(value) is None

    @pytest.mark.parametrize(
        "value",
        ["0858-3221234", "08583221234", "010-12345678", "01012345678", "0851-86801234-808"],
    )
    def test_valid_landlines(self, value):
        assert validate_phone(value) is None

    @pytest.mark.parametrize(
        "value",
        [
            "138123412345",  # 12 digits
            "1381234123",  # 10 digits
            "12812341234",  # mobiles start 13–19
            "1381234abcd",
            "858-3221234",  # area code must start with 0
            "0858-322123",  # 6-digit local number
            "0858-3221234-1234567",  # extension too long
            "0858 3221234",
            "+8613812341234",
        ],
    )
    def test_invalid(self, value):
        code, message = _error(value, validate_phone)
        assert code == "phone"
        assert "0858-3221234" in message


class TestMasking:
    def test_resident_id(self):
        assert mask_resident_id("520201199001011234") == "520201********1234"
        assert mask_resident_id(PUBLISHED_X) == "110105********002X"

    def test_resident_id_short_and_empty(self):
        assert mask_resident_id("") == ""
        assert mask_resident_id(None) == ""
        assert mask_resident_id("12345") == "*****"
        # 15-digit numbers keep the same six and four.
        assert mask_resident_id("520201900101123") == "520201*****1123"

    def test_mobile(self):
        assert mask_phone("13812341234") == "138****1234"

    def test_landlines(self):
        assert mask_phone("0858-3221234") == "0858-****234"
        assert mask_phone("08583221234") == "0858****234"
        assert mask_phone("010-12345678") == "010-*****678"

    def test_empty_and_short(self):
        assert mask_phone("") == ""
        assert mask_phone(None) == ""
        assert mask_phone("110") == "***"
        assert mask_phone("1234") == "****"

    def test_masks_never_show_the_middle(self):
        assert "1990" not in mask_resident_id(ZHONGSHAN_MAN)
        assert "3221" not in mask_phone("0858-3221234")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_after_today_agrees_with_the_local_date_in_any_zone(zone):
    from communities.validators import after_today

    with timezone.override(zone):
        today = timezone.localdate()
        assert not after_today(today)
        assert after_today(today + datetime.timedelta(days=1))
        assert not after_today(today - datetime.timedelta(days=1))
        assert not after_today(datetime.date(1990, 5, 1))
        assert after_today(datetime.date(today.year + 1, 1, 1))


def test_after_today_reads_the_clock_again_once_its_bound_expires(monkeypatch):
    """The bound below which a day is long past is kept a minute: a bound kept from an
    earlier day still answers exactly, and an expired one is read again."""
    import time

    from communities import validators

    today = timezone.localdate()
    # Kept from three days ago (a long-running worker across midnights): still exact.
    monkeypatch.setattr(
        validators, "_long_past", [time.monotonic() + 60, today - datetime.timedelta(days=5)]
    )
    assert validators.after_today(today + datetime.timedelta(days=1))
    assert not validators.after_today(today)
    assert not validators.after_today(today - datetime.timedelta(days=3))
    # Expired, and absurd: read again, so tomorrow is after today.
    monkeypatch.setattr(validators, "_long_past", [0.0, datetime.date.max])
    assert validators.after_today(today + datetime.timedelta(days=1))
    assert validators._long_past[1] <= today - datetime.timedelta(days=1)


class TestCheckDigitInput:
    def test_every_check_character_is_reached_as_the_weighted_sum_says(self):
        """The weighted sum modulo 11 picks 1 0 X 9 … 2, computed here digit by digit."""
        seen = set()
        for n in range(0, 3000):
            first17 = f"{52230119800101000 + n * 7919:017d}"
            total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
            assert check_digit(first17) == "10X98765432"[total % 11]
            seen.add(check_digit(first17))
        assert seen == set("10X98765432")

    @pytest.mark.parametrize(
        "first17",
        [
            "5223011980010100",
            "522301198001010011",
            "52230119800101X01",
            "５２２３０１１９８００１０１００１",
        ],
    )
    def test_anything_but_17_ascii_digits_is_refused(self, first17):
        with pytest.raises(ValueError):
            check_digit(first17)
