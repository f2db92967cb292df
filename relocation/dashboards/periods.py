"""Reporting periods: years, quarters and months, and the dates a period counts on.

A period is identified by its kind and first day.  Stocks (people, households,
labour force) are counted on the period's *reference date* — its last day, or
today while the period is still running; flows (referrals, training) over the
period up to that date; household income is annual and taken for the latest
complete year on the reference date.
"""

import calendar
import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    YEAR = "year", _("年度")
    QUARTER = "quarter", _("季度")
    MONTH = "month", _("月度")


@dataclass(frozen=True, order=True)
class PeriodSpec:
    kind: str
    start: datetime.date

    @property
    def end(self):
        if self.kind == PeriodKind.YEAR:
            return datetime.date(self.start.year, 12, 31)
        months = 3 if self.kind == PeriodKind.QUARTER else 1
        last_month = self.start.month + months - 1
        last_day = calendar.monthrange(self.start.year, last_month)[1]
        return datetime.date(self.start.year, last_month, last_day)

    def reference_date(self, today):
        """Last day of the period, or ``today`` while it is running."""
        return min(self.end, today)

    def is_current(self, today):
        return self.start <= today <= self.end

    @property
    def code(self):
        """Stable text form used in URLs and exports: 2026, 2026-Q3, 2026-11."""
        if self.kind == PeriodKind.YEAR:
            return f"{self.start.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self):
        if self.kind == PeriodKind.YEAR:
            return _("%(year)s年") % {"year": self.start.year}
        if self.kind == PeriodKind.QUARTER:
            return _("%(year)s年第%(quarter)s季度") % {
                "year": self.start.year,
                "quarter": (self.start.month - 1) // 3 + 1,
            }
        return _("%(year)s年%(month)s月") % {"year": self.start.year, "month": self.start.month}

    def previous(self):
        return period_containing(self.kind, self.start - datetime.timedelta(days=1))

    def next(self):
        return period_containing(self.kind, self.end + datetime.timedelta(days=1))


def period_containing(kind, day):
    if kind == PeriodKind.YEAR:
        return PeriodSpec(kind, datetime.date(day.year, 1, 1))
    if kind == PeriodKind.QUARTER:
        return PeriodSpec(kind, datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
    if kind == PeriodKind.MONTH:
        return PeriodSpec(kind, datetime.date(day.year, day.month, 1))
    raise ValueError(f"unknown period kind {kind!r}")


def parse_period(code):
    """The period for ``code`` (2026, 2026-Q3, 2026-11), or ``None`` if malformed."""
    code = (code or "").strip().upper()
    try:
        if len(code) == 4 and code.isdigit():
            return PeriodSpec(PeriodKind.YEAR, datetime.date(int(code), 1, 1))
        year, _sep, rest = code.partition("-")
        if not year.isdigit() or len(year) != 4:
            return None
        if rest.startswith("Q") and rest[1:] in {"1", "2", "3", "4"}:
            quarter = int(rest[1:])
            return PeriodSpec(PeriodKind.QUARTER, datetime.date(int(year), quarter * 3 - 2, 1))
        if rest.isdigit() and 1 <= int(rest) <= 12:
            return PeriodSpec(PeriodKind.MONTH, datetime.date(int(year), int(rest), 1))
    except ValueError:
        return None
    return None


def income_year(reference_date):
    """The latest complete income year on ``reference_date``."""
    if (reference_date.month, reference_date.day) == (12, 31):
        return reference_date.year
    return reference_date.year - 1


def recent_periods(kind, today, count):
    """The ``count`` periods of ``kind`` up to the one containing ``today``, oldest first."""
    spec = period_containing(kind, today)
    specs = [spec]
    for _i in range(count - 1):
        spec = spec.previous()
        specs.append(spec)
    return list(reversed(specs))
