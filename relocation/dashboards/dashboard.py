"""Everything one dashboard page (or its export) shows, built from stored figures.

``build(area, ...)`` runs a fixed number of queries whatever the number of
areas: the periods of the chosen kind, the summed components of the chosen
period by child area, the previous period's totals, the trend over recent
periods, and the names of the child areas.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from html import escape

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from communities.models import Region, Settlement
from relocation.spreadsheets.cells import plain

from . import engine, links
from .areas import area_url
from .models import AreaFigure, Period
from .periods import PeriodKind, PeriodSpec, parse_period, period_containing
from .registry import DOWN, NEUTRAL, PERCENT, UP, Window, registry

TREND_PERIODS = 12
TREND_INDICATORS = ("persons", "employment_rate", "one_per_household_rate", "per_capita_net_income")
DASH = "—"


_QUANTA = {decimals: Decimal(1).scaleb(-decimals) for decimals in range(7)}


def half_up(value, decimals):
    """``value`` as a Decimal rounded half up to ``decimals`` places: how every figure and
    change is rounded for display (Python's format rounds half to even)."""
    quantum = _QUANTA.get(decimals) or Decimal(1).scaleb(-decimals)
    return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)


def fmt(indicator, value):
    """Display text of a value: thousands separators, fixed decimals, "—" when empty."""
    if value is None:
        return DASH
    value = half_up(value, indicator.decimals)
    text = f"{value:,.{indicator.decimals}f}"
    return f"{text}%" if indicator.unit == PERCENT else text


def rounded(indicator, value):
    if value is None:
        return None
    return half_up(value, indicator.decimals)


def in_brackets(text, note):
    """ "text（note）" in Chinese, "text (note)" in English."""
    return _("%(text)s（%(note)s）") % {"text": text, "note": note}


def with_unit(label, unit):
    """「就业率（%）」, 「劳动力人数（人）」; a label that ends with its unit already
    (「投入资金（万元）」, as the indicator catalogue names it) is left as it is."""
    label, unit = str(label), str(unit or "")
    if not unit or label.endswith((f"（{unit}）", f"({unit})")):
        return label
    return in_brackets(label, unit)


def without_unit(label, unit):
    """「投入资金」 of 「投入资金（万元）」: the label to show beside a value that carries its
    unit already (a card, the details table), so the unit is not said twice."""
    label, unit = str(label), str(unit or "")
    for suffix in (f"（{unit}）", f" ({unit})", f"({unit})"):
        if unit and label.endswith(suffix) and len(label) > len(suffix):
            return label[: -len(suffix)]
    return label


def _signed(value, decimals):
    """``value`` (a Decimal) rounded half up to ``decimals`` places, "+" before a rise; a
    change that rounds to nothing is "0" (never "-0.00": Decimal keeps the sign of zero)."""
    value = half_up(value, decimals)
    if not value:
        value = abs(value)
    return f"{'+' if value > 0 else ''}{value:,.{decimals}f}"


def _relative(diff, previous):
    """The relative change in per cent: one decimal; two where one would round a real
    change to zero (-1 of 5,714 people is "-0.02%", not "-0.0%"); "<0.01%" below that."""
    ratio = diff / Decimal(previous) * 100
    for decimals in (1, 2):
        if half_up(ratio, decimals):
            return f"{_signed(ratio, decimals)}%"
    return "<0.01%" if diff else "0.0%"


def change_text(indicator, value, previous):
    """Change against the previous period, or "" when either is empty."""
    if value is None or previous is None:
        return ""
    diff = Decimal(value) - Decimal(previous)
    if indicator.unit == PERCENT:
        return _("%(diff)s 个百分点") % {"diff": _signed(diff, 2)}
    text = _signed(diff, indicator.decimals)
    if previous:
        text = in_brackets(text, _relative(diff, previous))
    return text


