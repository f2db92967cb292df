"""Governance and monitoring: organisation (models).

Party organisations and their members, the 居民小组 of the management tree,
cadres paired with households (结对帮扶), visits (走访) and petitions
(利益诉求 / 矛盾纠纷) with their transition log.

Everything hangs off a settlement, directly or through a household, so area
scope is the ``scope_path`` of each QuerySet.  The management tree reuses
``communities``: 街道办事处 and 社区居委会 are the settlement's township and
community, 楼栋 and their 楼栋长 are ``Building``, 网格 and 网格员 are
``GridUnit``/``GridWorker``; only the 居民小组 is added here.
"""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.crypto import EncryptedCharField
from communities.history import HistoricalRecords, HistoryRecordingQuerySet
from communities.history_pii import TokenizedHistoricalRecords
from communities.models import Building, GridWorker, Household, Person, Settlement, covering_q
from communities.scope import ScopedQuerySetMixin
from communities.validators import normalize_phone, validate_phone

__all__ = [
    "Cadre",
    "Pairing",
    "PartyMember",
    "PartyOrganisation",
    "Petition",
    "PetitionCategory",
    "PetitionTransition",
    "ResidentGroup",
    "StairLeader",
    "Visit",
]


def _not_in_future(day, field, errors, message):
    if day and day > timezone.localdate():
        errors[field] = message


# --- party organisations ------------------------------------------------------------


