"""Names with numbers in them sorted the way people count: 第2网格 before 第10网格.

Buildings, grids and 十联户 are named by number (``1栋`` … ``12栋``, ``第1网格`` …
``第12网格``, ``A区3栋``).  Sorted as text, ``第10网格`` came before ``第2网格`` in
every list, drop-down and filter.  The database sorts them with a collation named
``natural`` that compares runs of digits by their value:

- PostgreSQL: an ICU collation, ``und-u-kn-true`` (the root locale with numeric
  ordering), created by the migration ``communities 0012``.
- SQLite: ``natural_compare`` below, which the project's SQLite backend
  (``relocation.sqlite``) registers on every connection it opens.

``natural_key`` is the same order in Python, for lists sorted after reading.  Text
between the numbers compares character by character in both (ICU's root order for
Chinese characters is their code point order, as in Python); ICU also ignores case
first, which Python does not: ``a`` and ``B`` may come in another order, digits never.
"""

import re

from django.db.models.functions import Collate

COLLATION = "natural"

#: The ICU locale of the PostgreSQL collation: root, numeric ordering on.
ICU_LOCALE = "und-u-kn-true"

_DIGITS = re.compile(r"(\d+)")


def natural_key(text):
    """A sort key that orders runs of digits by value: ``natural_key("第2网格") <
    natural_key("第10网格")``; equal values keep a stable order by the text itself
    (``第02网格`` and ``第2网格``)."""
    parts = _DIGITS.split(text)
    # Even places hold text, odd places digits: (text, number, text, number, …).
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), text


def natural_compare(a, b):
    """SQLite's collation function: negative, zero or positive as ``a`` sorts before,
    with or after ``b``."""
    key_a, key_b = natural_key(a), natural_key(b)
    return (key_a > key_b) - (key_a < key_b)


def natural(field):
    """An ordering expression: ``field`` sorted with the ``natural`` collation."""
    return Collate(field, COLLATION)
