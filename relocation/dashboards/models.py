"""Stored figures: per settlement, per period, per component of an indicator.

Dashboards never count people on a page view.  The engine stores, for every
settlement and period, the *components* the indicators are built from (counts,
sums, numerators and denominators); a page sums those rows by area in one
grouped query and derives rates from the summed parts, so a rate at any level
is recomputed from its numerator and denominator, never averaged.

Past periods are snapshots (``snapshot_indicators``); the running period of
each kind is kept fresh by ``engine.refresh_live``.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Settlement

from .periods import PeriodKind, PeriodSpec


class Period(models.Model):
    """统计期: one year, quarter or month whose figures are stored."""

    kind = models.CharField(_("周期类型"), max_length=8, choices=PeriodKind.choices)
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("截止日期"))
    reference_date = models.DateField(
        _("统计日期"), help_text=_("时点指标的统计日期：期末，或本期进行中时的计算当日。")
    )
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("统计期")
        verbose_name_plural = pgettext_lazy("plural", "统计期")
        ordering = ["kind", "-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "start"],
                name="dashboard_period_unique",
                violation_error_message=_("该统计期已存在。"),
            )
        ]

    def __str__(self):
        return str(self.spec.label)

    @property
    def spec(self):
        return PeriodSpec(self.kind, self.start)


class SettlementFigure(models.Model):
    """One component of the indicators for one settlement and period."""

    period = models.ForeignKey(
        Period,
        verbose_name=_("统计期"),
        on_delete=models.CASCADE,
        related_name="figures",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
        # Figures are derived rows the engine writes from the settlements and periods
        # it has just read, and Django deletes them with their settlement or period
        # (on_delete).  A database constraint checked each of the whole country's
        # rows again at commit: 38 million checks, about two minutes of the nightly
        # refresh.
        db_constraint=False,
    )
    settlement = models.ForeignKey(
        Settlement,
        verbose_name=_("安置点"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # as ``period``
        # Every read names the period, and the unique index (period, settlement, key)
        # serves it; an index of the settlement alone took a sixth of each period's
        # write (inserted at a thousand places a period) and served only the rare
        # deletion of a settlement, which scans the table instead.
        db_index=False,
    )
    # The settlement's county and township when the figure was computed: areas
    # are sums over a prefix of the county code without joining settlements.
    county_code = models.CharField(_("县级区划代码"), max_length=12)
    township_code = models.CharField(_("乡级区划代码"), max_length=12, blank=True)
    key = models.CharField(_("指标分量"), max_length=48)
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("安置点指标值")
        verbose_name_plural = pgettext_lazy("plural", "安置点指标值")
        indexes = [
            # Dashboard reads: one period, the settlements of a prefecture or
            # county (county_code LIKE '5223%'), grouped by area and key.
            models.Index(fields=["period", "county_code", "key"], name="dashboard_figure_area"),
        ]
        constraints = [
            # Also serves the refresh of some settlements of a period.
            models.UniqueConstraint(
                fields=["period", "settlement", "key"],
                name="dashboard_figure_unique",
                violation_error_message=_("该安置点该期的指标值已存在。"),
            )
        ]

    def __str__(self):
        return f"{self.settlement_id} {self.key}={self.value}"


class AreaFigure(models.Model):
    """One component summed over a region (province to township) for a period.

    Derived from ``SettlementFigure`` whenever a period is stored, so that a
    page reads a region's totals, its children and its trend from a few dozen
    rows instead of summing every settlement again; the sums are the same.
    """

    period = models.ForeignKey(
        Period,
        verbose_name=_("统计期"),
        on_delete=models.CASCADE,
        related_name="area_figures",
        # Served by the composite index that starts with it (below): no index of its own.
        db_index=False,
        db_constraint=False,  # as ``SettlementFigure.period``
    )
    level = models.CharField(_("区划级别"), max_length=12)
    area_code = models.CharField(_("区划代码"), max_length=12)
    key = models.CharField(_("指标分量"), max_length=48)
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("区域指标值")
        verbose_name_plural = pgettext_lazy("plural", "区域指标值")
        indexes = [
            # A region's children: one period, one level, codes under a prefix.
            models.Index(fields=["period", "level", "area_code"], name="dashboard_area_children"),
        ]
        constraints = [
            # Also serves a region's totals and trend (period, its code, keys).
            models.UniqueConstraint(
                fields=["area_code", "period", "key"],
                name="dashboard_area_figure_unique",
                violation_error_message=_("该区域该期的指标值已存在。"),
            )
        ]

    def __str__(self):
        return f"{self.area_code} {self.key}={self.value}"


class LiveState(models.Model):
    """Bookkeeping of the running periods' refresh (a single row, pk 1)."""

    reference_date = models.DateField(_("统计日期"), null=True)
    refreshed_at = models.DateTimeField(_("刷新时间"), null=True)
    changes_seen_until = models.DateTimeField(
        _("已处理的变更截至"),
        null=True,
        help_text=_("早于此时的数据变更已计入当期指标。"),
    )
    full_refresh_requested_at = models.DateTimeField(_("已请求全量刷新"), null=True)
    stale_recompute_requested_at = models.DateTimeField(_("已请求重算往期"), null=True)
    # History rows per watched model in the look-back window before
    # ``changes_seen_until``, as counted then: more of them later means a
    # transaction stamped earlier committed since, and the window is read again.
    window_counts = models.JSONField(_("回看窗口内的变更数"), default=dict)
    # The other transactions running when the refresh counted that window (PostgreSQL's
    # ids, as text; None elsewhere): only one of them can commit a row stamped inside
    # it later, so while none has committed, the window needs no counting again.
    open_transactions = models.JSONField(_("刷新时未结束的事务"), null=True, default=None)

    class Meta:
        verbose_name = _("当期指标刷新状态")
        verbose_name_plural = pgettext_lazy("plural", "当期指标刷新状态")

    def __str__(self):
        return f"{self.reference_date} {self.refreshed_at}"