class PartyOrgKind(models.TextChoices):
    """From the highest level down; a parent must be of a higher level than its child."""

    WORKING_COMMITTEE = "working_committee", _("街道党工委")
    COMMUNITY_COMMITTEE = "community_committee", _("社区党委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    GROUP = "group", _("党小组")


PARTY_ORG_RANK = {kind: rank for rank, kind in enumerate(PartyOrgKind.values)}


class SettlementScopedQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "settlement"


class PartyOrganisation(models.Model):
    """A party organisation of the community's tree, attached to a settlement for scope.

    A 街道党工委 serving several settlements is attached to its main one (where
    the 街道 sits); its children may belong to the other settlements.
    """

    name = models.CharField(_("党组织名称"), max_length=100)
    kind = models.CharField(_("层级"), max_length=24, choices=PartyOrgKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("所在安置点"),
        on_delete=models.PROTECT,
        related_name="party_organisations",
    )
    secretary = models.CharField(_("书记"), max_length=50, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = SettlementScopedQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("党组织历史"))

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = pgettext_lazy("plural", "党组织")
        ordering = ["settlement_id", "kind", "name"]
        permissions = [
            ("import_partyorganisation", _("可以导入党组织")),
            ("export_partyorganisation", _("可以导出党组织")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "name"],
                name="partyorg_unique_name_per_settlement",
                violation_error_message=_("该安置点已有同名党组织。"),
            ),
        ]
        indexes = [models.Index(fields=["settlement", "kind"], name="partyorg_settlement_kind")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        _not_in_future(self.founded_on, "founded_on", errors, _("成立日期不能晚于今天。"))
        if self.parent_id and self.kind:
            if self.pk and self.parent_id == self.pk:
                errors["parent"] = _("上级党组织不能是其本身。")
            elif PARTY_ORG_RANK[self.parent.kind] >= PARTY_ORG_RANK[self.kind]:
                errors["parent"] = _("上级党组织（%(parent)s）的层级必须高于%(kind)s。") % {
                    "parent": self.parent.get_kind_display(),
                    "kind": self.get_kind_display(),
                }
            elif self.pk and self._ancestor_ids(self.parent) & {self.pk}:
                errors["parent"] = _("上级党组织不能是其下级组织。")
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _ancestor_ids(org):
        seen = set()
        while org is not None and org.pk not in seen:
            seen.add(org.pk)
            org = org.parent
        return seen


class MemberOrigin(models.TextChoices):
    MOVED_IN = "moved_in", _("随搬迁转入")
    DEVELOPED = "developed", _("搬迁后发展")


class PartyMemberQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "organisation__settlement"


class PartyMember(models.Model):
    """党员: a resident of the roster, or a name for someone who lives elsewhere."""

    organisation = models.ForeignKey(
        PartyOrganisation,
        verbose_name=_("所在党组织"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("搬迁人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_memberships",
        help_text=_("是搬迁人员时选择；不是时留空并填写姓名。"),
    )
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    origin = models.CharField(_("来源"), max_length=16, choices=MemberOrigin.choices)
    active = models.BooleanField(_("在册"), default=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = PartyMemberQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("党员历史"))

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = pgettext_lazy("plural", "党员")
        ordering = ["organisation_id", "name"]
        permissions = [
            ("import_partymember", _("可以导入党员")),
            ("export_partymember", _("可以导出党员")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(person__isnull=False),
                name="partymember_unique_person",
                violation_error_message=_("该搬迁人员已登记为党员。"),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.person_id:
            self.name = self.person.name
            if self.organisation_id and (
                self.person.household.settlement_id != self.organisation.settlement_id
            ):
                errors["person"] = _("该搬迁人员不住在本党组织所在的安置点。")
        elif not self.name.strip():
            errors["name"] = _("不是搬迁人员的党员须填写姓名。")
        _not_in_future(self.joined_on, "joined_on", errors, _("入党日期不能晚于今天。"))
        if errors:
            raise ValidationError(errors)


# --- management tree ----------------------------------------------------------------


class ResidentGroup(models.Model):
    """居民小组 of a 社区居委会 (the settlement), grouping some of its buildings."""

    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("安置点"),
        on_delete=models.PROTECT,
        related_name="resident_groups",
    )
    name = models.CharField(_("居民小组"), max_length=50)
    leader_name = models.CharField(_("组长"), max_length=50, blank=True)
    buildings = models.ManyToManyField(
        Building, verbose_name=_("包含楼栋"), blank=True, related_name="resident_groups"
    )

    objects = SettlementScopedQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("居民小组历史"), m2m_fields=[buildings])

    class Meta:
        verbose_name = _("居民小组")
        verbose_name_plural = pgettext_lazy("plural", "居民小组")
        ordering = ["settlement_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "name"],
                name="residentgroup_unique_name",
                violation_error_message=_("该安置点已有同名居民小组。"),
            ),
        ]

    def __str__(self):
        return f"{self.settlement.name} {self.name}"


class StairLeaderRole(models.TextChoices):
    CHIEF = "chief", _("总楼长")
    UNIT = "unit", _("分楼长")


class StairLeaderQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "building__settlement"


class StairLeader(models.Model):
    """总楼长 of a building, or 分楼长 of one of its units (below the building's 楼栋长)."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.CASCADE, related_name="stair_leaders"
    )
    role = models.CharField(_("职责"), max_length=8, choices=StairLeaderRole.choices)
    unit = models.PositiveSmallIntegerField(
        _("单元"), null=True, blank=True, help_text=_("分楼长负责的单元号；总楼长留空。")
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )

    objects = StairLeaderQuerySet.as_manager()
    history = TokenizedHistoricalRecords(verbose_name=_("楼长历史"), pii_fields={"phone": "phone"})

    class Meta:
        verbose_name = _("楼长")
        verbose_name_plural = pgettext_lazy("plural", "楼长")
        ordering = ["building_id", "role", "unit"]

    def __str__(self):
        return f"{self.building} {self.get_role_display()} {self.name}"

    def clean_fields(self, exclude=None):
        self.phone = normalize_phone(self.phone)
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        if self.role == StairLeaderRole.UNIT and not self.unit:
            errors["unit"] = _("分楼长须填写负责的单元号。")
        elif self.role == StairLeaderRole.CHIEF and self.unit:
            errors["unit"] = _("总楼长负责整栋楼，不填单元号。")
        elif self.unit and self.building_id and self.unit > self.building.units:
            errors["unit"] = _("该楼栋只有%(n)d个单元。") % {"n": self.building.units}
        if errors:
            raise ValidationError(errors)


# --- cadres, pairings and visits ----------------------------------------------------


class Cadre(models.Model):
    """帮扶干部, assigned to one settlement, pairs with its households."""

    name = models.CharField(_("姓名"), max_length=50)
    unit = models.CharField(_("工作单位"), max_length=100)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("帮扶安置点"),
        on_delete=models.PROTECT,
        related_name="cadres",
    )
    active = models.BooleanField(_("在岗"), default=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = SettlementScopedQuerySet.as_manager()
    history = TokenizedHistoricalRecords(
        verbose_name=_("帮扶干部历史"), pii_fields={"phone": "phone"}
    )

    class Meta:
        verbose_name = _("帮扶干部")
        verbose_name_plural = pgettext_lazy("plural", "帮扶干部")
        ordering = ["settlement_id", "name"]
        permissions = [
            ("import_cadre", _("可以导入帮扶干部和结对")),
            ("export_cadre", _("可以导出帮扶干部和结对")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "unit", "name"],
                name="cadre_unique_per_unit",
                violation_error_message=_("该安置点已有同单位同名的帮扶干部。"),
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.unit}）"

    def clean_fields(self, exclude=None):
        self.phone = normalize_phone(self.phone)
        super().clean_fields(exclude=exclude)


class HouseholdScopedQuerySet(ScopedQuerySetMixin, HistoryRecordingQuerySet):
    scope_path = "household__settlement"


class Pairing(models.Model):
    """结对帮扶: a cadre and a household, from a date until ended."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("帮扶干部"), on_delete=models.PROTECT, related_name="pairings"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("结对户"),
        on_delete=models.CASCADE,
        related_name="pairings",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
    )
    start_date = models.DateField(_("结对日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = HouseholdScopedQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("结对帮扶历史"), no_db_index=["cadre", "household"])

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = pgettext_lazy("plural", "结对帮扶")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "household"],
                condition=Q(end_date__isnull=True),
                name="pairing_unique_open",
                violation_error_message=_("该干部与该户已在结对中。"),
            ),
        ]
        indexes = [
            models.Index(fields=["household", "end_date"], name="pairing_household_end"),
            # The 结对帮扶 list's own order (newest first), read backwards: without it
            # every page sorted the whole table (0.25–0.4 s at 2 million people).
            models.Index(fields=["start_date", "id"], name="pairing_start_order"),
        ]

    def __str__(self):
        return f"{self.cadre.name} — {self.household.number}"

    def clean(self):
        errors = {}
        if (
            self.cadre_id
            and self.household_id
            and self.household.settlement_id != self.cadre.settlement_id
        ):
            errors["household"] = _("该户不在该干部的帮扶安置点（%(settlement)s）内。") % {
                "settlement": self.cadre.settlement.name
            }
        _not_in_future(self.start_date, "start_date", errors, _("结对日期不能晚于今天。"))
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("结束日期不能早于结对日期。")
        if errors:
            raise ValidationError(errors)


