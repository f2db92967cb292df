"""Change history without a second clear copy of ID numbers and phones.

The history tables keep every version of a record for years; keeping every ID
number and phone in them in clear would double the exposure of the very data
the live tables protect.  In the history an ID number or phone is stored as a
*token*: its mask followed by a keyed hash of the full value,

    ``520201********1234 #3f9a0c1d2e4b5a6c``

- the mask is what the history page shows, to everyone;
- the hash (HMAC-SHA256 with ``PII_HASH_KEY``, first 16 hex digits) makes two
  versions with different values compare as different, so a corrected ID
  number still shows as a change even where the masks coincide, and lets an
  investigator holding the key check whether a given number was ever stored,
  without the history revealing it.

Tokens are written by the history field itself (``HistoryTokenField``), so
every ORM path - ``save()``/``delete()`` signals, ``bulk_history_create``,
``bulk_create``/``bulk_update``/``update`` on the history models - stores a
token.  Code that streams history rows with ``COPY`` wraps its writer with
``tokenizing_writer``.
"""

import re

from django.db import models

from .crypto import pii_hash
from .history import HistoricalRecords
from .validators import mask_phone, mask_resident_id

SEPARATOR = " #"
DIGEST_LENGTH = 16
TOKEN_MAX_LENGTH = 64
TOKEN_RE = re.compile(r"^.* #[0-9a-f]{16}$")
MASKERS = {"id": mask_resident_id, "phone": mask_phone}


def keyed_hash(value):
    """HMAC-SHA256 of ``value`` in hex: the same keyed hash (``PII_HASH_KEY``) as the
    live rows' search column (``communities.crypto.pii_hash``), so that one key and
    one rule serve both."""
    return pii_hash(value)


def is_token(value):
    return isinstance(value, str) and TOKEN_RE.match(value) is not None


def tokenize(kind, value, hashes=None):
    """The history form of ``value`` (an ID number if ``kind`` is "id", else a phone).

    ``hashes``: keyed hashes already computed, by clear value (``crypto.seal_writer``).
    """
    if not value or is_token(value):
        return value
    value = str(value)
    digest = hashes.get(value) if hashes else None
    return f"{MASKERS[kind](value)}{SEPARATOR}{(digest or keyed_hash(value))[:DIGEST_LENGTH]}"


def shown(value):
    """What the history page shows for a stored value: the mask of a token."""
    if is_token(value):
        return value.rsplit(SEPARATOR, 1)[0]
    return value


class HistoryTokenField(models.CharField):
    """A history column that stores ``tokenize(kind, value)`` whatever is assigned."""

    description = "masked value and keyed hash"

    def __init__(self, *args, kind="id", **kwargs):
        self.kind = kind
        kwargs.setdefault("max_length", TOKEN_MAX_LENGTH)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def get_prep_value(self, value):
        return tokenize(self.kind, super().get_prep_value(value))

    def history_form(self, value):
        """What this column stores for the live value ``value`` (compared by ``HistoricalRecords``)."""
        return tokenize(self.kind, value)


class TokenizedHistoricalRecords(HistoricalRecords):
    """``HistoricalRecords`` whose copies of ``pii_fields`` hold tokens.

    ``pii_fields`` maps a field name to its kind: ``{"id_number": "id", "phone": "phone"}``.
    """

    def __init__(self, *args, pii_fields=None, **kwargs):
        self.pii_fields = dict(pii_fields or {})
        super().__init__(*args, **kwargs)

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, kind in self.pii_fields.items():
            original = fields[name]
            fields[name] = HistoryTokenField(
                original.verbose_name, kind=kind, blank=True, default=""
            )
        return fields


def token_fields(model):
    """The ``HistoryTokenField`` columns of a history model, by attname."""
    return {f.attname: f for f in model._meta.concrete_fields if isinstance(f, HistoryTokenField)}


def tokenizing_writer(write_row, fields, hashes=None):
    """Wrap a COPY ``write_row`` whose rows follow ``fields``, tokenizing PII columns.

    ``hashes``: what ``crypto.seal_writer`` kept while writing the live rows of
    the same values (their keyed hash is the token's digest: computed once).
    """
    positions = [
        (index, field.kind)
        for index, field in enumerate(fields)
        if isinstance(field, HistoryTokenField)
    ]
    if not positions:
        return write_row

    def write(values):
        values = list(values)
        for index, kind in positions:
            values[index] = tokenize(kind, values[index], hashes)
        return write_row(values)

    return write


def tokenize_existing(history_model, batch_size=2000):
    """Rewrite the clear values left in ``history_model`` (the data migration's work)."""
    fields = token_fields(history_model)
    if not fields:
        return 0
    manager = history_model._base_manager
    pk = history_model._meta.pk.attname
    changed = 0
    last = None
    while True:
        qs = manager.order_by(pk).only(pk, *fields)
        if last is not None:
            qs = qs.filter(**{f"{pk}__gt": last})
        batch = list(qs[:batch_size])
        if not batch:
            return changed
        last = getattr(batch[-1], pk)
        stale = [
            row
            for row in batch
            if any(getattr(row, name) and not is_token(getattr(row, name)) for name in fields)
        ]
        if stale:
            for row in stale:
                for name, field in fields.items():
                    setattr(row, name, tokenize(field.kind, getattr(row, name)))
            manager.bulk_update(stale, list(fields))
            changed += len(stale)
