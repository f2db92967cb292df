"""The running export job's progress, for the code that reads the rows to export.

A tiny module of its own (no models): the resources of every app and the kind
exports count their rows with ``counting``, and nothing they import comes back here.
``exports.run`` sets ``current`` to the job's ``exports.Progress`` while it runs.
"""

import contextvars

current = contextvars.ContextVar("export_progress", default=None)


def in_worker():
    """Whether the export now being made is an export job's (on the job worker)."""
    return current.get() is not None


def expect(queryset):
    """Tell the running export job how many rows ``queryset`` has (its progress bar)."""
    progress = current.get()
    if progress is not None:
        progress.expect(queryset.count())


def counting(rows):
    """``rows`` as they are, counted for the running export job's progress bar."""
    progress = current.get()
    if progress is None:
        yield from rows
        return
    for row in rows:
        progress.tick()
        yield row
