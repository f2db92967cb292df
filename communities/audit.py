"""Recording the read audit (``communities.read_audit``).

Whenever an ID number, phone or health value is shown in clear - a change
form or a list page in the admin, an export from an admin list or from the
import page - one ``ReadAuditEntry`` per record and field is written, with the
user, the time, the page address and, for an export, its format.  Users
without the 「可以查看完整的身份证号和电话」 permission only ever see masked values,
so nothing is recorded for them.

Exports write their rows with one ``bulk_create`` per export (in batches);
README "Read audit" gives the measured cost.
"""

from functools import partial

from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from relocation.spreadsheets.progress import counting
from relocation.sqlite.base import write_after_reads

from .masking import may_view_sensitive
from .read_audit import AuditChannel, ReadAuditEntry

#: Model fields whose clear value is audited when shown.
AUDITED_FIELDS = frozenset(
    {"id_number", "phone", "head_phone", "contact_phone", "health", "disability_grade"}
)
BATCH_SIZE = 2000


def reveals(user):
    """True when ``user`` is shown personal data in clear (and so is audited)."""
    # The same rule that decides masking (communities.masking): what is unmasked is audited.
    return user is not None and user.is_authenticated and may_view_sensitive(user)


def current_request():
    return getattr(HistoricalRecords.context, "request", None)


class Trail:
    """The personal data shown to one user by one page or export, written at once."""

    def __init__(self, user, channel, *, export_format="", path=""):
        self.user = user
        self.channel = channel
        self.export_format = export_format
        self.path = path[:200]
        self.shown = []  # (model, pk, label, fields)

    def add(self, record, fields):
        """``fields`` of ``record`` were shown (whatever their value)."""
        if fields and record is not None and record.pk is not None:
            self.shown.append((type(record), record.pk, str(record), tuple(fields)))

    def add_shown(self, record, names):
        """The audited ones of ``names`` that hold a value on ``record``."""
        fields = [
            name
            for name in names
            if name in AUDITED_FIELDS and getattr(record, name, None) not in (None, "")
        ]
        self.add(record, fields)

    def add_reads(self, reads):
        """``reads``: ``(record, fields)`` pairs shown."""
        for record, fields in reads:
            self.add(record, fields)

    def write(self):
        """Insert one row per record and field shown; returns the number of rows."""
        if not self.shown:
            return 0
        user = self.user
        common = (
            timezone.now(),
            user.pk,
            user.get_username(),
            self.channel,
            self.export_format[:16],
            self.path,
        )
        by_model = {}
        for model, pk, label, fields in self.shown:
            by_model.setdefault(model, []).append((pk, label, fields))
        rows = []
        for model, shown in by_model.items():
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
            places = _places(model, [pk for pk, _label, _fields in shown])
            for pk, label, fields in shown:
                settlement_id, region_code = places.get(pk, (None, ""))
                record = (content_type.pk, str(pk), label[:200])
                place = (settlement_id, region_code or "")
                rows.extend((*common, *record, field, *place) for field in fields)
        _insert(rows)
        self.shown = []
        return len(rows)


# Plain parameterised INSERTs (executemany): an export of 10,000 people writes
# 30,000 rows, and building a model instance per row costs more than the SQL.
INSERT_COLUMNS = (
    "at",
    "user_id",
    "username",
    "channel",
    "export_format",
    "path",
    "content_type_id",
    "object_id",
    "object_label",
    "field",
    "settlement_id",
    "region_code",
)


def _insert(rows):
    """Writes the rows; on SQLite, after a page's read transaction (``write_after_reads``)."""
    using = router.db_for_write(ReadAuditEntry)
    write_after_reads(partial(_insert_now, rows, using), using=using)


def _insert_now(rows, using):
    connection = connections[using]
    meta = ReadAuditEntry._meta
    quote = connection.ops.quote_name
    by_attname = {f.attname: f.column for f in meta.concrete_fields}
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table),
        ", ".join(quote(by_attname[name]) for name in INSERT_COLUMNS),
        ", ".join(["%s"] * len(INSERT_COLUMNS)),
    )
    # Every row of a trail has the same time; in the database's own form.
    at = meta.get_field("at").get_db_prep_save(rows[0][0], connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY (psycopg 3), as the importer does
            columns = ", ".join(quote(by_attname[name]) for name in INSERT_COLUMNS)
            with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, [(at, *row[1:]) for row in rows[start : start + BATCH_SIZE]])


