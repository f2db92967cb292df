"""``manage.py job_worker``: django-tasks' ``db_worker`` that reports it is alive.

The same options as ``db_worker``, but every queue by default (``--queue-name '*'``;
``--queue-name imports`` for a worker of spreadsheet imports alone).  Besides running the queued jobs it stamps a
heartbeat (the import page shows administrators whether a worker runs), and on
start marks failed the jobs a previous worker died in the middle of (and
forgets that worker's heartbeat).

On SIGTERM ``db_worker`` raises ``SystemExit`` wherever its main thread is:
possibly between ``BEGIN`` and the start of the atomic block that takes the
next job, which then never rolls back.  That transaction held SQLite's write
lock (or a row lock) while the worker waited for its heartbeat thread to
delete its row, so the worker, and every other worker waiting on the lock,
took half a minute to stop.  The worker now rolls back and closes its
connection first.
"""

import contextlib
import os

from django.db import DatabaseError, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from relocation.spreadsheets.workers import Heartbeat, forget_dead_workers, sweep


class Command(DbWorkerCommand):
    help = "Run the job worker (db_worker) with a heartbeat; marks jobs of dead workers failed."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Every queue unless told otherwise (db_worker's default is "default" alone, which
        # would leave imports and exports waiting for ever: settings.TASK_QUEUES).
        parser.set_defaults(queue_name="*")

    def handle(self, *args, **options):
        # With --reload the first process only watches files; its child works.
        if options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)
        sweep()
        forget_dead_workers()
        heartbeat = Heartbeat(options["worker_id"])
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            abandon_transaction()
            heartbeat.stop()


def abandon_transaction():
    """Roll back whatever this thread's connection left open, then close it.

    The raw connection is rolled back, not Django's: after an interrupted
    ``atomic()`` Django's bookkeeping may not know the transaction is open.
    """
    raw = connection.connection
    if raw is not None:
        with contextlib.suppress(Exception):
            raw.rollback()
    with contextlib.suppress(DatabaseError):
        connection.close()