@dataclass
class Card:
    indicator: object
    value: object
    previous: object = None
    link: str = ""

    @property
    def text(self):
        return fmt(self.indicator, self.value)

    @property
    def change(self):
        return change_text(self.indicator, self.value, self.previous)

    @property
    def direction(self):
        if self.value is None or self.previous is None or self.value == self.previous:
            return "flat"
        return "up" if self.value > self.previous else "down"

    @property
    def direction_label(self):
        """Which way is good news, in words (shown with the definition)."""
        return {
            UP: _("数值越高越好"),
            DOWN: _("数值越低越好"),
            NEUTRAL: _("数值升降不分好坏"),
        }[self.indicator.direction]

    @property
    def tone(self):
        """Colour of the change: "good", "bad", "neutral" or "flat" (no change).

        Follows the indicator's declared direction, not the sign: fewer
        零就业家庭 is good news, more people is neither.
        """
        moved = self.direction
        if moved == "flat":
            return "flat"
        if self.indicator.direction == NEUTRAL:
            return "neutral"
        wanted = {UP: "up", DOWN: "down"}[self.indicator.direction]
        return "good" if moved == wanted else "bad"


@dataclass
class Cell:
    indicator: object
    value: object
    link: str = ""

    @cached_property
    def text(self):
        return fmt(self.indicator, self.value)

    @property
    def html(self):
        """The screen table's ``<td>``, built here rather than by the template for every one
        of the ~1,500 cells of a county's child-area table (half of the page's rendering).
        The text is a formatted number, "%" or "—"; key and link are escaped."""
        key = escape(self.indicator.key)
        if self.link:
            link = escape(self.link)
            return f'<td class="num" data-key="{key}"><a href="{link}">{self.text}</a></td>'
        return f'<td class="num" data-key="{key}">{self.text}</td>'


def _plain_cells(cells):
    """Printed cells, text only (paper has no links), as one escaped string per row."""
    return mark_safe("".join(f'<td class="num">{escape(c.text)}</td>' for c in cells))


@dataclass
class Row:
    key: str
    name: str
    url: str
    sums: dict
    values: dict = field(default_factory=dict)
    cells: list = field(default_factory=list)
    settlement_id: int | None = None
    # Area token of the lists behind this row's figures (relocation.dashboards.links).
    token: str | None = None

    @property
    def cells_html(self):
        return mark_safe("".join(cell.html for cell in self.cells))  # Cell.html escapes


@dataclass
class TableView:
    """A data-driven table (``registry.Table``) of one area: rows grouped as the data gives them."""

    table: object
    groups: list = field(default_factory=list)  # [(group label, [(row label, [Cell])])]

    @property
    def columns(self):
        return self.table.columns


def table_view(table, area, user, token, window, sums):
    """The table's rows for ``area`` with their values from the area's summed components."""
    view = TableView(table)
    for row in table.rows(area, user):
        cells = []
        for column in table.columns:
            value = column.evaluate(sums, row.prefix)
            link = ""
            if row.link is not None and value is not None:
                link = row.link(token, window, column.key) or ""
            cells.append(Cell(column, value, link))
        if not view.groups or view.groups[-1][0] != row.group:
            view.groups.append((row.group, []))
        view.groups[-1][1].append((row.label, cells))
    return view