def _places(model, pks):
    """{pk: (settlement id, county code)} of records of ``model``, for the audit's scope."""
    qs = model._default_manager.all()
    scope_path = getattr(qs, "scope_path", None)
    county_path = getattr(qs, "county_path", None)
    if scope_path is not None:
        columns = (scope_path or "pk", f"{scope_path}__county" if scope_path else "county")
    elif county_path:
        columns = (county_path,)
    else:
        return {}
    places = {}
    base = model._base_manager.order_by()
    unique = list(dict.fromkeys(pks))
    for start in range(0, len(unique), BATCH_SIZE):
        chunk = unique[start : start + BATCH_SIZE]
        for pk, *found in base.filter(pk__in=chunk).values_list("pk", *columns):
            settlement_id, county = found if len(found) == 2 else (None, found[0])
            places[pk] = (settlement_id, county or "")
    return places


# --- admin pages -------------------------------------------------------------
def no_reads(obj):
    """What showing ``obj`` in clear tells besides its own audited fields: nothing."""
    return ()


def record_change_form(request, response, reads=no_reads):
    """The change form (and its inline rows) as rendered for ``request``.

    ``reads(record)``: the ``(record, fields)`` that showing the page's record in clear
    also tells (an alert about a member's health tells that member's health).
    """
    context = getattr(response, "context_data", None)
    if response.status_code != 200 or not context or not reveals(request.user):
        return
    trail = Trail(request.user, AuditChannel.PAGE, path=request.path)
    adminform, original = context.get("adminform"), context.get("original")
    if adminform is not None and original is not None:
        trail.add_shown(original, flatten_fieldsets(adminform.fieldsets))
        trail.add_reads(reads(original))
    for inline in context.get("inline_admin_formsets") or ():
        names = flatten_fieldsets(inline.fieldsets)
        for form in inline.formset.forms:
            trail.add_shown(form.instance, names)
    trail.write()


def record_change_list(request, response, reads=no_reads):
    """Audited columns (e.g. health) of the rows on a list page, and what ``reads(row)``
    says each row tells."""
    context = getattr(response, "context_data", None)
    if response.status_code != 200 or not context or not reveals(request.user):
        return
    changelist = context.get("cl")
    if changelist is None:
        return
    names = [name for name in changelist.list_display if name in AUDITED_FIELDS]
    if not names and reads is no_reads:
        return
    trail = Trail(request.user, AuditChannel.LIST, path=request.path)
    for obj in changelist.result_list:
        trail.add_shown(obj, names)
        trail.add_reads(reads(obj))
    trail.write()


def record_reads(request, reads):
    """``reads`` (``(record, fields)`` pairs) shown in clear on a page of its own (not a
    change form: ``record_change_form``)."""
    if reveals(request.user):
        trail = Trail(request.user, AuditChannel.PAGE, path=request.path)
        trail.add_reads(reads)
        trail.write()


def record_history(request, response, record, shown, reads=no_reads):
    """``record``'s history page: the audited fields whose values its changes showed in
    clear (``shown``: their names), and what ``reads(record)`` says the record tells (its
    page tells it too: a health alert's member and detail, a disability subsidy)."""
    if response.status_code != 200 or record is None or not reveals(request.user):
        return
    trail = Trail(request.user, AuditChannel.PAGE, path=request.path)
    trail.add(record, sorted((shown or set()) & AUDITED_FIELDS))
    trail.add_reads(reads(record))
    trail.write()


class ReadAuditAdminMixin:
    """Records what a change form or a list page shows in clear (a base of the scoped admin).

    An admin whose rows tell personal data through columns of their own (a health
    alert's member and detail) names it with ``audited_reads``.
    """

    audited_reads = staticmethod(no_reads)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        record_change_form(request, response, self.audited_reads)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        record_change_list(request, response, self.audited_reads)
        return response


