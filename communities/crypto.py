"""ID numbers and phones encrypted at rest (GB/T 35273 sensitive personal information).

``EncryptedCharField`` stores its value encrypted with AES-256-GCM (a random
96-bit nonce per value) as ``enc1$<key id>$<base64url(nonce + ciphertext + tag)>``
and decrypts it on load, so Python code sees clear text and the database never
does.  The empty string stays empty (it reveals only that nothing was entered),
so blank phones cost nothing and ``phone=""`` still filters.

A field that must be searched, kept unique or matched by an import names a
companion column (``hash_field``) holding ``HMAC-SHA256(PII_HASH_KEY, value)`` in
hex.  Setting the clear value on an instance sets the hash too, so every write
path that reads attributes (``save()``, ``bulk_create``, history rows, raw COPY)
carries it; ``bulk_update`` and ``update`` must name the hash column as well
(``PersonQuerySet`` does).  ``exact`` and ``in`` lookups on the field are
translated to the hash column, so ``filter(id_number=x)``,
``id_number__in=[...]`` and ``get(id_number=x)`` work unchanged; every other
lookup (``startswith``, ``contains``, ...) is refused with ``FieldError``.
A field without a hash column accepts only ``exact`` / ``in`` with ``""``.

Keys come from the environment (``relocation.settings``): ``PII_ENCRYPTION_KEYS``,
newest first, each 32 random bytes in URL-safe base64; new values use the first,
any listed key decrypts (a value names its key by id), and ``manage.py
rotate_pii_key`` re-encrypts everything with the newest so that older keys can
be removed.  ``PII_HASH_KEY`` keys the search hashes.  With neither set (only
allowed with ``DEBUG``) both are derived from ``SECRET_KEY``.

Raw writes (PostgreSQL ``COPY``) go through ``seal_writer``.  History tables
(django-simple-history) copy the field class, so historical rows hold
ciphertext and the hash as well.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.core.exceptions import EmptyResultSet, FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In, IsNull
from django.db.models.query_utils import DeferredAttribute
from django.dispatch import receiver
from django.utils.translation import gettext as _

PREFIX = "enc1$"
NONCE_BYTES = 12
KEY_BYTES = 32
HASH_LENGTH = 64  # hex digits of HMAC-SHA256


class PIIDecryptionError(Exception):
    """A stored value cannot be decrypted with the configured keys."""


class Keyring:
    """The configured AES-GCM keys (newest first) and the HMAC key."""

    def __init__(self, keys, hash_key):
        self.keys = [(_key_id(key), AESGCM(key)) for key in keys]
        self.by_id = dict(self.keys)
        self.current_id, self.current = self.keys[0]
        self.hash_key = hash_key
        self._hmac = hmac.new(hash_key, digestmod=hashlib.sha256)  # copied per value: faster

    def encrypt(self, text):
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.current.encrypt(nonce, text.encode(), None)
        token = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{PREFIX}{self.current_id}${token}"

    def decrypt(self, value):
        if not value.startswith(PREFIX):
            raise PIIDecryptionError(
                _("数据库中有未加密的身份证号或电话（应为密文），请先运行 manage.py migrate。")
            )
        key_id, _sep, token = value[len(PREFIX) :].partition("$")
        aead = self.by_id.get(key_id)
        if aead is None:
            raise PIIDecryptionError(
                _(
                    "无法解密身份证号或电话：密钥（编号 %(key_id)s）不在 PII_ENCRYPTION_KEYS 中。"
                    "请把加密这些数据的密钥加回配置。"
                )
                % {"key_id": key_id}
            )
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise PIIDecryptionError(
                _(
                    "无法解密身份证号或电话：数据与密钥（编号 %(key_id)s）不符，"
                    "密钥可能配置有误或数据已损坏。"
                )
                % {"key_id": key_id}
            ) from exc

    def key_id_of(self, value):
        """The id of the key ``value`` was encrypted with ("" for a blank value)."""
        return value[len(PREFIX) :].partition("$")[0] if value.startswith(PREFIX) else ""

    def hash(self, text):
        mac = self._hmac.copy()
        mac.update(text.encode())
        return mac.hexdigest()


def _key_id(key):
    return hashlib.sha256(b"relocation-pii-key-id:" + key).hexdigest()[:8]


def parse_key(value, name):
    """32 bytes from a URL-safe base64 string, or ``ImproperlyConfigured`` saying why."""
    try:
        key = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{name}: each key must be {KEY_BYTES} random bytes in URL-safe base64 "
            '(python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
        )
    return key


def _derived(label):
    return hmac.new(settings.SECRET_KEY.encode(), label, hashlib.sha256).digest()


@functools.cache
def keyring():
    configured = [k for k in settings.PII_ENCRYPTION_KEYS if k.strip()]
    keys = [parse_key(k, "PII_ENCRYPTION_KEYS") for k in configured] or [
        _derived(b"relocation pii encryption key")
    ]
    hash_key = (
        parse_key(settings.PII_HASH_KEY, "PII_HASH_KEY")
        if settings.PII_HASH_KEY
        else _derived(b"relocation pii hash key")
    )
    return Keyring(keys, hash_key)


@receiver(setting_changed)
def _reset_keyring(*, setting, **kwargs):
    if setting in {"PII_ENCRYPTION_KEYS", "PII_HASH_KEY", "SECRET_KEY"}:
        keyring.cache_clear()


@checks.register(checks.Tags.security)
def check_pii_keys(app_configs=None, **kwargs):
    try:
        keyring()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="communities.E001")]
    return []


def encrypt(text):
    """The stored form of ``text`` (``None`` and ``""`` stay as they are)."""
    if not text:
        return text
    return keyring().encrypt(str(text))


def decrypt(value):
    if not value:
        return value
    return keyring().decrypt(value)


def pii_hash(text):
    """The search hash of ``text`` (``None`` and ``""`` stay as they are)."""
    if not text:
        return text
    return keyring().hash(str(text))


class _EncryptedAttribute(DeferredAttribute):
    """Setting the clear value sets the companion hash as well (also when loading a row)."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value
        if self.field.hash_field:
            instance.__dict__[self.field.hash_field] = pii_hash(value)


