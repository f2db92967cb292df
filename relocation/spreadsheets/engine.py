"""The import engine: parse every cell, resolve in bulk, plan, and commit.

A check (dry run) and a commit run the same code: ``plan_file`` parses the
rows, each file kind resolves foreign keys and existing records with a few
``IN`` queries (never one per row), validates with the models' own validators
and ``clean()`` rules and the importer's area scope, and produces a ``Plan``:
per-row outcome (new / updated / unchanged / error), every error as
(row, column header, Chinese message), and the writes to make.  The writes
are ``bulk_create``/``bulk_update`` on the models' querysets, which record
change history with the importer and the reason ``导入：<file name>``.
"""

import datetime
import hashlib
import marshal
import re
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, models, router
from django.db.models.expressions import RawSQL
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from communities.crypto import pii_hash
from communities.scope import get_scope
from relocation.rows import in_lists

from .columns import EXAMPLE_MARK, CellError, find_header_row

CHUNK = 5000
MEMO_KINDS = ("choice", "bool", "date", "code", "int", "decimal")
MEMO_SIZE = 10_000  # distinct values remembered per column
_MISSING = object()  # values per IN (...) lookup: well under SQLite's variable limit


class Errors:
    def __init__(self):
        self.items = []
        self.rows = set()

    def add(self, row, header, message):
        self.items.append((row, str(header), str(message)))
        self.rows.add(row)

    def sorted(self):
        return sorted(self.items, key=lambda item: (item[0], item[1]))

    def __bool__(self):
        return bool(self.items)


@dataclass
class Row:
    number: int
    values: dict
    bad: set = field(default_factory=set)

    @property
    def ok(self):
        return not self.bad


#: The rows of a workbook's sheets read together are numbered on: row n of the sheet at
#: position i (from 0) is n + i × SHEET_STRIDE (a sheet has at most 1,048,576 rows), so
#: that every row of the file has its own number; the first sheet's keep theirs.
SHEET_STRIDE = 10_000_000


def sheet_row(number, sheets=()):
    """``(sheet name, row number in it)`` of a row ``number``; the name is "" unless
    several ``sheets`` were read."""
    index, row = divmod(number, SHEET_STRIDE)
    if len(sheets) > 1 and index < len(sheets):
        return sheets[index], row
    return "", number


def listed(items):
    """「10、25」: ``items`` (text) as the language lists them."""
    return pgettext("list of row numbers", "、").join(items)


def in_sheet(where, sheet):
    """「工作表“二组”第5行」: ``where`` (a row or rows) of ``sheet``; ``where`` alone without one."""
    if not sheet:
        return where
    return _("工作表“%(sheet)s”%(where)s") % {"sheet": sheet, "where": where}


def rows_text(numbers, sheets=(), words=None):
    """「第3、4行」 for row ``numbers`` (``words(count)``: the words around the list of
    ``count`` rows, with %(rows)s), each sheet's rows named after it when several
    ``sheets`` were read: 「工作表“一组”第3行；工作表“二组”第5、9行」."""
    words = words or _row_words
    groups = []
    for number in numbers:
        sheet, row = sheet_row(number, sheets)
        if groups and groups[-1][0] == sheet:
            groups[-1][1].append(str(row))
        else:
            groups.append((sheet, [str(row)]))
    return pgettext("list of sheets' rows", "；").join(
        in_sheet(words(len(rows)) % {"rows": listed(rows)}, sheet) for sheet, rows in groups
    )


def _row_words(count):
    return ngettext("第%(rows)s行", "第%(rows)s行", count)


#: What reading a file notes beside the counts, shown by the preview: the plan's
#: attribute and its key in ``Plan.changes``.
FILE_NOTES = {
    "skipped_examples": "examples",
    "skipped_totals": "totals",
    "filled_down": "filled",
    "filled_rows": "filled_rows",
    "sheet_name": "sheet",  # set only with other sheets (``plan_file``)
    "other_sheets": "other_sheets",
    "sheets": "sheets",  # several sheets read together: their names, in row-number order
}


