"""Column declarations and the cell parsers behind them.

A ``Column`` says what one spreadsheet column holds: its Chinese header, the
model field it fills (whose validators every cell goes through), and how a
cell's text or Excel value becomes a Python value.  A parser either returns
the value or raises ``CellError`` with a Chinese message for the user.
"""

import datetime
import enum
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.validators import (
    OLD_FORMAT_MESSAGE,
    mask_phone,
    mask_resident_id,
    normalize_phone,
    normalize_resident_id,
)

from .cells import FORMULA_STARTS, escape_formula, unescape_formula  # noqa: F401
from .reading import KNOWN_HEADERS, ROWS_ABOVE_HEADER, excel_date, header_score

TRUE_WORDS = {"是", "有", "√", "✓", "y", "yes", "true", "1", "参加", "享受", "持有"}
FALSE_WORDS = {"否", "无", "×", "n", "no", "false", "0", "未参加", "不", "未享受"}
# strptime reads "%Y%m%d" without zeros too ("201912" as 2019-01-02): eight digits only.
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")
_EIGHT_DIGITS = re.compile(r"^\d{8}$")
# A month without its day: 2019年5月, 2019.05, 2019-5, 2019/05, 201905.
_YEAR_MONTH = re.compile(
    r"^(?P<year>(?:19|20)\d\d)(?:\s*[年./-]\s*(?P<m1>\d{1,2})\s*月?|(?P<m2>\d{2}))$"
)
_EXCEL_SCI = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


# The first cell of each example row in a template begins with this mark; the
# import skips such rows, so a template uploaded as downloaded imports nothing
# and reports nothing wrong.
EXAMPLE_MARK = gettext_lazy("【示例】")


class CellError(Exception):
    pass