def visit_interval_days():
    """N of the work list 「结对户超过N天未走访」 (settings.GOVERNANCE_VISIT_INTERVAL_DAYS)."""
    return int(getattr(settings, "GOVERNANCE_VISIT_INTERVAL_DAYS", 90))


def unvisited_households(households, day=None):
    """结对户超过N天未走访 on ``day`` (today): ``households`` with a pairing open that day
    and no visit in the ``visit_interval_days()`` days up to it.  The list filter, the
    工作清单 and the dashboards' stored count (``pairings_unvisited``) all use this."""
    day = day or timezone.localdate()
    since = day - datetime.timedelta(days=visit_interval_days())
    paired = Pairing.objects.filter(covering_q(day), household=models.OuterRef("pk"))
    visited = Visit.objects.filter(
        household=models.OuterRef("pk"), visited_on__gt=since, visited_on__lte=day
    )
    return households.filter(models.Exists(paired)).filter(~models.Exists(visited))


class VisitWay(models.TextChoices):
    HOME = "home", _("入户")
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")
    VIDEO = "video", _("视频")
    OFFICE = "office", _("来访")
    OTHER = "other", _("其他")


class FollowUpState(models.TextChoices):
    NONE = "none", _("无需跟进")
    PENDING = "pending", _("待跟进")
    IN_PROGRESS = "in_progress", _("跟进中")
    DONE = "done", _("已解决")


OPEN_FOLLOW_UP = (FollowUpState.PENDING, FollowUpState.IN_PROGRESS)


