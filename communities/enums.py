"""Choices of the communities app, with the Chinese labels the users know."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省级")
    PREFECTURE = 2, _("地级")
    COUNTY = 3, _("县级")
    TOWNSHIP = 4, _("乡级")


class SettlementKind(models.TextChoices):
    URBAN = "urban", _("城镇集中安置")
    RURAL = "rural", _("农村集中安置")
    DISPERSED = "dispersed", _("分散安置")


class HouseholdCategory(models.TextChoices):
    REGISTERED_POOR = "registered_poor", _("建档立卡脱贫户")
    MOVED_ALONG = "moved_along", _("同步搬迁户")


class OccupancyState(models.TextChoices):
    MOVED_IN = "moved_in", _("已入住")
    NOT_MOVED_IN = "not_moved_in", _("未入住")
    RETURNED = "returned", _("回迁")


class HukouState(models.TextChoices):
    MOVED_IN = "moved_in", _("户籍已迁入")
    RESIDENCE_PERMIT = "residence_permit", _("保留原籍并办理居住证")
    ORIGINAL = "original", _("保留原籍未办理居住证")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Relationship(models.TextChoices):
    """与户主关系 (after GB/T 4761, grouped as rosters use them)."""

    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    SON = "son", pgettext_lazy("relationship", "子")
    DAUGHTER = "daughter", pgettext_lazy("relationship", "女")
    SON_IN_LAW = "son_in_law", _("女婿")
    DAUGHTER_IN_LAW = "daughter_in_law", _("儿媳")
    GRANDSON = "grandson", _("孙子")
    GRANDDAUGHTER = "granddaughter", _("孙女")
    DAUGHTERS_CHILD = "daughters_child", _("外孙子女")
    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")
    PARENT_IN_LAW = "parent_in_law", _("公婆/岳父母")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class Ethnicity(models.TextChoices):
    """The 56 officially recognised ethnic groups, coded per GB/T 3304."""

    HAN = "01", _("汉族")
    MONGOL = "02", _("蒙古族")
    HUI = "03", _("回族")
    TIBETAN = "04", _("藏族")
    UYGHUR = "05", _("维吾尔族")
    MIAO = "06", _("苗族")
    YI = "07", _("彝族")
    ZHUANG = "08", _("壮族")
    BUYI = "09", _("布依族")
    KOREAN = "10", _("朝鲜族")
    MANCHU = "11", _("满族")
    DONG = "12", _("侗族")
    YAO = "13", _("瑶族")
    BAI = "14", _("白族")
    TUJIA = "15", _("土家族")
    HANI = "16", _("哈尼族")
    KAZAKH = "17", _("哈萨克族")
    DAI = "18", _("傣族")
    LI = "19", _("黎族")
    LISU = "20", _("傈僳族")
    VA = "21", _("佤族")
    SHE = "22", _("畲族")
    GAOSHAN = "23", _("高山族")
    LAHU = "24", _("拉祜族")
    SHUI = "25", _("水族")
    DONGXIANG = "26", _("东乡族")
    NAXI = "27", _("纳西族")
    JINGPO = "28", _("景颇族")
    KYRGYZ = "29", _("柯尔克孜族")
    TU = "30", _("土族")
    DAUR = "31", _("达斡尔族")
    MULAO = "32", _("仫佬族")
    QIANG = "33", _("羌族")
    BLANG = "34", _("布朗族")
    SALAR = "35", _("撒拉族")
    MAONAN = "36", _("毛南族")
    GELAO = "37", _("仡佬族")
    XIBE = "38", _("锡伯族")
    ACHANG = "39", _("阿昌族")
    PUMI = "40", _("普米族")
    TAJIK = "41", _("塔吉克族")
    NU = "42", _("怒族")
    UZBEK = "43", _("乌孜别克族")
    RUSSIAN = "44", _("俄罗斯族")
    EWENKI = "45", _("鄂温克族")
    DEANG = "46", _("德昂族")
    BONAN = "47", _("保安族")
    YUGUR = "48", _("裕固族")
    GIN = "49", _("京族")
    TATAR = "50", _("塔塔尔族")
    DERUNG = "51", _("独龙族")
    OROQEN = "52", _("鄂伦春族")
    HEZHEN = "53", _("赫哲族")
    MONBA = "54", _("门巴族")
    LHOBA = "55", _("珞巴族")
    JINO = "56", _("基诺族")


class Education(models.TextChoices):
    PRESCHOOL = "preschool", _("学龄前")
    ILLITERATE = "illiterate", _("文盲或半文盲")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中专/中职")
    COLLEGE = "college", _("大专")
    BACHELOR = "bachelor", _("本科及以上")


class Health(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    CHRONIC = "chronic", _("长期慢性病")
    SERIOUS = "serious", _("患有大病")
    DISABLED = "disabled", _("残疾")


class DisabilityGrade(models.IntegerChoices):
    FIRST = 1, _("一级")
    SECOND = 2, _("二级")
    THIRD = 3, _("三级")
    FOURTH = 4, _("四级")


class LabourAbility(models.TextChoices):
    """Labour skill codes of the national follow-up monitoring system."""

    ORDINARY = "ordinary", _("普通劳动力")
    SKILLED = "skilled", _("技能劳动力")
    WEAK = "weak", _("弱劳动力或半劳动力")
    LOST = "lost", _("丧失劳动力")
    NONE = "none", _("无劳动力")


class SchoolStage(models.TextChoices):
    """School stage of a full-time student; blank means not in school."""

    PRESCHOOL = "preschool", _("学前教育")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("普通高中")
    VOCATIONAL = "vocational", _("中职")
    HIGHER_VOCATIONAL = "higher_vocational", _("高职/大专")
    UNDERGRADUATE = "undergraduate", _("本科")
    POSTGRADUATE = "postgraduate", _("研究生")


class Dibao(models.TextChoices):
    NONE = "", _("未享受")
    RURAL = "rural", _("农村低保")
    URBAN = "urban", _("城市低保")