def cell_text(raw):
    """A cell as text: spreadsheet numbers that are whole become digits, not ``12.0``."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return unescape_formula(raw.strip())
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float):
        if raw.is_integer():
            if abs(raw) >= 1e15:
                raise CellError(
                    _(
                        "该单元格是数字格式，Excel 只保留15位有效数字，末几位已丢失。"
                        "请把该列设置为“文本”格式后重新录入。"
                    )
                )
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat()
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    return str(raw).strip()


@dataclass(eq=False)
class Column:
    """One spreadsheet column.  ``key`` names the value in a parsed row."""

    key: str
    header: object  # lazy Chinese text
    kind: str = "text"  # text person_name int decimal date bool choice id_number phone code names
    required: bool = False
    allow_blank: bool = False  # a required column whose cells the kind itself checks
    model_field: object = None  # a Django field whose validators run on every cell
    choices: object = None  # a Choices class
    default: object = None  # value of a blank cell
    sensitive: str = ""  # "id" / "phone" / "hide": masked in exports without permission
    export_only: bool = False  # derived values shown in exports, ignored on import
    help: object = ""
    example: str = ""
    width: int = 14
    aliases: dict = None  # extra words a choice column accepts: {word: value}
    _choice_map: dict = field(default=None, repr=False)
    _convert: object = field(default=None, repr=False)

    def __post_init__(self):
        # Headers are often a model field's name, which English writes in lower case
        # ("household number"); a header heads a column as the others do.
        self.header = capfirst(self.header)

    # --- import ----------------------------------------------------------
    def parse(self, raw):
        """The cell's value, or ``CellError``.  Hot path: ~3 million calls per 100k rows."""
        convert = self._convert or self._prepare()
        value = None if raw is None or raw == "" else convert(raw)
        if value is None or value == "":
            if self.required and not self.allow_blank:
                raise CellError(_("必填，不能为空。"))
            return self._blank
        if self._max_length is not None and len(value) > self._max_length:
            raise CellError(
                _("最多%(max)d个字符，当前%(n)d个。") % {"max": self._max_length, "n": len(value)}
            )
        for validator in self._validators:
            try:
                validator(value)
            except ValidationError as exc:
                raise CellError(" ".join(exc.messages)) from None
        return value

    def _prepare(self):
        """Pick the converter and the model validators once per column."""
        kind = self.kind
        units = column_units(self.header) if kind == "decimal" else ()

        converters = {
            "id_number": parse_id_number,
            "bool": lambda raw: parse_bool(raw, self.default),
            "date": parse_date,
            "text": _text,
            "person_name": parse_person_name,
            "code": _text,
            "phone": _via_text(_phone),
            "int": _via_text(parse_int),
            "decimal": _via_text(lambda text: parse_decimal(text, self.model_field, units)),
            "choice": _via_text(self.parse_choice),
            "names": _via_text(split_names),
        }
        blank = self.blank_value()
        # Choices defaults are enum members; rows hold plain values.
        self._blank = blank.value if isinstance(blank, enum.Enum) else blank
        validators = []
        self._max_length = None
        if self.model_field is not None and kind not in ("choice", "bool"):
            for validator in self.model_field.validators:
                if isinstance(validator, MaxLengthValidator):
                    self._max_length = validator.limit_value
                else:
                    validators.append(validator)
        self._validators = validators
        self._convert = converters[kind]
        return self._convert

    def blank_value(self):
        if self.default is not None:
            return self.default
        if self.kind in ("text", "person_name", "phone", "code", "id_number") or (
            self.kind == "choice" and not issubclass(self.choices, int)
        ):
            return "" if self.model_field is None or not self.model_field.null else None
        if self.kind == "names":
            return ()
        return None

    def choice_map(self):
        if self._choice_map is None:
            mapping = {}
            chinese = {}
            for value, label in self.choices.choices:
                for lang in ("zh-hans", "en"):
                    with translation.override(lang):
                        mapping[str(label).lower()] = value
                with translation.override("zh-hans"):
                    chinese[str(label)] = value
                mapping[str(value).lower()] = value
                if str(label).endswith("族"):
                    mapping[str(label)[:-1]] = value
            for alias, label in CHOICE_ALIASES.items():
                if label in chinese and alias.lower() not in mapping:
                    mapping[alias.lower()] = chinese[label]
            for alias, value in (self.aliases or {}).items():
                mapping.setdefault(alias.lower(), value)
            self._choice_map = mapping
        return self._choice_map

    def parse_choice(self, text):
        value = self.choice_map().get(text.lower())
        if value is None:
            shown = "、".join(str(label) for _v, label in self.choices.choices if str(label))
            if len(shown) > 120:
                shown = shown[:120] + "…"
            raise CellError(
                _("“%(value)s”不是可选值。可选：%(choices)s") % {"value": text, "choices": shown}
            )
        return value

    def choice_labels(self):
        return [str(label) for value, label in self.choices.choices if value != ""] + (
            [str(label) for value, label in self.choices.choices if value == ""]
        )

    # --- export ----------------------------------------------------------
    def format(self, value, reveal=True):
        if value is None or value == "":
            if self.kind == "choice" and self.choices is not None:
                blank = dict(self.choices.choices).get("")
                return str(blank) if blank is not None and value == "" else ""
            return ""
        # A phone or ID-number column is personal data whether or not its
        # kind remembered to say so (用工主体's 联系电话 did not).
        sensitive = self.sensitive or {"id_number": "id", "phone": "phone"}.get(self.kind, "")
        if not reveal and sensitive:
            if sensitive == "id":
                return mask_resident_id(value)
            if sensitive == "phone":
                return mask_phone(value)
            return _("（已隐藏）")
        if self.kind == "choice":
            return str(dict(self.choices.choices).get(value, value))
        if self.kind == "bool":
            return "是" if value else "否"
        if self.kind == "date":
            return value.isoformat()
        if self.kind == "decimal":
            return float(value)
        if self.kind == "int":
            return int(value)
        if self.kind == "names":
            return "、".join(value)
        return escape_formula(str(value))


#: What people type before digits to keep them text: Excel's apostrophe, and the
#: curly quotes and backtick a Chinese input method gives for it.  Excel keeps it out of
#: the cell's value, but a CSV written by hand or pasted from another system holds it.
TEXT_MARKS = frozenset("'‘’`")


_MARKED_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*")


def unmarked(text):
    """``text`` without the text mark before it ('522301…): for ID numbers and phones,
    which never begin with one."""
    if len(text) > 1 and text[0] in TEXT_MARKS:
        return text[1:].lstrip()
    return text


def whole_digits(text):
    """Digits a system wrote as a decimal (13800138000.0) without the ".0"."""
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