class EncryptedCharField(models.CharField):
    """A ``CharField`` stored encrypted; see the module docstring.

    ``max_length`` limits the clear text (forms, validation); the column is
    ``text`` since the ciphertext is longer.  ``hash_field`` names the model's
    column of search hashes, if any.
    """

    descriptor_class = _EncryptedAttribute

    def __init__(self, *args, hash_field=None, **kwargs):
        self.hash_field = hash_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def db_type(self, connection):
        return connection.data_types["TextField"] % {}

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        return decrypt(value)

    def get_lookup(self, lookup_name):
        return _LOOKUPS.get(lookup_name)

    def get_transform(self, lookup_name):
        return None


def _hash_column(lookup):
    field = lookup.lhs.output_field
    if not isinstance(lookup.lhs, Col) or not field.hash_field:
        return None
    return Col(lookup.lhs.alias, field.model._meta.get_field(field.hash_field))


def _refuse(lookup):
    raise FieldError(
        _("加密字段“%(field)s”只能按完整的值查找。")
        % {"field": lookup.lhs.output_field.verbose_name}
    )


class EncryptedExact(Exact):
    """``field = value`` as ``hash_field = HMAC(value)``."""

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if hasattr(self.rhs, "resolve_expression"):
            _refuse(self)
        target = _hash_column(self)
        if target is None:
            if self.rhs != "":
                _refuse(self)
            lhs_sql, lhs_params = compiler.compile(self.lhs)
            return f"{lhs_sql} = %s", (*lhs_params, "")
        sql, params = compiler.compile(target)
        return f"{sql} = %s", (*params, pii_hash(str(self.rhs)))


class EncryptedIn(In):
    """``field IN (values)`` as ``hash_field IN (HMAC(value), ...)``."""

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if hasattr(self.rhs, "resolve_expression"):
            _refuse(self)
        values = [str(v) for v in self.rhs if v is not None]
        target = _hash_column(self)
        if target is None:
            if any(values):
                _refuse(self)
            target = self.lhs
        else:
            values = [pii_hash(v) for v in values]
        if not values:
            raise EmptyResultSet
        sql, params = compiler.compile(target)
        placeholders = ", ".join(["%s"] * len(values))
        return f"{sql} IN ({placeholders})", (*params, *values)


_LOOKUPS = {"exact": EncryptedExact, "in": EncryptedIn, "isnull": IsNull}


