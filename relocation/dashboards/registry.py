"""The indicator registry: each app declares its dashboard figures once.

An app's ``indicators.py`` registers

* **sections** — the groups a dashboard shows (人口与住房, 就业, 收入 …);
* **sources** — one function per app that computes named *components* (plain
  counts and sums) for a set of settlements over a ``Window``, with a fixed,
  small number of grouped queries whatever the number of settlements;
* **indicators** — key, label, unit, definition and how the value follows from
  components: a ``total`` (a summed count or amount), a ``numerator`` over a
  ``denominator`` (rates, averages), a ``growth`` of one such ratio against the
  year before, or a ``breakdown`` into several totals;
* **tables** — figures whose rows come from data rather than code (the rights
  items a province's administrators keep): ``rows(area, user)`` lists the rows
  of an area, each naming its own components by a prefix, and the table's
  columns derive their values from the row's summed components like
  indicators do.  A source whose components are such rows declares their
  ``prefixes`` instead of (or beside) fixed ``components``.

Only components are stored and summed up the region tree; indicator values are
derived from the sums at every level, so a rate is never an average of rates.
Adding an indicator to every dashboard, export and trend is one declaration.
"""

import dataclasses
import datetime
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.text import capfirst

from .bydate import one_date

PERCENT = "%"

# Which way an indicator should move: the dashboards colour a change by it.
UP = "up"  # more is better (就业率, 入住率)
DOWN = "down"  # less is better (零就业家庭, 逾期诉求)
NEUTRAL = "neutral"  # neither (人口, 安置点数)
DIRECTIONS = (UP, DOWN, NEUTRAL)

# How a correction reaches stored past periods (Source.corrections).
FROM = "from"  # a stock, from a date on: every period counted on or after it
ON = "on"  # a flow on a date: the periods containing it
INCOME = "income"  # the income of a year: the periods that count that year


@dataclass(frozen=True)
class Window:
    """What a computation counts over: stocks on ``reference_date``, flows in
    ``start``..``reference_date``, annual income for ``income_year``."""

    start: datetime.date
    reference_date: datetime.date
    income_year: int


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    theme: str = ""
    order: int = 100