def _phone(text):
    """A phone cell's text, without a text mark or the ".0" of a decimal."""
    return normalize_phone(whole_digits(unmarked(text)))


def _text(raw):
    if raw.__class__ is str:
        text = raw.strip()
        if text[:1] in TEXT_MARKS:
            text = unescape_formula(text)
            if text[:1] in TEXT_MARKS and _MARKED_CODE.fullmatch(text, 1):
                text = text[1:]  # a code, a number kept text ('522301000101): without it
        return text or None
    return cell_text(raw) or None


# What a name looks like after a GBK/GB2312 export met a character it lacks
# (䶮, 𬌗 …): "?" in its place, or U+FFFD when bytes were decoded wrongly.
LOST_CHARACTERS = re.compile("[?？\ufffd]")


def parse_person_name(raw):
    """A person's name, refused when the file lost some of its characters."""
    text = _text(raw)
    if text and LOST_CHARACTERS.search(text):
        raise CellError(
            _(
                "姓名“%(value)s”中有“?”或“�”，说明文件在保存时丢失了生僻字。"
                "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx，核对姓名后重新上传。"
            )
            % {"value": text}
        )
    return text


def _via_text(parse):
    def convert(raw):
        text = cell_text(raw)
        return parse(text) if text else None

    return convert


def split_names(text):
    return tuple(n.strip() for n in re.split(r"[、,，;；]", text) if n.strip())


#: Words counties write after a whole number (搬迁年度 2019年, 住房套数 120套, 层数 6层):
#: the number is the value.  None of them changes its size, as 万 would.
COUNT_UNITS = (
    "年度",
    "年",
    "人次",
    "单元",
    "套",
    "户",
    "人",
    "层",
    "个",
    "名",
    "座",
    "间",
    "位",
    "张",
)

#: The same units written in other ways, for a column's unit (``column_units``).
UNIT_SPELLINGS = {
    "㎡": ("㎡", "平方米", "平米", "m²", "m2"),
    "平方米": ("㎡", "平方米", "平米", "m²", "m2"),
    "元": ("元",),
    "万元": ("万元",),
    "亩": ("亩",),
}


def column_units(header):
    """The units a number may carry in the column headed ``header``: those of the unit
    in its brackets (``_UNIT``; 住房面积（㎡）: 80㎡ and 80平方米; 金额（万元）: 15万元), else none."""
    with translation.override("zh-hans"):  # the unit as our Chinese header writes it
        found = _UNIT.search(str(header))
    return UNIT_SPELLINGS.get(found[1], ()) if found else ()


def _without_unit(text, units):
    """``text`` without one of ``units`` at its end (and the spaces before it), or None."""
    for unit in units:
        if text.endswith(unit) and len(text) > len(unit):
            return text[: -len(unit)].rstrip()
    return None


#: The errors of number cells; translated only when a cell is wrong (parsing is a hot path).
NOT_A_WHOLE_NUMBER = gettext_lazy("“%(value)s”不是整数。")
NOT_A_NUMBER = gettext_lazy("“%(value)s”不是数字。")


def _number(text, units, message):
    """The finite Decimal ``text`` writes (thousands separators allowed), maybe followed
    by one of ``units``; else ``CellError(message)`` (inf and NaN too).  A number without
    a unit, as most cells are, is read at the first try."""
    number = _decimal(text)
    if number is None:
        bare = _without_unit(text, units)
        number = None if bare is None else _decimal(bare)
    if number is None or not number.is_finite():
        raise CellError(message % {"value": text})
    return number


def _decimal(text):
    try:
        return Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None


def parse_int(text, units=COUNT_UNITS):
    number = _number(text, units, NOT_A_WHOLE_NUMBER)
    if number != number.to_integral_value():
        raise CellError(NOT_A_WHOLE_NUMBER % {"value": text})
    return int(number)