class Plan:
    """What a file would do; ``writes`` are run by ``commit`` in one transaction."""

    def __init__(self, kind):
        self.kind = kind
        self.errors = Errors()
        self.outcome = {}  # row number -> "new" | "updated" | "unchanged"
        self.writes = []
        self._noted = []  # (action, model, row numbers the change comes from)
        self._digest = hashlib.sha256()
        self.total_rows = 0
        self.skipped_examples = 0  # the template's example rows, never imported
        self.skipped_totals = []  # numbers of the 合计/小计 rows, never imported
        # Rows whose blank ``kind.fill_down`` cells took those of the row above
        # (their count, and the first ``FILLED_LISTED`` row numbers).
        self.filled_down = 0
        self.filled_rows = []
        # A workbook's sheet read, and its other sheets naming the kind's columns
        # too, which are not read (``reading.choose_sheet``).
        self.sheet_name = ""
        self.other_sheets = []
        self.sheets = []  # the sheets read together, when the user asked for several
        self.moved_people = 0  # registered people the file puts in another household
        # What the plan read (see ``relies_on``); None: the kind did not say.
        self.relied_on = None
        self.settlements = set()
        # A kind that can write this plan again from plain data (``kind.write_kept``)
        # sets a callable returning that data (``pack_kept``): the commit then writes
        # the checked plan instead of planning a second time.
        self.kept = None

    def relies_on(self, model, pks=(), settlements=()):
        """Declare records the plan read: ``pks`` of ``model``, and every record
        (of any model with an area scope) inside ``settlements``.

        On SQLite the commit plans outside the write lock and then writes this
        plan only if none of these records changed in between (``services``);
        a kind that declares nothing is re-planned under the lock whenever
        anything at all changed.
        """
        if self.relied_on is None:
            self.relied_on = {}
        self.relied_on.setdefault(model._meta.label, set()).update(pks)
        self.settlements.update(s for s in settlements if s is not None)

    def note(self, action, model, key, values, rows=()):
        """Record one planned change; the digest makes "exactly what was previewed" checkable.

        A commit plans from the same parsed cells as its check (same file, same
        hash), so the values written cannot differ; what can differ is the
        database: which keys exist and which of their fields would change.  The
        digest covers exactly that.
        """
        self._noted.append((action, model, tuple(rows)))
        changed = ",".join(sorted(values)) if action == "updated" else ""
        self._digest.update(f"{action}|{model._meta.label}|{key}|{changed}\n".encode())

    @property
    def changes(self):
        """{"new": {model's verbose name: n}, "updated": {...}}.

        Only changes that would be written count: a change noted for rows that
        all turned out to be in error (a second 户主, say) is left out, so the
        summary agrees with the new/updated row counts beside it.
        """
        counts = {"new": {}, "updated": {}}
        in_error = self.errors.rows
        for action, model, rows in self._noted:
            if rows and all(number in in_error for number in rows):
                continue
            by_model = counts[action]
            by_model[model] = by_model.get(model, 0) + 1
        changes = {
            action: {str(model._meta.verbose_name): n for model, n in by_model.items()}
            for action, by_model in counts.items()
        }
        for attribute, key in FILE_NOTES.items():
            value = getattr(self, attribute)
            if value:
                changes[key] = value
        if self.moved_people:
            changes["moved"] = self.moved_people
        return changes

    def restore_file_notes(self, changes):
        """Take what reading the file noted from a check's ``changes``: a plan made
        from the check's parsed rows (``plan_rows``) reads no file."""
        for attribute, key in FILE_NOTES.items():
            setattr(self, attribute, changes.get(key, getattr(self, attribute)))

    def row_text(self, number):
        """「第5行」, or 「工作表“二组”第5行」 when several sheets are read: for messages
        that name another row."""
        return rows_text([number], self.sheets)

    def rows_text(self, numbers):
        """「第3、4行」 (``rows_text``) for messages that name other rows."""
        return rows_text(numbers, self.sheets)

    def digest_extra(self, item):
        self._digest.update(repr(item).encode())

    @property
    def digest(self):
        return self._digest.hexdigest()

    def counts(self):
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for number, outcome in self.outcome.items():
            if number not in self.errors.rows:
                counts[outcome] += 1
        counts["error"] = len(self.errors.rows)
        return counts