def validate_indicator_key(value):
    """An indicator of the registry, or of the catalogue whose app is not installed yet."""
    from .programmes import known_indicator_keys

    if value not in known_indicator_keys():
        raise ValidationError(
            _("指标编码“%(key)s”不存在：请从列表中选择已登记的指标（见指标目录）。"),
            code="unknown_indicator",
            params={"key": value},
        )


class ProgrammeView(models.Model):
    """看板视图: a named, ordered selection of indicators grouped into themes.

    Kept as data that an administrator edits (seed 000's 六心, seed 001's 五个体系,
    seed 004's 六抓 …); selectable beside the default dashboard at every level.
    """

    key = models.SlugField(
        _("视图编码"),
        max_length=32,
        unique=True,
        help_text=_("网址中使用（?view=编码），只能包含英文字母、数字、连字符和下划线。"),
        error_messages={"unique": _("该视图编码已被使用。")},
    )
    name = models.CharField(_("视图名称"), max_length=60)
    description = models.TextField(_("说明"), blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    active = models.BooleanField(
        _("启用"), default=True, help_text=_("只有启用的视图出现在数据看板的视图选择中。")
    )

    class Meta:
        verbose_name = _("看板视图")
        verbose_name_plural = pgettext_lazy("plural", "看板视图")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name


class ProgrammeTheme(models.Model):
    """One headed group of a programme view (聚心, 稳心 … or 抓增收 …)."""

    view = models.ForeignKey(
        ProgrammeView, verbose_name=_("看板视图"), on_delete=models.CASCADE, related_name="themes"
    )
    name = models.CharField(_("主题名称"), max_length=60)
    description = models.CharField(_("主题说明"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("视图主题")
        verbose_name_plural = pgettext_lazy("plural", "视图主题")
        ordering = ["view", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["view", "name"],
                name="dashboard_programme_theme_unique",
                violation_error_message=_("同一视图中主题名称不能重复。"),
            )
        ]

    def __str__(self):
        return f"{self.view} · {self.name}"


class ProgrammeItem(models.Model):
    """One indicator of a theme, by its registry key."""

    theme = models.ForeignKey(
        ProgrammeTheme, verbose_name=_("视图主题"), on_delete=models.CASCADE, related_name="items"
    )
    indicator = models.CharField(
        _("指标"),
        max_length=64,
        validators=[validate_indicator_key],
        help_text=_("尚未安装的模块的指标可以先列入，模块安装后自动显示。"),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("视图指标")
        verbose_name_plural = pgettext_lazy("plural", "视图指标")
        ordering = ["theme", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["theme", "indicator"],
                name="dashboard_programme_item_unique",
                violation_error_message=_("同一主题中指标不能重复。"),
            )
        ]

    def __str__(self):
        return self.indicator


class StaleFigure(models.Model):
    """A stored period's figures of one settlement and source, made stale by a correction.

    A change to records dated inside a closed period (an employment record that
    began in October, a referral of October, the income of a year) marks the
    periods it touches; the job worker recomputes those sources for those
    settlements only (``relocation.dashboards.stale``) and removes the mark.
    """

    period = models.ForeignKey(
        Period, verbose_name=_("统计期"), on_delete=models.CASCADE, related_name="stale"
    )
    settlement = models.ForeignKey(
        Settlement, verbose_name=_("安置点"), on_delete=models.CASCADE, related_name="+"
    )
    # As on SettlementFigure: an area's marks are found by code prefix without a join.
    county_code = models.CharField(_("县级区划代码"), max_length=12)
    township_code = models.CharField(_("乡级区划代码"), max_length=12, blank=True)
    source = models.CharField(_("指标来源"), max_length=48)
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("待重算的往期指标")
        verbose_name_plural = pgettext_lazy("plural", "待重算的往期指标")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "settlement", "source"],
                name="dashboard_stale_unique",
                violation_error_message=_("该安置点该期的重算标记已存在。"),
            )
        ]

    def __str__(self):
        return f"{self.period_id} {self.settlement_id} {self.source}"