@dataclass
class Dashboard:
    area: object
    kind: str
    spec: PeriodSpec
    period: Period | None
    periods: list
    sections: list = field(default_factory=list)  # [(section, [Card])]
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    total: Row | None = None
    breakdowns: list = field(default_factory=list)  # [(indicator, [(label, value, link)])]
    details: list = field(default_factory=list)  # settlement page: [(section, [Card])]
    trend: list = field(default_factory=list)  # [(Period, {key: value})]
    sort: str = ""
    descending: bool = False
    window: Window | None = None
    previous_values: dict = field(default_factory=dict)  # {key: value} of the period before
    rank: str = ""  # indicator of the ranked comparison
    all_periods: list = field(default_factory=list)  # stored periods of every kind
    today: object = None
    programme: object = None  # programmes.Programme when laid out by a programme view
    tables: list = field(default_factory=list)  # [TableView] of the registry's tables

    @property
    def section_blocks(self):
        """[(section, cards, tables)]: each section's cards, then its data-driven tables."""
        cards = {section.key: items for section, items in self.sections}
        blocks = []
        for section in registry.ordered_sections():
            tables = [t for t in self.tables if t.table.section == section.key]
            if section.key in cards or tables:
                blocks.append((section, cards.get(section.key, []), tables))
        return blocks

    @property
    def print_tables(self):
        """The child-area table cut by section for paper: [(section, columns, rows, total)].

        On screen the table scrolls inside its box; a printed page holds about twenty
        columns, so each section's columns get a table of their own.
        """
        from .registry import registry

        tables = []
        for section in registry.ordered_sections():
            index = [i for i, c in enumerate(self.columns) if c.section == section.key]
            if not index:
                continue
            rows = [(row, _plain_cells([row.cells[i] for i in index])) for row in self.rows]
            total = _plain_cells([self.total.cells[i] for i in index]) if self.total else ""
            tables.append((section, [self.columns[i] for i in index], rows, total))
        return tables

    @property
    def other_breakdowns(self):
        """Breakdowns without a chart or table of their own on the page (apps' by-kind figures)."""
        shown = {"persons_by_year", "households_by_year"}
        return [(i, items) for i, items in self.breakdowns if i.key not in shown]

    @property
    def as_of(self):
        return self.period.computed_at if self.period else None

    @property
    def reference_date(self):
        return self.period.reference_date if self.period else None

    @property
    def is_current(self):
        return self.spec.is_current(timezone.localdate())

    @property
    def child_rate_rows(self):
        """(name, employment rate text) per child area, for the chart's table."""
        rate = registry.localized()["employment_rate"]
        return [(row.name, fmt(rate, row.values.get("employment_rate"))) for row in self.rows]

    @property
    def income_share_rows(self):
        keys = ("income_share_wage", "income_share_business", "income_share_transfer")
        keys += ("income_share_property",)
        if not self.total:
            return []
        return [
            (registry.localized()[k].label, fmt(registry.localized()[k], self.total.values.get(k)))
            for k in keys
        ]

    @property
    def period_options(self):
        """[(kind, code, label, selected)] of every kind, newest first within a kind.

        The picker renders them all and its script shows those of the chosen kind
        at once; a kind without a stored period still offers its running period.
        """
        today = self.today or timezone.localdate()
        options = []
        for kind in PeriodKind.values:
            specs = [p.spec for p in self.all_periods if p.kind == kind]
            current = period_containing(kind, today)
            if current not in specs:
                specs.insert(0, current)
            if kind == self.kind and self.spec not in specs:
                specs.append(self.spec)
            options += [(kind, s.code, s.label, s == self.spec) for s in specs]
        return options

    @property
    def rank_indicator(self):
        return registry.localized().get(self.rank) or registry.localized()["employment_rate"]

    @property
    def ranking(self):
        """The ranked comparison: [(row, value text)] sorted by the indicator, "—" last."""
        indicator = self.rank_indicator
        present = [r for r in self.rows if r.values.get(indicator.key) is not None]
        empty = [r for r in self.rows if r.values.get(indicator.key) is None]
        present.sort(key=lambda r: (-r.values[indicator.key], r.key))
        return [(r, fmt(indicator, r.values.get(indicator.key))) for r in present + empty]

    def reference(self, indicator):
        """The line of the ranked comparison: (number, label, text).

        A rate or an average: the area's own value, from its summed numerator and
        denominator (never an average of the child areas' rates).  A count or an
        amount: the area's total per child area, since the total itself is the
        sum of the bars.
        """
        total = self.total.values.get(indicator.key) if self.total else None
        if total is None or not self.rows:
            return None, "", DASH
        if indicator.is_ratio:
            value = rounded(indicator, total)
            label = _("%(name)s整体") % {"name": self.area.name}
            return float(value), label, fmt(indicator, value)
        value = half_up(Decimal(total) / len(self.rows), 1)
        label = _("平均每个%(level)s") % {"level": self.area.child_label}
        return float(value), label, f"{value:,}"

    @property
    def rank_reference(self):
        return self.reference(self.rank_indicator)

    @property
    def trend_header(self):
        labels = []
        for key in TREND_INDICATORS:
            indicator = registry.localized()[key]
            labels.append(with_unit(indicator.label, indicator.unit))
        return labels

    @property
    def trend_rows(self):
        return [
            (period, [fmt(registry.localized()[k], values.get(k)) for k in TREND_INDICATORS])
            for period, values in self.trend
        ]

    def chart_data(self):
        """Plain numbers for the charts (the tables show the same)."""

        def num(value):
            return None if value is None else float(value)

        employment_rate = registry.localized()["employment_rate"]
        data = {
            "childRates": [
                {
                    "name": row.name,
                    "value": num(rounded(employment_rate, row.values.get("employment_rate"))),
                }
                for row in self.rows
            ],
            "incomeShares": [
                {"name": name, "value": num(self.total.sums.get(part) or 0)}
                for name, part in (
                    (_("工资性收入"), "wage_income"),
                    (_("生产经营性收入"), "business_income"),
                    (_("转移性收入"), "transfer_income"),
                    (_("财产性收入"), "property_income"),
                )
            ]
            if self.total
            else [],
            "personsByYear": [],
            "ranking": {
                "selected": self.rank_indicator.key,
                "indicators": [
                    {
                        "key": i.key,
                        "name": str(i.label),
                        "unit": str(i.unit),
                        "decimals": i.decimals,
                        "direction": i.direction,
                        **dict(
                            zip(
                                ("reference", "referenceLabel", "referenceText"),
                                self.reference(i),
                                strict=True,
                            )
                        ),
                    }
                    for i in self.columns
                ],
                "rows": [
                    {
                        "name": row.name,
                        "values": {
                            i.key: num(rounded(i, row.values.get(i.key))) for i in self.columns
                        },
                    }
                    for row in self.rows
                ],
            },
            "trend": {
                "periods": [p.spec.code for p, _values in self.trend],
                "series": [
                    {
                        "key": key,
                        "name": str(registry.localized()[key].label),
                        "unit": str(registry.localized()[key].unit),
                        "values": [
                            num(rounded(registry.localized()[key], values.get(key)))
                            for _p, values in self.trend
                        ],
                    }
                    for key in TREND_INDICATORS
                ],
            },
        }
        for indicator, items in self.breakdowns:
            if indicator.key == "persons_by_year":
                data["personsByYear"] = [{"name": label, "value": num(v)} for label, v, _l in items]
        return plain(data)