@dataclass(frozen=True)
class Source:
    """``compute(settlements, window) -> {settlement_id: {component: number}}``.

    ``settlements`` is a Settlement QuerySet; missing components count as 0.
    ``flow`` sources count over the period (their result depends on
    ``window.start``); the others only on the reference date and income year.
    ``changes(since)`` returns the ids of settlements whose components may have
    changed since a time (from the change history every write path records),
    so that the running period is refreshed for those settlements only;
    ``watch`` names the models whose history it reads.

    ``corrections(since)`` (optional) says which *stored past* periods a change
    since a time touches: ``(settlement_id, basis, value)`` triples, where basis
    is ``FROM`` (a stock changed from that date on: every period counted on or
    after it), ``ON`` (a flow on that date: the periods containing it) or
    ``INCOME`` (the income of that year).  Records without a date (who lives
    where, a person's details) are counted as they are now and mark nothing.

    ``dates(settlements, windows) -> figures_for`` (optional): the same figures for
    several windows in one pass over the records (``bydate``), ``figures_for(window)``
    giving each window's; a stock's windows differ by reference date, a flow's by
    start or reference date.

    ``cost``: how long its pass over the records takes, next to the other sources'
    (thread-seconds of the demo's 19 windows at 500,000 households; 1 for the small
    ones).  Sources computed side by side start with the costliest, so that no
    connection is left with a long one after the others are done
    (``engine.by_cost``).
    """

    key: str
    components: tuple
    compute: Callable
    changes: Callable | None = None
    flow: bool = False
    watch: tuple = ()
    corrections: Callable | None = None
    # Components named from data (``rights_item_<pk>_secured``): their common prefixes.
    prefixes: tuple = ()
    dates: Callable | None = None
    cost: float = 1


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    section: str
    unit: str = ""
    description: str = ""
    total: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    # (numerator, denominator, previous numerator, previous denominator)
    growth: tuple | None = None
    # ((label, component), ...) shown as a small table and a chart
    breakdown: tuple | None = None
    # "stock" (on the reference date), "flow" (in the period) or "income" (the year)
    basis: str = "stock"
    decimals: int = 0
    headline: bool = True
    column: bool = True
    # UP, DOWN or NEUTRAL: whether a rise is good news (colours the change)
    direction: str = NEUTRAL
    # link(area, window) -> URL of the rows behind the figure, or None; ``area`` is
    # the token of relocation.dashboards.links (``s<pk>`` or a region's code prefix,
    # None for the user's whole scope). Breakdowns get the item's label as a third argument.
    link: Callable | None = field(default=None, compare=False)

    def __post_init__(self):
        # A label may be a model field's name, which English writes in lower case
        # ("planned households"); a figure's label begins a card, a row or a heading.
        object.__setattr__(self, "label", capfirst(self.label))

    @property
    def is_ratio(self):
        return self.numerator is not None or self.growth is not None

    @property
    def components(self):
        if self.total:
            return (self.total,)
        if self.growth:
            return tuple(self.growth)
        if self.breakdown:
            return tuple(component for _label, component in self.breakdown)
        return (self.numerator, self.denominator)

    def evaluate(self, sums):
        """The value from summed components: a Decimal, ``None`` ("—"), or a list."""

        def get(component):
            return Decimal(sums.get(component) or 0)

        if self.total:
            return get(self.total)
        if self.breakdown:
            return [(label, get(component)) for label, component in self.breakdown]
        if self.growth:
            num, den, prev_num, prev_den = (get(c) for c in self.growth)
            if not den or not prev_den or not prev_num:
                return None
            return ((num / den) / (prev_num / prev_den) - 1) * 100
        den = get(self.denominator)
        if not den:
            return None
        value = get(self.numerator) / den
        return value * 100 if self.unit == PERCENT else value


@dataclass(frozen=True)
class TableColumn:
    """One column of a ``Table``: a value from the row's summed components.

    The components are named by the row's prefix and the column's suffixes:
    ``total`` (Σ prefix+total), ``difference`` ((a, b): Σa − Σb) or
    ``numerator`` ÷ ``denominator`` (×100 for ``PERCENT``; "—" when the
    denominator is 0).  Has what ``fmt`` needs (``unit``, ``decimals``).
    """

    key: str
    label: str
    unit: str = ""
    total: str | None = None
    difference: tuple | None = None
    numerator: str | None = None
    denominator: str | None = None
    decimals: int = 0
    description: str = ""

    @property
    def is_ratio(self):
        return self.numerator is not None

    def evaluate(self, sums, prefix):
        def get(suffix):
            return Decimal(sums.get(f"{prefix}{suffix}") or 0)

        if self.total:
            return get(self.total)
        if self.difference:
            return get(self.difference[0]) - get(self.difference[1])
        den = get(self.denominator)
        if not den:
            return None
        value = get(self.numerator) / den
        return value * 100 if self.unit == PERCENT else value

    def formula(self):
        """How the value follows from the components, for the catalogue."""
        if self.total:
            return f"Σ `…{self.total}`"
        if self.difference:
            return f"Σ `…{self.difference[0]}` − Σ `…{self.difference[1]}`"
        times = " × 100" if self.unit == PERCENT else ""
        return f"Σ `…{self.numerator}` ÷ Σ `…{self.denominator}`{times}"


@dataclass(frozen=True)
class TableRow:
    """One row of a ``Table`` as the data gives it.

    ``prefix`` names its components (``prefix + suffix`` of each column);
    ``group`` heads a run of rows (a category); ``link(area, window, column key)``
    returns the URL of the rows behind a figure (``area`` as for indicators), or None.
    """

    prefix: str
    label: str
    group: str = ""
    link: Callable | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Table:
    """A table of a section whose rows come from data: ``rows(area, user) -> [TableRow]``.

    ``area`` is the dashboard's area (``relocation.dashboards.areas.Area``), so
    that the rows are those that apply there (a province's checklist); the
    figures are the stored components, summed like every other figure.
    """

    key: str
    label: str
    section: str
    columns: tuple
    rows: Callable = field(compare=False)
    description: str = ""
    row_label: str = ""
    # How a row's prefix is formed, for the catalogue (``rights_item_<事项编号>_``).
    prefix_pattern: str = ""


