"""``manage.py job_worker``: django-tasks' ``db_worker`` that reports it is alive.

The same options as ``db_worker``.  Besides running the queued jobs it stamps a
heartbeat (the import page shows administrators whether a worker runs), and on
start marks failed the jobs a previous worker died in the middle of (and
forgets that worker's heartbeat).
"""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from relocation.spreadsheets.workers import Heartbeat, forget_dead_workers, sweep


class Command(DbWorkerCommand):
    help = "Run the job worker (db_worker) with a heartbeat; marks jobs of dead workers failed."

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
            heartbeat.stop()