def _link(indicator, token, window, value):
    """The list behind a figure; none for "—" (no denominator: there are no rows to list)."""
    if indicator.link is None or value is None:
        return ""
    return indicator.link(token, window)


def selected_spec(kind, code, today):
    kind = kind if kind in PeriodKind.values else PeriodKind.MONTH
    spec = parse_period(code) if code else None
    if spec is None or spec.kind != kind or spec.start > today:
        spec = period_containing(kind, today)
    return kind, spec


def _reads_region_rollup(area):
    """Whether the area's child rows come from its region's stored sums (``AreaFigure``)."""
    return area.kind == "region" and area.child_level in engine.ROLLUP_LEVELS


def _grouped_children(area, period, children=None):
    """{group key: sums} of the child areas: region codes, or "s<id>" for settlements.

    ``children``: the region's child sums when already read (``region_children_and_series``).
    """
    region, level = area.region, area.child_level
    if area.kind == "root" and level == "province":
        return engine.region_children(period, None, "province")
    if _reads_region_rollup(area):
        if children is None:
            children = engine.region_children(period, region, level)
        grouped = dict(children)
        if level == "township":
            # Settlements recorded without a township stand as their own rows.
            loose = engine.area_sums(
                period, Q(county_code=region.code, township_code=""), "settlement"
            )
            grouped.update({f"s{key}": sums for key, sums in loose.items()})
        return grouped
    return {
        f"s{key}": sums
        for key, sums in engine.area_sums(period, area.figure_q, "settlement").items()
    }