def parse_decimal(text, model_field, units=()):
    number = _number(text, units, NOT_A_NUMBER)
    if model_field is not None:
        places = Decimal(1).scaleb(-model_field.decimal_places)
        try:
            number = number.quantize(places, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than any Decimal context holds: 1e999
            raise CellError(_("数值“%(value)s”过大。") % {"value": text}) from None
        if len(number.as_tuple().digits) > model_field.max_digits:
            raise CellError(_("数值“%(value)s”过大。") % {"value": text})
    return number


def parse_date(raw):
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, float | int) and not isinstance(raw, bool) and 20000 < raw < 80000:
        return excel_date(raw)  # an Excel serial day number
    if isinstance(raw, float) and not raw.is_integer():
        # 2019.05 typed into a number cell: 2019.10 became 2019.1, the month is lost.
        raise CellError(
            _(
                "“%(value)s”是数字格式，Excel 把 2019.10 存成 2019.1，无法确定月份。"
                "请写成 2019-10-01 或 2019年10月，或把该列设置为“文本”格式后重新录入。"
            )
            % {"value": repr(raw)}
        )
    text = cell_text(raw)
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    formats = ("%Y%m%d",) if _EIGHT_DIGITS.match(text) else DATE_FORMATS
    for fmt in formats:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    found = _YEAR_MONTH.match(text)
    month = int(found["m1"] or found["m2"]) if found else 0
    if 1 <= month <= 12:
        # Counties' ledgers often keep only the month: the first day of it.
        return datetime.date(int(found["year"]), month, 1)
    raise CellError(
        _("“%(value)s”不是有效日期，请写成 2020-05-01 的形式（只知道年月的写 2020年5月）。")
        % {"value": text}
    )


def parse_bool(raw, default):
    if isinstance(raw, bool):
        return raw
    text = cell_text(raw).lower()
    if not text:
        return default if default is not None else False
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("“%(value)s”应填“是”或“否”。") % {"value": text})


def parse_id_number(raw):
    """The ID number text, refusing what Excel did to it when the column was not text."""
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        # A hostile .xls may hold an infinite or NaN number, which int() refuses.
        if math.isfinite(raw) and raw == int(raw) and len(str(int(raw))) == 15:
            raise CellError(str(OLD_FORMAT_MESSAGE))
        raise CellError(
            _(
                "身份证号被存成了数字（显示为 %(shown)s），Excel 只保留15位有效数字，"
                "末几位已变成0。请先把该列设置为“文本”格式（或在号码前加英文单引号 '），"
                "再重新录入或粘贴号码。"
            )
            % {"shown": f"{raw:.5E}" if raw >= 1e11 else str(raw)}
        )
    text = normalize_resident_id(unmarked(cell_text(raw)))
    if not text:
        return ""
    if "*" in text:
        raise CellError(_("身份证号已脱敏（含 *），不能用于导入。请使用完整号码。"))
    if _EXCEL_SCI.match(text):
        raise CellError(
            _(
                "身份证号被 Excel 转成了科学计数法（%(value)s），末几位已丢失。"
                "请把该列设置为“文本”格式后重新录入。"
            )
            % {"value": text}
        )
    text = whole_digits(text)
    if len(text) == 18 and text.isdigit() and text.endswith("000"):
        from communities.validators import check_digit

        if check_digit(text[:17]) != text[17]:
            raise CellError(
                _(
                    "身份证号末三位是000且校验码不符，像是 Excel 把号码当成数字后丢失了末几位。"
                    "请把该列设置为“文本”格式后重新录入。"
                )
            )
    return text