class Visit(models.Model):
    """走访 of a household by a cadre or a grid worker."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("走访户"),
        on_delete=models.CASCADE,
        related_name="visits",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
    )
    cadre = models.ForeignKey(
        Cadre,
        verbose_name=_("帮扶干部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    grid_worker = models.ForeignKey(
        GridWorker,
        verbose_name=_("网格员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_on = models.DateField(_("走访日期"))
    way = models.CharField(_("走访方式"), max_length=12, choices=VisitWay.choices)
    findings = models.TextField(_("走访情况"), blank=True)
    needs = models.TextField(_("提出的诉求"), blank=True)
    follow_up = models.TextField(_("跟进措施"), blank=True)
    follow_up_state = models.CharField(
        _("跟进状态"), max_length=12, choices=FollowUpState.choices, default=FollowUpState.NONE
    )

    objects = HouseholdScopedQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("走访历史"), no_db_index=["household", "cadre", "grid_worker"]
    )

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = pgettext_lazy("plural", "走访记录")
        ordering = ["-visited_on", "-id"]
        permissions = [
            ("import_visit", _("可以导入走访记录")),
            ("export_visit", _("可以导出走访记录")),
        ]
        indexes = [
            models.Index(fields=["household", "-visited_on"], name="visit_household_date"),
            models.Index(fields=["visited_on"], name="visit_date"),
            models.Index(
                fields=["follow_up_state"],
                condition=Q(follow_up_state__in=["pending", "in_progress"]),
                name="visit_open_follow_up",
            ),
        ]

    def __str__(self):
        return f"{self.household.number} {self.visited_on}"

    def clean(self):
        errors = {}
        if bool(self.cadre_id) == bool(self.grid_worker_id):
            errors["cadre"] = _("请填写走访人：帮扶干部或网格员，二者选一。")
        elif self.household_id:
            settlement_id = self.household.settlement_id
            if self.cadre_id and self.cadre.settlement_id != settlement_id:
                errors["cadre"] = _("该干部不在该户所在安置点帮扶。")
            if self.grid_worker_id and self.grid_worker.grid.settlement_id != settlement_id:
                errors["grid_worker"] = _("该网格员不属于该户所在安置点。")
        _not_in_future(self.visited_on, "visited_on", errors, _("走访日期不能晚于今天。"))
        if self.needs.strip() and self.follow_up_state == FollowUpState.NONE:
            errors["follow_up_state"] = _(
                "提出了诉求的走访须选择跟进状态（待跟进、跟进中或已解决）。"
            )
        if self.follow_up_state == FollowUpState.DONE and not self.follow_up.strip():
            errors["follow_up"] = _("跟进状态为“已解决”时须填写跟进措施。")
        if errors:
            raise ValidationError(errors)


# --- petitions ----------------------------------------------------------------------


class PetitionCategory(models.Model):
    """Kind of petition with its handling time limit (reference data)."""

    name = models.CharField(_("类别"), max_length=50, unique=True)
    due_days = models.PositiveSmallIntegerField(
        _("办理时限（天）"),
        validators=[
            MinValueValidator(1, message=_("办理时限至少1天。")),
            MaxValueValidator(365, message=_("办理时限不能超过365天。")),
        ],
        help_text=_("自受理日期起计算的自然日天数，决定每件诉求的办结期限。"),
    )
    active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords(verbose_name=_("诉求类别历史"))

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = pgettext_lazy("plural", "诉求类别")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PetitionChannel(models.TextChoices):
    WINDOW = "window", _("窗口")
    PHONE = "phone", _("电话")
    GRID = "grid", _("网格员上报")
    TRANSFER = "transfer", _("信访转办")
    HOTLINE = "hotline", _("12345热线")
    ONLINE = "online", _("网上")
    VISIT = "visit", _("走访发现")


class PetitionState(models.TextChoices):
    ACCEPTED = "accepted", _("受理")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已办结")
    FOLLOWED_UP = "followed_up", _("已回访")
    REJECTED = "rejected", _("不予受理")


OPEN_PETITION = (PetitionState.ACCEPTED, PetitionState.IN_PROGRESS)
#: the only moves allowed: state -> states it may go to
PETITION_FLOW = {
    PetitionState.ACCEPTED: (PetitionState.IN_PROGRESS, PetitionState.REJECTED),
    PetitionState.IN_PROGRESS: (PetitionState.RESOLVED,),
    PetitionState.RESOLVED: (PetitionState.FOLLOWED_UP,),
    PetitionState.FOLLOWED_UP: (),
    PetitionState.REJECTED: (),
}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIRLY = "fairly", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


SATISFIED = (Satisfaction.SATISFIED, Satisfaction.FAIRLY)


class PetitionQuerySet(SettlementScopedQuerySet):
    def overdue(self, on_date=None):
        """Still open on ``on_date`` (today) and past their due date."""
        on_date = on_date or timezone.localdate()
        return self.filter(received_on__lte=on_date, due_on__lt=on_date).filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=on_date)
        )


class Petition(models.Model):
    """利益诉求 / 矛盾纠纷: received, handled, closed and followed up, every step logged."""

    settlement = models.ForeignKey(
        Settlement, verbose_name=_("安置点"), on_delete=models.PROTECT, related_name="petitions"
    )
    number = models.CharField(
        _("登记编号"),
        max_length=32,
        blank=True,
        help_text=_("本安置点内唯一；留空时系统按受理日期自动编号。"),
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("诉求户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("诉求人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    group = models.CharField(
        _("群体诉求"),
        max_length=200,
        blank=True,
        help_text=_("多人联名或群体诉求时描述群体，如“3栋住户12户”。"),
    )
    phone = EncryptedCharField(
        _("联系电话"), max_length=20, blank=True, validators=[validate_phone]
    )
    category = models.ForeignKey(
        PetitionCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("来源渠道"), max_length=12, choices=PetitionChannel.choices)
    received_on = models.DateField(_("受理日期"))
    summary = models.TextField(_("诉求内容"))
    handler = models.CharField(_("承办人/单位"), max_length=100, blank=True)
    due_on = models.DateField(_("办结期限"), editable=False)
    state = models.CharField(
        _("状态"),
        max_length=12,
        choices=PetitionState.choices,
        default=PetitionState.ACCEPTED,
        editable=False,
    )
    resolution = models.TextField(_("办理结果"), blank=True, editable=False)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True, editable=False)
    handling_days = models.PositiveIntegerField(
        _("办理天数"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("受理日期至办结日期的自然日天数（办结时记录）。"),
    )
    followed_up_on = models.DateField(_("回访日期"), null=True, blank=True, editable=False)
    satisfaction = models.CharField(
        _("满意度"), max_length=12, choices=Satisfaction.choices, blank=True, editable=False
    )
    reject_reason = models.TextField(_("不予受理理由"), blank=True, editable=False)

    objects = PetitionQuerySet.as_manager()
    history = TokenizedHistoricalRecords(
        verbose_name=_("利益诉求历史"), pii_fields={"phone": "phone"}
    )

    class Meta:
        verbose_name = _("利益诉求")
        verbose_name_plural = pgettext_lazy("plural", "利益诉求")
        ordering = ["-received_on", "-id"]
        permissions = [
            ("import_petition", _("可以导入利益诉求")),
            ("export_petition", _("可以导出利益诉求")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "number"],
                name="petition_unique_number",
                violation_error_message=_("该安置点已有相同登记编号的诉求。"),
            ),
        ]
        indexes = [
            # The list's default order (newest first) over a whole province.
            models.Index(fields=["-received_on", "-id"], name="petition_recent"),
            # The list, newest first, inside a settlement; period counters per settlement.
            models.Index(fields=["settlement", "-received_on"], name="petition_settlement_recv"),
            models.Index(fields=["settlement", "closed_on"], name="petition_settlement_closed"),
            # Overdue work list and filter: open ones by due date.
            models.Index(
                fields=["due_on"],
                condition=Q(state__in=["accepted", "in_progress"]),
                name="petition_open_due",
            ),
            models.Index(fields=["state", "-received_on"], name="petition_state_recv"),
            models.Index(fields=["category", "-received_on"], name="petition_category_recv"),
        ]

    def __str__(self):
        return f"{self.received_on} {self.category}"

    def save(self, *args, **kwargs):
        if self.received_on and self.category_id and (self._state.adding or not self.due_on):
            self.due_on = self.received_on + datetime.timedelta(days=self.category.due_days)
        if not self.number and self.received_on:
            self.number = f"{self.received_on:%Y%m%d}-{secrets.token_hex(3).upper()}"
        super().save(*args, **kwargs)

    @property
    def who(self):
        if self.person_id:
            return self.person.name
        if self.household_id:
            return self.household.number
        return self.group

    @property
    def is_open(self):
        return self.state in OPEN_PETITION

    def is_overdue(self, on_date=None):
        on_date = on_date or timezone.localdate()
        return self.is_open and self.due_on is not None and self.due_on < on_date

    def clean_fields(self, exclude=None):
        self.phone = normalize_phone(self.phone)
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        if not (self.household_id or self.person_id or self.group.strip()):
            errors["group"] = _("请填写诉求人：选择搬迁户或人员，或描述群体。")
        if self.person_id and self.household_id and self.person.household_id != self.household_id:
            errors["person"] = _("该人员不是所选搬迁户的家庭成员。")
        if self.settlement_id:
            if self.household_id and self.household.settlement_id != self.settlement_id:
                errors["household"] = _("该户不在所选安置点。")
            if self.person_id and self.person.household.settlement_id != self.settlement_id:
                errors["person"] = _("该人员不在所选安置点。")
        _not_in_future(self.received_on, "received_on", errors, _("受理日期不能晚于今天。"))
        if errors:
            raise ValidationError(errors)

    # --- the state machine ----------------------------------------------------------
    def check_transition(self, to_state, *, on_date, resolution="", satisfaction="", reason=""):
        """Raise ValidationError (keyed by form field) unless the move is allowed."""
        if to_state not in PETITION_FLOW.get(self.state, ()):
            allowed = "、".join(str(PetitionState(s).label) for s in PETITION_FLOW[self.state])
            raise ValidationError(
                {
                    "next_state": _("“%(state)s”的诉求只能转为：%(allowed)s。")
                    % {"state": self.get_state_display(), "allowed": allowed or _("（已结束）")}
                }
            )
        errors = {}
        if on_date is None:
            errors["action_date"] = _("请填写办理日期。")
        elif on_date > timezone.localdate():
            errors["action_date"] = _("办理日期不能晚于今天。")
        elif on_date < self.received_on:
            errors["action_date"] = _("办理日期不能早于受理日期。")
        elif to_state == PetitionState.FOLLOWED_UP and self.closed_on and on_date < self.closed_on:
            errors["action_date"] = _("回访日期不能早于办结日期。")
        if to_state == PetitionState.RESOLVED and not resolution.strip():
            errors["resolution"] = _("办结须填写办理结果。")
        if to_state == PetitionState.FOLLOWED_UP and not satisfaction:
            errors["satisfaction"] = _("回访须选择满意度。")
        if to_state == PetitionState.REJECTED and not reason.strip():
            errors["reject_reason"] = _("不予受理须填写理由。")
        if errors:
            raise ValidationError(errors)

    def transition(
        self, to_state, *, user, on_date, note="", resolution="", satisfaction="", reason=""
    ):
        """Move to ``to_state`` and log it; everything or nothing."""
        self.check_transition(
            to_state,
            on_date=on_date,
            resolution=resolution,
            satisfaction=satisfaction,
            reason=reason,
        )
        from_state = self.state
        self.state = to_state
        if to_state == PetitionState.RESOLVED:
            self.resolution, self.closed_on = resolution.strip(), on_date
            self.handling_days = (on_date - self.received_on).days
        elif to_state == PetitionState.REJECTED:
            self.reject_reason, self.closed_on = reason.strip(), on_date
        elif to_state == PetitionState.FOLLOWED_UP:
            self.satisfaction, self.followed_up_on = satisfaction, on_date
        with transaction.atomic():
            self.save()
            PetitionTransition.objects.create(
                petition=self,
                from_state=from_state,
                to_state=to_state,
                on_date=on_date,
                by=user if getattr(user, "is_authenticated", False) else None,
                note=note,
            )


class PetitionTransitionQuerySet(ScopedQuerySetMixin, models.QuerySet):
    scope_path = "petition__settlement"


class PetitionTransition(models.Model):
    """One step of a petition: who moved it, from which state to which, and when."""

    petition = models.ForeignKey(
        Petition, verbose_name=_("利益诉求"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(
        _("原状态"), max_length=12, choices=PetitionState.choices, blank=True
    )
    to_state = models.CharField(_("新状态"), max_length=12, choices=PetitionState.choices)
    on_date = models.DateField(_("办理日期"))
    at = models.DateTimeField(_("记录时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)

    objects = PetitionTransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = pgettext_lazy("plural", "办理记录")
        ordering = ["petition_id", "at", "id"]

    def __str__(self):
        return f"{self.get_from_state_display() or '—'} → {self.get_to_state_display()}"