def _child_rows(area, period, children=None):
    """Rows of the child areas, with names and links (two queries)."""
    if area.child_level is None:
        return []
    if area.child_level == "scope":
        return _scope_rows(area, period)
    grouped = _grouped_children(area, period, children)
    region_codes = [k for k in grouped if not k.startswith("s")]
    settlement_ids = [int(k[1:]) for k in grouped if k.startswith("s")]
    regions = (
        {r.code: r for r in Region.objects.filter(code__in=region_codes)} if region_codes else {}
    )
    settlements = (
        {s.pk: s for s in Settlement.objects.filter(pk__in=settlement_ids).only("pk", "name")}
        if settlement_ids
        else {}
    )
    rows = []
    for key, sums in grouped.items():
        if key.startswith("s"):
            settlement = settlements.get(int(key[1:]))
            if settlement is None:
                continue
            rows.append(
                Row(
                    key,
                    settlement.name,
                    area_url(settlement),
                    sums,
                    settlement_id=settlement.pk,
                    token=links.settlement_area(settlement.pk),
                )
            )
        else:
            region = regions.get(key)
            if region is None:
                rows.append(Row(key, key, "", sums))
            else:
                rows.append(
                    Row(key, region.name, area_url(region), sums, token=links.region_area(region))
                )
    return rows


def _series(area, periods):
    """{period_id: summed components} of the area over ``periods`` (one query)."""
    if area.kind == "region":
        return engine.region_series(periods, area.region)
    if area.kind == "root" and area.child_level == "province":
        rows = (
            AreaFigure.objects.filter(period__in=[p.pk for p in periods], level="province")
            .values("period_id", "key")
            .annotate(total=Sum("value"))
            .order_by()
        )
        grouped = defaultdict(dict)
        for row in rows:
            grouped[row["period_id"]][row["key"]] = row["total"]
        return grouped
    return engine.series_sums(periods, area.figure_q, None)


def _scope_rows(area, period):
    """Landing page of a user with several areas: one row per area of theirs."""
    by_settlement = {
        int(k): v for k, v in engine.area_sums(period, area.figure_q, "settlement").items()
    }
    places = {
        s.pk: s
        for s in Settlement.objects.filter(pk__in=list(by_settlement)).only(
            "pk", "name", "county_id", "township_id"
        )
    }
    codes = [code.ljust(6, "0") for kind, code in area.scope_entries if kind == "region"]
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    rows = []
    for kind, ref in area.scope_entries:
        if kind == "region":
            region = regions.get(ref.ljust(6, "0"))
            members = [
                sid
                for sid, s in places.items()
                if (s.township_id == ref if len(ref) > 6 else s.county_id.startswith(ref))
            ]
            if region is None:
                continue
            rows.append(
                Row(
                    region.code,
                    region.name,
                    area_url(region),
                    engine.add_sums(by_settlement[sid] for sid in members),
                    token=ref,
                )
            )
        elif ref in places:
            s = places[ref]
            rows.append(
                Row(
                    f"s{ref}",
                    s.name,
                    area_url(s),
                    by_settlement[ref],
                    settlement_id=ref,
                    token=links.settlement_area(ref),
                )
            )
    return rows


def area_token(area):
    """The ``?area=`` token of the lists behind an area's figures (None: the whole scope)."""
    if area.is_settlement:
        return links.settlement_area(area.settlement.pk)
    if area.kind == "region":
        return links.region_area(area.region)
    return None


def stored_periods(today):
    """Every kind's stored periods up to ``today``, newest first (one query): the
    period picker lists them all."""
    return list(Period.objects.filter(start__lte=today).order_by("-start"))


def selected_period(all_periods, kind, spec):
    """The stored period of ``spec`` among ``stored_periods``, or None."""
    return next((p for p in all_periods if p.kind == kind and p.start == spec.start), None)


def normal_choices(sort, descending, rank):
    """``(sort, descending, rank)`` as ``build`` reads them: unknown keys are ignored."""
    columns = registry.localized()
    rank = rank if rank in columns and columns[rank].column else ""
    if not (sort in columns and columns[sort].column):
        sort = "name" if sort == "name" else ""
    return sort, bool(descending), rank