# Other words counties' own spreadsheets use for a choice: word → our Chinese
# label.  Applies to every choice column that has that label.
CHOICE_ALIASES = {
    # 与户主关系
    "本人": "户主",
    **dict.fromkeys(("之子", "儿子", "长子", "次子", "三子", "四子", "独子", "养子", "继子"), "子"),
    **dict.fromkeys(("之女", "女儿", "长女", "次女", "三女", "四女", "独女", "养女", "继女"), "女"),
    **dict.fromkeys(("妻", "妻子", "之妻", "夫", "丈夫", "之夫"), "配偶"),
    **dict.fromkeys(("儿媳妇", "之儿媳"), "儿媳"),
    **dict.fromkeys(("孙", "之孙"), "孙子"),
    **dict.fromkeys(("外孙", "外孙女"), "外孙子女"),
    "父": "父亲",
    "母": "母亲",
    **dict.fromkeys(("兄", "弟", "姐", "妹", "兄弟", "姐妹"), "兄弟姐妹"),
    **dict.fromkeys(("祖父母", "外祖父母", "祖父", "祖母", "外祖父", "外祖母"), "祖父母/外祖父母"),
    # 文化程度
    **dict.fromkeys(("文盲", "半文盲"), "文盲或半文盲"),
    **dict.fromkeys(("中专", "中职", "技校", "职高"), "中专/中职"),
    **dict.fromkeys(("专科", "大学专科"), "大专"),
    **dict.fromkeys(("本科", "大学本科", "大学", "研究生", "硕士", "博士"), "本科及以上"),
    # 健康状况
    "良好": "健康",
    **dict.fromkeys(("慢性病", "长期慢性病患者"), "长期慢性病"),
    **dict.fromkeys(("大病", "重病", "患大病"), "患有大病"),
    "残疾人": "残疾",
    # 劳动技能
    **dict.fromkeys(("弱劳动力", "半劳动力"), "弱劳动力或半劳动力"),
    "丧失劳动能力": "丧失劳动力",
    "无劳动能力": "无劳动力",
    # 搬迁户类别, 入住状态, 户籍状态, 低保
    **dict.fromkeys(("建档立卡户", "建档立卡贫困户", "脱贫户", "贫困户"), "建档立卡脱贫户"),
    **dict.fromkeys(("同步搬迁", "随迁户"), "同步搬迁户"),
    "已搬迁入住": "已入住",
    "未搬迁入住": "未入住",
    **dict.fromkeys(("已迁入", "户籍迁入"), "户籍已迁入"),
    **dict.fromkeys(("无", "否", "未纳入"), "未享受"),
    "农村": "农村低保",
    **dict.fromkeys(("城市", "城镇低保"), "城市低保"),
    # 就业类型, 就业地点
    **dict.fromkeys(("外出务工", "务工就业", "务工人员"), "务工"),
    **dict.fromkeys(("创业", "个体经营", "个体工商户", "个体户", "自主经营"), "自主创业"),
    **dict.fromkeys(("公益岗", "公益性岗位就业"), "公益性岗位"),
    **dict.fromkeys(("零工", "打零工", "灵活就业人员"), "灵活就业"),
    **dict.fromkeys(("种养殖", "农业", "种植", "养殖", "种植业", "养殖业", "种养业"), "务农"),
    **dict.fromkeys(("本县", "县内就业", "县内务工"), "县内"),
    **dict.fromkeys(
        ("省内", "县外省内", "省内务工", "州内县外", "市内县外", "州外省内", "市外省内"),
        "省内县外",
    ),
    **dict.fromkeys(("外省", "省外务工", "跨省务工", "跨省"), "省外"),
}

# Other names counties' own spreadsheets give the same column (after spaces are
# removed): alias → our Chinese header.  A file with these headers imports
# without renaming its columns.
HEADER_ALIASES = {
    "户号": "户编号",
    "户编码": "户编号",
    "安置点代码": "安置点编码",
    "安置区编码": "安置点编码",
    "身份证号码": "身份证号",
    "公民身份号码": "身份证号",
    "公民身份证号码": "身份证号",
    "证件号码": "身份证号",
    "与户主的关系": "与户主关系",
    "家庭关系": "与户主关系",
    "户主关系": "与户主关系",
    "学历": "文化程度",
    "健康状态": "健康状况",
    "劳动技能状况": "劳动技能",
    "劳动能力": "劳动技能",
    "在校情况": "在校阶段",
    "手机号码": "联系电话",
    "手机号": "联系电话",
    "联系方式": "联系电话",
    **dict.fromkeys(
        ("户主联系电话", "户主电话", "联系电话（户主）", "家庭联系电话", "户联系方式"), "户联系电话"
    ),
    "搬迁年份": "搬迁年度",
    "搬迁时间（年）": "搬迁年度",
    "户类型": "搬迁户类别",
    "入住时间": "入住日期",
    "是否参加医保": "参加医保",
    "是否参加养老保险": "参加养老保险",
    "是否享受低保": "低保",
    "统一信用代码": "统一社会信用代码",
    "企业名称": "单位名称",
    "就业形式": "就业类型",
    "就业地区": "就业地点",
    "月均收入（元）": "月收入（元）",
    "月工资（元）": "月收入（元）",
    **dict.fromkeys(("月工资", "月均工资", "月均收入", "月平均工资"), "月收入（元）"),
    "收入年度": "年度",
    **dict.fromkeys(("家庭人口", "家庭人口数", "家庭人数", "年末人口"), "年末家庭人口"),
    # 就业台账 as counties keep it
    "就业方式": "就业类型",
    **dict.fromkeys(("务工单位", "就业单位", "工作单位", "单位名称"), "单位名称（未登记）"),
    **dict.fromkeys(("岗位", "工种", "从事工种", "务工岗位"), "岗位/工种"),
    **dict.fromkeys(("务工地点", "务工地址", "务工所在地", "务工地区", "就业地址"), "务工地"),
    **dict.fromkeys(
        ("务工时间", "外出务工时间", "务工开始时间", "就业时间", "就业开始时间", "开始时间"),
        "开始日期",
    ),
    **dict.fromkeys(("务工结束时间", "就业结束时间", "结束时间"), "结束日期"),
}