class Registry:
    def __init__(self):
        self.sections = {}
        self.sources = {}
        self.indicators = {}
        self.tables = {}
        self._localized = {}

    def section(self, key, label, theme="", order=100):
        self.sections[key] = Section(key, label, theme, order)

    def source(
        self,
        key,
        components,
        changes=None,
        flow=False,
        watch=(),
        corrections=None,
        prefixes=(),
        by_dates=False,
        cost=1,
    ):
        """Decorator registering a component source.

        ``by_dates``: the decorated function is the several-windows form
        (``Source.dates``: a stock's reference dates, a flow's windows, ``bydate``);
        ``compute`` is that form for one window.  ``cost``: ``Source.cost``.
        """

        def decorate(function):
            self.sources[key] = Source(
                key,
                tuple(components),
                one_date(function) if by_dates else function,
                changes,
                flow,
                tuple(watch),
                corrections,
                tuple(prefixes),
                function if by_dates else None,
                cost,
            )
            return function

        return decorate

    @property
    def watched_models(self):
        models = {}
        for source in self.sources.values():
            for model in source.watch:
                models[model._meta.label] = model
        return models

    def register(self, *indicators):
        for indicator in indicators:
            if indicator.key in self.indicators:
                raise ImproperlyConfigured(f"indicator {indicator.key!r} declared twice")
            if indicator.direction not in DIRECTIONS:
                raise ImproperlyConfigured(
                    f"indicator {indicator.key!r}: direction must be one of {DIRECTIONS}"
                )
            if indicator.section not in self.sections:
                raise ImproperlyConfigured(
                    f"indicator {indicator.key!r}: unknown section {indicator.section!r}"
                )
            self.indicators[indicator.key] = indicator

    def table(self, table):
        """Register a ``Table`` (rows from data) shown in its section."""
        if table.key in self.tables:
            raise ImproperlyConfigured(f"table {table.key!r} declared twice")
        if table.section not in self.sections:
            raise ImproperlyConfigured(f"table {table.key!r}: unknown section {table.section!r}")
        self.tables[table.key] = table

    def tables_in(self, section_key):
        return [t for t in self.tables.values() if t.section == section_key]

    @property
    def components(self):
        return [c for source in self.sources.values() for c in source.components]

    def check(self):
        """Every indicator's components come from some source (raises otherwise)."""
        known = set(self.components)
        for indicator in self.indicators.values():
            missing = set(indicator.components) - known
            if missing:
                raise ImproperlyConfigured(
                    f"indicator {indicator.key!r} needs components no source provides: "
                    f"{sorted(missing)}"
                )

    def ordered_sections(self):
        return sorted(self.sections.values(), key=lambda s: s.order)

    def in_section(self, section_key):
        return [i for i in self.localized().values() if i.section == section_key]

    def localized(self):
        """The indicators, ``{key: Indicator}``, with label, unit and description as
        plain strings in the active language.

        A dashboard shows each of these texts several times (a card, its definition,
        the table's header, the print layout), and every use of a lazy text looks its
        translation up again: 3,300 look-ups for a county page, a tenth of its time.
        Made once per language, and again when the indicators change (tests add some).
        """
        language = translation.get_language()
        current = tuple(self.indicators.values())
        made = self._localized.get(language)
        if (
            made is None
            or len(made[0]) != len(current)
            or not all(map(operator.is_, made[0], current))
        ):
            texts = {
                indicator.key: dataclasses.replace(
                    indicator,
                    label=str(indicator.label),
                    unit=str(indicator.unit),
                    description=str(indicator.description),
                )
                for indicator in current
            }
            made = self._localized[language] = (current, texts)
        return made[1]


registry = Registry()