def seal_writer(write_row, fields, hashes=None):
    """``write_row`` for raw inserts (COPY) of rows whose columns are ``fields``.

    Rows come in with clear values; encrypted columns go out as ciphertext and
    each hash column as the hash of its clear value, whatever the row held.
    ``hashes`` (a dict), if given, keeps each hash by its clear value, for the
    history rows' tokens of the same values (``history_pii.tokenizing_writer``).
    """
    positions = {f.attname: i for i, f in enumerate(fields)}
    encrypted = [i for i, f in enumerate(fields) if isinstance(f, EncryptedCharField)]
    hashed = [
        (positions[f.hash_field], i)
        for i, f in enumerate(fields)
        if isinstance(f, EncryptedCharField) and f.hash_field in positions
    ]
    if not encrypted:
        return write_row
    ring = keyring()

    def write(row):
        row = list(row)
        for target, source in hashed:
            value = row[source]
            if value:
                row[target] = ring.hash(value)
                if hashes is not None:
                    hashes[value] = row[target]
            else:
                row[target] = value
        for i in encrypted:
            if row[i]:
                row[i] = ring.encrypt(row[i])
        write_row(row)

    return write


def encrypted_columns(model):
    """(column, hash column or None) of every encrypted field of ``model``."""
    return [
        (f.column, model._meta.get_field(f.hash_field).column if f.hash_field else None)
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedCharField)
    ]


def reseal_model(model, connection, *, mode, batch_size=2000, progress=None):
    """Rewrite every encrypted column of ``model``'s table, ``batch_size`` rows at a time.

    ``mode`` is ``"encrypt"`` (clear or any key → the newest key, hashes
    recomputed; what the data migration and ``rotate_pii_key`` do) or
    ``"decrypt"`` (back to clear text, for reversing the migration).  Rows
    already as wanted are left alone, so an interrupted run resumes where it
    stopped; each batch is its own transaction.  ``progress(done, changed)``
    is called after each batch.  Returns (rows, rows changed).
    """
    from django.db import transaction

    pairs = encrypted_columns(model)
    if not pairs:
        return 0, 0
    ring = keyring()
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = [c for pair in pairs for c in pair if c]
    select = (
        f"SELECT {pk}, {', '.join(quote(c) for c in columns)} FROM {table} "
        f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s"
    )
    update = f"UPDATE {table} SET {', '.join(f'{quote(c)} = %s' for c in columns)} WHERE {pk} = %s"
    last, done, changed = None, 0, 0
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if last is None:
                cursor.execute(select.replace(f"WHERE {pk} > %s ", ""), [batch_size])
            else:
                cursor.execute(select, [last, batch_size])
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for pk_value, *old in rows:
                values = dict(zip(columns, old, strict=True))
                new = dict(values)
                for column, hash_column in pairs:
                    value = values[column]
                    if not value:
                        if hash_column and mode == "encrypt":
                            new[hash_column] = value
                        continue
                    clear = ring.decrypt(value) if value.startswith(PREFIX) else value
                    if mode == "decrypt":
                        new[column] = clear
                        continue
                    if ring.key_id_of(value) != ring.current_id:
                        new[column] = ring.encrypt(clear)
                    if hash_column:
                        new[hash_column] = ring.hash(clear)
                if new != values:
                    updates.append([*(new[c] for c in columns), pk_value])
            if updates and connection.vendor == "postgresql":
                # One statement per batch: row-by-row updates are ~10x slower there.
                row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
                rows_sql = ", ".join([row_sql] * len(updates))
                names = ", ".join(quote(f"v_{c}") for c in [*columns, "pk"])
                sets = ", ".join(f"{quote(c)} = v.{quote(f'v_{c}')}" for c in columns)
                cursor.execute(
                    f"UPDATE {table} SET {sets} FROM (VALUES {rows_sql}) AS v({names}) "
                    f"WHERE {table}.{pk} = v.{quote('v_pk')}",
                    [p for u in updates for p in u],
                )
            elif updates:
                cursor.executemany(update, updates)
            last = rows[-1][0]
            done += len(rows)
            changed += len(updates)
        if progress:
            progress(done, changed)
    return done, changed


def reseal_operation(app_label, model_names):
    """A data migration's reversible operation: encrypt ``model_names``' columns (batched)."""
    from django.db import migrations

    def run(mode):
        def apply(apps, schema_editor):
            for name in model_names:
                model = apps.get_model(app_label, name)
                reseal_model(model, schema_editor.connection, mode=mode)

        return apply

    return migrations.RunPython(run("encrypt"), run("decrypt"), elidable=False)