def build(
    area,
    user,
    *,
    kind=None,
    period_code=None,
    sort="",
    descending=False,
    today=None,
    rank="",
    all_periods=None,
):
    today = today or timezone.localdate()
    kind, spec = selected_spec(kind, period_code, today)
    sort, descending, rank = normal_choices(sort, descending, rank)
    if all_periods is None:
        all_periods = stored_periods(today)
    periods = [p for p in all_periods if p.kind == kind]
    period = selected_period(all_periods, kind, spec)
    dash = Dashboard(area, kind, spec, period, periods, sort=sort, descending=descending)
    dash.all_periods, dash.today, dash.rank = all_periods, today, rank
    if period is None:
        return dash
    dash.window = engine.window_for(spec, period.reference_date)
    indicators = list(registry.localized().values())

    # One query for the recent periods of the same kind: the area's totals now,
    # the previous period (change on the cards) and the trend; a region reads
    # its child areas' sums in the same query.
    recent = [p for p in periods if p.start <= spec.start][:TREND_PERIODS]
    previous = next((p for p in periods if p.start == spec.previous().start), None)
    if previous is not None and previous not in recent:
        recent.append(previous)
    if _reads_region_rollup(area):
        children, series = engine.region_children_and_series(
            period, area.region, area.child_level, recent
        )
        rows = _child_rows(area, period, children)
    else:
        rows = _child_rows(area, period)
        series = _series(area, recent)
    total_sums = series.get(period.pk, {})
    dash.total = Row("total", _("合计"), area.url, total_sums)
    trend_indicators = [registry.localized()[k] for k in TREND_INDICATORS]
    dash.trend = [
        (p, engine.evaluate(trend_indicators, series.get(p.pk, {})))
        for p in sorted(recent, key=lambda p: p.start)[-TREND_PERIODS:]
    ]
    prev_values = engine.evaluate(indicators, series.get(previous.pk, {})) if previous else {}
    dash.previous_values = prev_values

    values = engine.evaluate(indicators, total_sums)
    dash.total.values = values
    # The lists behind the figures, at every level: the area's token (a
    # settlement, a region's code prefix, or None for the user's whole scope);
    # the admin lists apply the user's scope on top.
    token = area_token(area)
    for section in registry.ordered_sections():
        cards = []
        for indicator in registry.in_section(section.key):
            if indicator.breakdown:
                continue
            link = _link(indicator, token, dash.window, values[indicator.key])
            card = Card(indicator, values[indicator.key], prev_values.get(indicator.key), link)
            if indicator.headline:
                cards.append(card)
        if cards:
            dash.sections.append((section, cards))
        if area.is_settlement:
            details = [
                Card(
                    i,
                    values[i.key],
                    prev_values.get(i.key),
                    _link(i, token, dash.window, values[i.key]),
                )
                for i in registry.in_section(section.key)
                if not i.breakdown
            ]
            dash.details.append((section, details))
    for indicator in indicators:
        if indicator.breakdown:
            items = []
            for label, value in values[indicator.key]:
                link = indicator.link(token, dash.window, label) if indicator.link else ""
                items.append((label, value, link))
            dash.breakdowns.append((indicator, items))

    dash.tables = [
        table_view(table, area, user, token, dash.window, total_sums)
        for table in registry.tables.values()
    ]

    dash.columns = [i for i in indicators if i.column]
    for row in rows:
        row.values = engine.evaluate(dash.columns, row.sums)
        row.cells = [
            Cell(
                i,
                row.values[i.key],
                _link(i, row.token, dash.window, row.values[i.key]) if row.token else "",
            )
            for i in dash.columns
        ]
    dash.total.cells = [
        Cell(i, values[i.key], _link(i, token, dash.window, values[i.key])) for i in dash.columns
    ]
    if sort not in ("", "name"):  # an indicator's column (normal_choices)
        present = [r for r in rows if r.values.get(sort) is not None]
        empty = [r for r in rows if r.values.get(sort) is None]
        present.sort(key=lambda r: r.values[sort], reverse=descending)
        rows = present + empty  # "—" last either way
    else:
        rows.sort(key=lambda r: r.key, reverse=descending and sort == "name")
    dash.rows = rows
    return dash