# A unit (or a 必填 mark) in brackets at the end of a header: 月收入（元）, 住房面积(㎡).
# Other words in brackets say which thing is meant (联系电话（户主）): never dropped.
_UNIT = re.compile(
    r"[（(](元|万元|千元|元/月|元/年|㎡|m²|m2|平方米|平米|人|户|个|岁|%|％|亩|必填|选填)[）)]$"
)


class HeaderMap(dict):
    """{header: column}, where a header finds its column whatever the case of its
    letters ("Household number", "household number", "HOUSEHOLD NUMBER"), and also
    with a unit we do not write (工资性收入（元）) or without the one we write (月收入
    for 月收入（元）).  The keys are kept case-folded."""

    def __setitem__(self, header, column):
        super().__setitem__(header.casefold(), column)

    def holds(self, header):
        """Whether ``header`` itself (not without its unit) is a key."""
        return super().__contains__(header.casefold())

    def get(self, header, default=None):
        if not header:
            return default
        header = header.casefold()
        found = super().get(header)
        if found is None:
            found = super().get(_UNIT.sub("", header))
        return default if found is None else found

    def __contains__(self, header):
        return self.get(header) is not None


def headers_for_matching(columns, aliases=None):
    """{header text in any supported language, or a known alias: column}.

    ``aliases``: a kind's own other names for its headers (``Kind.header_aliases``),
    before the shared ``HEADER_ALIASES``.
    """
    mapping = HeaderMap()
    for column in columns:
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                # As a file's header is cleaned: "Monthly income (yuan)" too.
                mapping[clean_cell(str(column.header))] = column
    with translation.override("zh-hans"):
        chinese = {clean_cell(str(c.header)): c for c in columns}
    for alias, header in {**(aliases or {}), **HEADER_ALIASES}.items():
        alias = clean_cell(alias)
        if header in chinese and not mapping.holds(alias):
            mapping[alias] = chinese[header]
    # Our headers without their unit, where no other column reads the same.
    bare = {}
    for header, column in list(mapping.items()):
        if _UNIT.search(header):
            bare.setdefault(_UNIT.sub("", header), set()).add(column.key)
    for header, keys in bare.items():
        if len(keys) == 1 and not mapping.holds(header):
            (key,) = keys
            mapping[header] = next(c for c in columns if c.key == key)
    return mapping


def find_header_row(headers, rows, mapping, scan=ROWS_ABOVE_HEADER):
    """The header row: the first line, or a later one among the first ``scan``.

    Counties' files often start with a title ("××县易地扶贫搬迁花名册") or a
    note above the column names.  The row that names the most known columns
    wins when it names more than the first line does (at least
    ``KNOWN_HEADERS``).  Returns ``(headers, data rows, header row number)``;
    rows above the header row are dropped.
    """
    best, best_index = header_score(headers, mapping), None
    for index, (_number, values) in enumerate(rows[:scan]):
        score = header_score(values, mapping)
        if score > best and score >= KNOWN_HEADERS:
            best, best_index = score, index
    if best_index is None:
        return headers, rows, 1
    number, header_values = rows[best_index]
    return [clean_cell(v) for v in header_values], rows[best_index + 1 :], number


def clean_cell(value):
    from .reading import clean_header

    return clean_header(value)
