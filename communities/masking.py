"""Personal-data masking: the one place that decides what a user sees of a person.

Users without 「可以查看完整的身份证号和电话」 (``SENSITIVE_PERMISSION``) see

* ID numbers and phones masked (``520201********1234``, ``138****1234``);
* health and disability grade not at all (「（已隐藏）」);
* a birth date only as its year, and ages counted from the birth year.  The
  masked ID number hides exactly the eight birth-date digits, so a full date
  (or a day-exact age on a date of the user's choosing, or a sort by birth
  date) would give the ID number back.

Pages, change history and every export layout call ``mask(field, value,
reveal)`` (or the helpers below); ``SENSITIVE_FIELDS`` is also what the
admin's query-string allow-list and its tests treat as secret.
"""

from django.utils.translation import gettext_lazy as _

from .roles import SENSITIVE_PERMISSION
from .validators import mask_phone, mask_resident_id

HIDDEN = _("（已隐藏）")


def may_view_sensitive(user):
    """True when ``user`` may see full ID numbers, phones, health and birth dates."""
    return user.has_perm(SENSITIVE_PERMISSION)


def hide(value):
    return HIDDEN if value not in (None, "") else ""


def birth_year(value):
    """``1937年`` for a birth date (or an ISO date string); "" for none."""
    if value in (None, ""):
        return ""
    year = value.year if hasattr(value, "year") else int(str(value)[:4])
    return _("%(year)d年") % {"year": year}


def age_on(birth_date, day, reveal):
    """Age on ``day``: whole years, or - masked - ``day``'s year minus the birth year.

    The masked age is the same for every day of a year, so choosing reference
    dates (work lists take any ``on=`` date) cannot find the birthday.
    """
    if birth_date is None:
        return ""
    if not reveal:
        return day.year - birth_date.year
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


MASKERS = {
    "id_number": mask_resident_id,
    "phone": mask_phone,
    "head_phone": mask_phone,
    "contact_phone": mask_phone,
    "health": hide,
    "disability_grade": hide,
    "birth_date": birth_year,
}
#: Field names whose values users without the permission must not learn,
#: neither shown nor through filtering or sorting.
SENSITIVE_FIELDS = frozenset(MASKERS)


def mask(field, value, reveal):
    """``value`` of ``field`` as a user sees it (``reveal``: they may see it in full)."""
    if reveal or field not in MASKERS:
        return value
    return MASKERS[field](value)
