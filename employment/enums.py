"""Choice lists of the employment app (codes stable, labels translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EmployerKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    WORKSHOP = "workshop", _("帮扶车间")
    COOPERATIVE = "cooperative", _("农民专业合作社")
    COLLECTIVE = "collective", _("集体经济组织")
    PUBLIC_WELFARE = "public_welfare", _("公益性岗位开发单位")
    INDIVIDUAL = "individual", _("个体工商户")
    OTHER = "other", _("其他")


# Kinds whose employees count as 帮扶车间就业 (INDICATORS.md: workshop_employed).
WORKSHOP_KINDS = (EmployerKind.WORKSHOP, EmployerKind.COLLECTIVE)


class EmployerLocation(models.TextChoices):
    """Where a work site lies relative to the settlement it serves."""

    IN_SETTLEMENT = "in_settlement", _("安置点内")
    NEARBY = "nearby", _("安置点周边")
    IN_COUNTY = "in_county", _("县内其他地方")
    IN_PROVINCE = "in_province", _("省内县外")
    OUT_OF_PROVINCE = "out_of_province", _("省外")


class EmploymentKind(models.TextChoices):
    WAGE = "wage", _("务工")
    SELF_EMPLOYED = "self_employed", _("自主创业")
    PUBLIC_WELFARE = "public_welfare", _("公益性岗位")
    FLEXIBLE = "flexible", _("灵活就业")
    FARMING = "farming", _("务农")


# INDICATORS.md: these kinds make a person "employed"; farming is reported apart.
EMPLOYED_KINDS = (
    EmploymentKind.WAGE,
    EmploymentKind.SELF_EMPLOYED,
    EmploymentKind.PUBLIC_WELFARE,
    EmploymentKind.FLEXIBLE,
)
# A person holds at most one job of these kinds at any time; flexible work and
# farming may run alongside anything.
EXCLUSIVE_KINDS = (
    EmploymentKind.WAGE,
    EmploymentKind.SELF_EMPLOYED,
    EmploymentKind.PUBLIC_WELFARE,
)


class WorkPlace(models.TextChoices):
    IN_COUNTY = "in_county", _("县内")
    IN_PROVINCE = "in_province", _("省内县外")
    OUT_OF_PROVINCE = "out_of_province", _("省外")


class FoundVia(models.TextChoices):
    ORGANISED = "organised", _("有组织劳务输出")
    REFERRAL = "referral", _("岗位推送")
    WORKSHOP = "workshop", _("帮扶车间吸纳")
    PUBLIC_POST = "public_post", _("公益性岗位安置")
    SELF = "self", _("自行就业")
    OTHER = "other", _("其他")


class PostingState(models.TextChoices):
    OPEN = "open", _("招聘中")
    FILLED = "filled", _("已招满")
    CLOSED = "closed", _("已关闭")


class ReferralOutcome(models.TextChoices):
    PENDING = "pending", _("待反馈")
    INTERVIEW = "interview", _("已面试")
    HIRED = "hired", _("已录用")
    DECLINED = "declined", _("本人放弃")
    REJECTED = "rejected", _("未录用")


class TrainingKind(models.TextChoices):
    GUIDANCE = "guidance", _("引导性培训")
    SKILL = "skill", _("职业技能培训")
    ENTREPRENEURSHIP = "entrepreneurship", _("创业培训")
    APPRENTICESHIP = "apprenticeship", _("以工代训/岗位技能提升")


class ClaimReason(models.TextChoices):
    UNEMPLOYMENT = "unemployment", _("失业")
    INJURY = "injury", _("工伤或意外伤害")
    ILLNESS = "illness", _("疾病")
    OTHER = "other", _("其他")


class ClaimState(models.TextChoices):
    SUBMITTED = "submitted", _("已申报")
    PAID = "paid", _("已赔付")
    REJECTED = "rejected", _("不予赔付")


class LoanState(models.TextChoices):
    APPLIED = "applied", _("已申请")
    GRANTED = "granted", _("已放款")
    REPAID = "repaid", _("已结清")
    OVERDUE = "overdue", _("逾期")