class Context:
    """Who imports, under which scope, and how to report progress."""

    def __init__(self, user, *, reason="", progress=None):
        self.user = user
        self.scope = get_scope(user)
        self.reason = reason
        self._progress = progress
        self._visible = None

    def progress(self, percent, phase=""):
        if self._progress is not None:
            self._progress(percent, phase)

    def visible_settlement_ids(self):
        if self._visible is None:
            from communities.models import Settlement

            self._visible = set(
                Settlement.objects.visible_to(self.user).values_list("pk", flat=True)
            )
        return self._visible

    def settlement_visible(self, settlement_id):
        if settlement_id is None:
            return self.scope.unrestricted
        if self.scope.unrestricted:
            return True
        return settlement_id in self.visible_settlement_ids()

    def region_in_scope(self, county_code, township_code=None):
        """May the user create records under this county (and township)?"""
        scope = self.scope
        if scope.unrestricted:
            return True
        for prefix in scope.region_prefixes:
            if len(prefix) > 6:
                if township_code == prefix:
                    return True
            elif county_code and county_code.startswith(prefix):
                return True
        return False

    def write_kwargs(self):
        return {"history_user": self.user, "history_reason": self.reason}


# --- helpers for kinds ----------------------------------------------------------


def chunks(values, size=CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def bulk_in(queryset, lookup, values):
    """All objects of ``queryset`` whose ``lookup`` is in ``values``, in few queries.

    PostgreSQL gets one parameter whatever the number of values (``IN (SELECT
    unnest(…))``: ids and hashes as one comma-joined text (``rows.in_lists``),
    other text as an array); other databases a chunk of ``IN (...)`` per query.
    """
    values = set(values)
    if not values:
        return []
    field = queryset.model._meta.get_field(lookup)
    hashed = bool(getattr(field, "hash_field", None))
    if hashed:  # encrypted: matched by its hash (communities.crypto)
        lookup, values = field.hash_field, {pii_hash(v) for v in values}
    target = field.target_field if field.is_relation else field
    numbers = target.get_internal_type().endswith("AutoField") or isinstance(
        target, models.IntegerField
    )
    if connection.vendor == "postgresql" and not (numbers or hashed):
        # A user's text may hold a comma: an array parameter.
        array = RawSQL("SELECT unnest(%s::text[])", [sorted(values)])
        return list(queryset.filter(**{f"{lookup}__in": array}))
    found = []
    for rhs in in_lists(values, cast="bigint" if numbers else "text"):
        found.extend(queryset.filter(**{f"{lookup}__in": rhs}))
    return found


def apply(obj, values, fields):
    """Set ``fields`` of ``obj`` from ``values`` (only keys present); the names that changed.

    Foreign keys are compared by id, so no related object is ever fetched.
    """
    changed = []
    fk = _foreign_keys(obj.__class__)
    state = obj.__dict__
    for name in fields:
        if name not in values:
            continue
        new = values[name]
        attname = fk.get(name)
        if attname is not None:
            if state.get(attname) != (None if new is None else new.pk):
                setattr(obj, name, new)
                changed.append(name)
        elif state.get(name) != new:
            setattr(obj, name, new)
            changed.append(name)
    return changed


def new_instance(model, values):
    """``model(**values)`` for a record not yet saved, built as Django builds one read
    from the database: every concrete field's value in order (foreign keys by id, the
    default where ``values`` has none).  The more foreign keys, the more it saves: 25,000
    new households of a roster in a third of the keyword form's time, employment
    records in three quarters.  Related objects given stay cached on the
    instance, as the keyword form leaves them; an unknown name is a ``TypeError``.
    """
    cache, args, used = {}, [], 0
    for name, attname, related, default in _construction(model):
        if name in values:
            used += 1
            value = values[name]
            if related:
                cache[name] = value
                value = None if value is None else value.pk
        elif attname in values and attname != name:
            used += 1
            value = values[attname]
        else:
            value = default()
        args.append(value)
    if used != len(values):  # a name no field has, or a field given twice (name and id)
        taken = {
            name if name in values else attname
            for name, attname, _related, _default in _construction(model)
            if name in values or attname in values
        }
        left = ", ".join(sorted(set(values) - taken))
        raise TypeError(f"{model.__name__} takes no value named {left}")
    obj = model(*args)
    obj._state.fields_cache.update(cache)
    related = next((value for value in cache.values() if value is not None), None)
    if related is not None:  # as the related-object descriptor places it
        obj._state.db = router.db_for_write(model, instance=related)
    return obj


_CONSTRUCTION = {}


def _construction(model):
    """(name, attname, is a many-to-one, default) of the model's concrete fields, in order."""
    found = _CONSTRUCTION.get(model)
    if found is None:
        found = _CONSTRUCTION[model] = [
            (f.name, f.attname, f.many_to_one, f.get_default) for f in model._meta.concrete_fields
        ]
    return found


_FK_CACHE = {}


def _foreign_keys(model):
    """{field name: attname} of the model's many-to-one fields."""
    found = _FK_CACHE.get(model)
    if found is None:
        found = _FK_CACHE[model] = {
            f.name: f.attname for f in model._meta.concrete_fields if f.many_to_one
        }
    return found


def snapshot(obj, names):
    """Field values by column (ids for foreign keys), for the plan digest."""
    opts = obj._meta
    return {name: getattr(obj, opts.get_field(name).attname) for name in names}


def run_clean(obj, row, plan, headers):
    """``obj.clean()``; its errors are attached to ``row`` under the column they concern."""
    try:
        obj.clean()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                plan.errors.add(row.number, headers.get(name, ""), " ".join(messages))
        else:
            plan.errors.add(row.number, "", " ".join(exc.messages))
        return False
    return True


def duplicates(rows, key_of, plan, header, what):
    """Report rows whose natural key repeats an earlier row, naming both rows."""
    first = {}
    for row in rows:
        key = key_of(row)
        if key is None:
            continue
        if key in first:
            other = first[key]
            plan.errors.add(
                row.number,
                header,
                _("%(what)s与%(row)s重复。") % {"what": what, "row": plan.row_text(other)},
            )
            plan.errors.add(
                other,
                header,
                _("%(what)s与%(row)s重复。") % {"what": what, "row": plan.row_text(row.number)},
            )
        else:
            first[key] = row.number
    return first


def parse_rows(kind, sheet, plan, ctx, offset=0, share=(5, 45)):
    """Cells to values; header problems are errors of the header row.

    ``offset`` is added to the sheet's row numbers (``SHEET_STRIDE``); ``share``: the
    progress (start, span in percent) this sheet's rows take.
    """
    mapping = kind.header_mapping()
    sheet.headers, sheet.rows, header_row = find_header_row(sheet.headers, sheet.rows, mapping)
    header_row += offset
    plan.header_row = header_row
    positions, seen = [], set()
    for index, header in enumerate(sheet.headers):
        column = mapping.get(header)
        if column is None or column.export_only:
            continue
        if column.key in seen:
            plan.errors.add(header_row, header, _("列名重复。"))
            continue
        seen.add(column.key)
        positions.append((index, column, header))
    missing = [c for c in kind.columns if c.required and c.key not in seen and not c.export_only]
    for column in missing:
        plan.errors.add(
            header_row,
            column.header,
            _("缺少必填列“%(header)s”。请使用下载的模板。") % {"header": column.header},
        )
    plan.present = seen
    if missing:
        return []
    rows = []
    total = len(sheet.rows) or 1
    step = max(total // 20, 1000)
    raw_rows = sheet.rows
    # Columns whose few distinct values repeat (choices, yes/no, dates, codes,
    # the household's columns on every member's row) remember each cell's
    # result; ID numbers, names and phones are unique and parsed every time.
    columns = [
        (index, column.key, column.parse, header, {} if column.kind in MEMO_KINDS else None)
        for index, column, header in positions
    ]
    marks = example_marks()
    fill = _fill_down(kind, positions)
    # The cell above, per column, and its value: a household's columns repeat on
    # each member's row, so most of their cells equal the one above (one
    # comparison instead of a parse; a cell in error is never remembered).
    above = [(_MISSING, None)] * len(columns)
    for done, (number, cells) in enumerate(raw_rows):
        raw_rows[done] = None  # the raw cells are not needed again: free them as we go
        number += offset
        first = cells[0] if cells else None
        if first.__class__ is str:
            first = first.lstrip()
            if first.startswith(marks):
                plan.skipped_examples += 1
                continue
            maybe_total = not first or first[:1] in TOTAL_STARTS
        else:
            maybe_total = first is None
        if maybe_total and is_total_row(cells):
            plan.skipped_totals.append(number)
            continue
        if fill is not None:
            cells = fill(number, cells, plan)
        values, bad = {}, set()
        width = len(cells)
        for position, (index, key, parse, header, memo) in enumerate(columns):
            raw = cells[index] if index < width else None
            last = above[position]
            if raw.__class__ is last[0].__class__ and raw == last[0]:
                values[key] = last[1]
                continue
            if memo is not None:
                # bool 1 == int 1 == float 1.0: only text cells are remembered by value.
                memo_key = raw if raw.__class__ is str else (raw.__class__, raw)
                found = memo.get(memo_key, _MISSING)
                if found is not _MISSING:
                    values[key] = found
                    above[position] = (raw, found)
                    continue
            try:
                value = values[key] = parse(raw)
            except CellError as exc:
                plan.errors.add(number, header, str(exc))
                bad.add(key)
                continue
            above[position] = (raw, value)
            if memo is not None and len(memo) < MEMO_SIZE:
                memo[memo_key] = value
        rows.append(Row(number, values, bad))
        if done % step == 0:
            ctx.progress(share[0] + share[1] * done // total, _("正在逐格检查"))
    plan.total_rows = len(rows)
    return rows


#: How many of the rows filled from above the preview lists by number.
FILLED_LISTED = 20


def _blank(cell):
    return cell is None or (cell.__class__ is str and not cell.strip())


def _fill_down(kind, positions):
    """For a kind with ``fill_down`` columns present in the file, ``fill(number, cells,
    plan)``: the row's cells, where its first fill-down column (the key: 户编号) is
    blank, with each blank fill-down cell taken from the last row above whose key
    was filled.

    That is how the file read before its merged cells were unmerged: Excel and WPS
    leave a merged block's value in its top cell only, so a roster whose household
    columns were merged down each household's rows has them blank below the first.
    A cell written on such a row is kept (and checked against its household's other
    rows as usual).  Rows above the first filled key stay as they are (a required
    key left blank is an error there).  Returns None when there is nothing to fill.
    """
    keys = kind.fill_down
    if not keys:
        return None
    at = {column.key: index for index, column, _header in positions}
    if keys[0] not in at:
        return None
    key_index = at[keys[0]]
    indexes = [at[key] for key in keys if key in at]
    above = None

    def fill(number, cells, plan):
        nonlocal above
        width = len(cells)
        if key_index < width and not _blank(cells[key_index]):
            above = {i: cells[i] for i in indexes if i < width}
            return cells
        if above is None:
            return cells
        cells = list(cells)
        cells.extend([None] * (max(above) + 1 - width))  # a short row: nothing if not
        for i, value in above.items():
            if _blank(cells[i]):
                cells[i] = value
        plan.filled_down += 1
        if len(plan.filled_rows) < FILLED_LISTED:
            plan.filled_rows.append(number)
        return cells

    return fill


#: What a county's file writes in the first filled cell of a row that sums the
#: rows above it (合计, 小计 per settlement, 总计): such a row is no record.
TOTAL_WORDS = frozenset({"合计", "小计", "总计", "共计", "总合计", "total", "subtotal"})
TOTAL_STARTS = frozenset(word[0] for word in TOTAL_WORDS) | {"T", "S"}  # "Total" too
_SPACES = re.compile(r"\s+")


def is_total_row(cells):
    """Whether the first filled cell of ``cells`` is a total's label alone
    (「合　计」, 「小计：」 and "Total" too)."""
    for cell in cells:
        if cell is None or cell == "":
            continue
        if cell.__class__ is not str or cell.lstrip()[:1] not in TOTAL_STARTS:
            return False
        word = _SPACES.sub("", cell).rstrip(":：").lower()
        return word in TOTAL_WORDS
    return False


def example_marks():
    """The marks that begin an example row's first cell, in every language offered."""
    marks = set()
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            marks.add(str(EXAMPLE_MARK))
    return tuple(marks)


def plan_file(kind, sheet, ctx):
    plan = Plan(kind)
    if sheet.more:  # the sheets the user asked for together
        plan.sheets = [part.sheet_name for part in (sheet, *sheet.more)]
    elif sheet.other_sheets:  # the sheet read is named only beside the ones not read
        plan.sheet_name, plan.other_sheets = sheet.sheet_name, list(sheet.other_sheets)
    rows, count = _parse_sheets(kind, [sheet, *sheet.more], plan, ctx)
    if rows:
        ctx.progress(55, _("正在比对已有记录"))
        kind.plan(rows, plan, ctx)
    else:
        # Example rows are not counted: the template uploaded as downloaded has none.
        plan.total_rows = count - plan.skipped_examples - len(plan.skipped_totals)
    if not count and not plan.errors:
        plan.errors.add(2, "", _("文件中没有数据行。"))
    plan.rows = rows
    return plan


def _parse_sheets(kind, parts, plan, ctx):
    """``(rows, data rows below the header rows)`` of every sheet of ``parts`` (``SheetData``),
    the later ones numbered on (``SHEET_STRIDE``).  Sheets read together must have the
    same columns: a row of one holds what the others' rows hold."""
    rows, count, first = [], 0, None
    for index, part in enumerate(parts):
        share = (5 + 45 * index // len(parts), 45 // len(parts))
        part_rows = parse_rows(kind, part, plan, ctx, offset=index * SHEET_STRIDE, share=share)
        count += len(part.rows)
        if first is None:
            first = (part.sheet_name, plan.present)
        elif plan.header_row in plan.errors.rows:
            part_rows = []  # its header row's errors say what is wrong with its columns
        elif plan.present != first[1]:
            _columns_differ(kind, part.sheet_name, first, plan)
            part_rows = []
        rows.extend(part_rows)
    plan.present = first[1]
    plan.total_rows = len(rows)
    return rows, count


def _columns_differ(kind, sheet, first, plan):
    """The error of a sheet whose columns are not the first sheet's (on its header row)."""
    first_sheet, first_present = first
    details = []
    for template, keys in (
        (_("缺少%(columns)s"), first_present - plan.present),
        (_("多出%(columns)s"), plan.present - first_present),
    ):
        headers = [f"“{c.header}”" for c in (*kind.columns, *kind.check_columns) if c.key in keys]
        if headers:
            details.append(template % {"columns": listed(headers)})
    plan.errors.add(
        plan.header_row,
        "",
        _(
            "工作表“%(sheet)s”的列与工作表“%(first)s”不同（%(details)s）：一起导入的工作表须有相同的列。"
        )
        % {
            "sheet": sheet,
            "first": first_sheet,
            "details": pgettext("list of sheets' rows", "；").join(details),
        },
    )


def plan_rows(kind, rows, present, ctx):
    """Plan again from rows parsed earlier (the commit after a clean check)."""
    plan = Plan(kind)
    plan.present = present
    plan.total_rows = len(rows)
    ctx.progress(55, _("正在比对已有记录"))
    kind.plan(rows, plan, ctx)
    plan.rows = rows
    return plan


# --- parsed rows between the check and the commit -----------------------------
# marshal (not pickle: it cannot build objects) of plain values; decimals and
# dates are stored as text and day numbers and rebuilt by column.
PACK_VERSION = 2
_ENCODE = {"decimal": str, "date": datetime.date.toordinal}
_DECODE = {"decimal": Decimal, "date": datetime.date.fromordinal}


def pack_rows(kind, plan):
    """The parsed rows, column by column (one list per column packs and loads fast)."""
    keys = [c.key for c in kind.columns if c.key in plan.present]
    rows = plan.rows
    columns = []
    for key in keys:
        values = [row.values[key] for row in rows]
        encode = _ENCODE.get(kind.column(key).kind)
        if encode is not None:
            values = [None if v is None else encode(v) for v in values]
        columns.append(values)
    numbers = [row.number for row in rows]
    return zlib.compress(marshal.dumps((PACK_VERSION, keys, numbers, columns)), 1)


def unpack_rows(kind, blob):
    """``(rows, present)``, or None when the blob cannot be read (then parse the file)."""
    try:
        version, keys, numbers, columns = marshal.loads(zlib.decompress(bytes(blob)))
    except (ValueError, EOFError, TypeError, zlib.error):
        return None
    if version != PACK_VERSION:
        return None
    for index, key in enumerate(keys):
        decode = _DECODE.get(kind.column(key).kind)
        if decode is not None:
            memo = {v: decode(v) for v in set(columns[index]) if v is not None}
            columns[index] = [None if v is None else memo[v] for v in columns[index]]
    rows = [
        Row(number, dict(zip(keys, values, strict=True)))
        for number, values in zip(numbers, zip(*columns, strict=True), strict=True)
    ]
    return rows, set(keys)


# --- the checked plan, kept for the commit --------------------------------------
# marshal again: plain values only; decimals, dates and date-times are tagged.
KEPT_VERSION = 1
_TAGS = {
    Decimal: ("decimal", str),
    datetime.date: ("date", datetime.date.toordinal),
    datetime.datetime: ("datetime", datetime.datetime.isoformat),
}
_UNTAG = {
    "decimal": Decimal,
    "date": datetime.date.fromordinal,
    "datetime": datetime.datetime.fromisoformat,
}


def freeze(values):
    """{name: value} with decimals and dates as tagged tuples (marshal takes them)."""
    frozen = {}
    for name, value in values.items():
        tag = _TAGS.get(value.__class__)
        frozen[name] = value if tag is None else (tag[0], tag[1](value))
    return frozen


def thaw(values):
    """The inverse of ``freeze``."""
    for name, value in values.items():
        if value.__class__ is tuple:
            values[name] = _UNTAG[value[0]](value[1])
    return values


def pack_kept(plan, basis):
    """The checked plan's writes and what it relied on, with where the history stood."""
    relied_on = (
        None
        if plan.relied_on is None
        else {label: sorted(pks) for label, pks in plan.relied_on.items()}
    )
    return zlib.compress(
        marshal.dumps(
            (KEPT_VERSION, basis, relied_on, sorted(plan.settlements), plan.digest, plan.kept())
        ),
        1,
    )


@dataclass
class Kept:
    basis: dict
    relied_on: dict  # {model label: set of pks}, or None: the kind did not say
    settlements: set
    digest: str
    data: object


def unpack_kept(blob):
    """A ``Kept``, or None when the blob cannot be read (then the commit plans again)."""
    try:
        version, basis, relied_on, settlements, digest, data = marshal.loads(
            zlib.decompress(bytes(blob))
        )
    except (ValueError, EOFError, TypeError, zlib.error):
        return None
    if version != KEPT_VERSION:
        return None
    if relied_on is not None:
        relied_on = {label: set(pks) for label, pks in relied_on.items()}
    return Kept(basis, relied_on, set(settlements), digest, data)


def commit(plan, ctx):
    for write in plan.writes:
        write(ctx)