# --- exports -------------------------------------------------------------------
def record_path(row_model, field_name, target_model=None):
    """How to reach the record whose ``field_name`` an export row of ``row_model`` shows.

    ``""`` for the row itself, the name of a foreign key (e.g. ``"person"`` or
    ``"household"``) for a related record, ``None`` when none fits.
    """
    if target_model is None or target_model is row_model:
        if _has_field(row_model, field_name):
            return ""
        target_model = None
    for field in row_model._meta.concrete_fields:
        if not field.many_to_one:
            continue
        related = field.related_model
        if (target_model is None and _has_field(related, field_name)) or related is target_model:
            return field.name
    return None


def _has_field(model, name):
    return any(f.name == name for f in model._meta.concrete_fields)


class ExportAuditor:
    """Notes each exported row's audited columns on a ``Trail``.

    ``columns`` are ``(path, field name)`` pairs from ``record_path``.
    """

    def __init__(self, trail, columns, reads=no_reads):
        groups = {}
        for path, field in columns:
            groups.setdefault(path, []).append(field)
        self.trail = trail
        self.groups = list(groups.items())
        self.reads = reads

    def add_row(self, obj):
        for path, fields in self.groups:
            self.trail.add(getattr(obj, path) if path else obj, fields)
        self.trail.add_reads(self.reads(obj))

    def write(self):
        return self.trail.write()


def kind_auditor(kind, user, export_format, path=""):
    """For exports of an import kind (``relocation.spreadsheets``): its sensitive columns."""
    if not reveals(user):
        return None
    columns = []
    for column in kind.columns:
        if not column.sensitive:
            continue
        model_field = column.model_field
        name = model_field.name if model_field is not None else column.key
        target = model_field.model if model_field is not None else None
        found = record_path(kind.model, name, target)
        if found is not None:
            columns.append((found, name))
    # A kind whose rows tell personal data through columns of their own names it (a
    # disability subsidy tells the person's health): ``audited_reads(row)``.
    reads = getattr(kind, "audited_reads", no_reads)
    if not columns and reads is no_reads:
        return None
    return ExportAuditor(
        Trail(user, AuditChannel.EXPORT, export_format=export_format, path=path), columns, reads
    )


class AuditedExportMixin:
    """For django-import-export resources that reveal personal data to some users.

    The resource says whether it reveals (``reveal_sensitive``); the exported
    fields named like an audited model field (``AUDITED_FIELDS``), or the
    sensitive columns of an import kind, are recorded for every row, with what
    ``audited_reads(row)`` says the row tells besides (as on the admin's pages).
    """

    audited_reads = staticmethod(no_reads)

    def export(self, queryset=None, **kwargs):
        self._audit = self._export_auditor(kwargs)
        dataset = super().export(queryset, **kwargs)
        if self._audit is not None:
            self._audit.write()
            self._audit = None
        return dataset

    def iter_queryset(self, queryset):
        audit = getattr(self, "_audit", None)
        # Counted for an export job's progress bar (a no-op inside a request).
        for obj in counting(super().iter_queryset(queryset)):
            if audit is not None:
                audit.add_row(obj)
            yield obj

    def _export_auditor(self, kwargs):
        request = current_request()
        user = getattr(request, "user", None)
        if not getattr(self, "reveal_sensitive", False) or not reveals(user):
            return None
        export_format = _form_format(kwargs.get("export_form"))
        path = request.path
        kind = getattr(self, "kind", None) if getattr(self, "kind_key", "") else None
        if kind is not None:
            return kind_auditor(kind, user, export_format, path)
        model = self._meta.model
        names = {id(field): name for name, field in self.fields.items()}
        columns = []
        for field in self.get_export_fields(kwargs.get("export_fields")):
            name = names.get(id(field))
            if name in AUDITED_FIELDS:
                found = record_path(model, name)
                if found is not None:
                    columns.append((found, name))
        if not columns and self.audited_reads is no_reads:
            return None
        trail = Trail(user, AuditChannel.EXPORT, export_format=export_format, path=path)
        return ExportAuditor(trail, columns, self.audited_reads)


def _form_format(form):
    """The title of the format picked on an import-export form ("xlsx", "csv" …)."""
    data = getattr(form, "cleaned_data", None) or {}
    choice = data.get("format")
    if choice in (None, ""):
        return ""
    return str(dict(form.fields["format"].choices).get(str(choice), ""))
