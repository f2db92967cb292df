"""``manage.py run_worker``: keep a job worker running, starting it again when it exits.

``make run`` uses it beside the web server, so that a worker killed by the
kernel (out of memory) or crashed by a bug is back within seconds.  In
production a service manager may do the same for ``job_worker`` (systemd
``Restart=always``); this command is for when there is none.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

#: A worker that lived shorter than this is failing at start: wait longer each time.
QUICK_EXIT_SECONDS = 10
MAX_DELAY_SECONDS = 60


class Command(BaseCommand):
    help = "Run the job worker and restart it whenever it exits."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*", help="queues, as for db_worker")
        parser.add_argument("--delay", type=float, default=1.0, help="seconds before a restart")

    def handle(self, *, queue_name, delay, **options):
        self.stopping = False
        self.child = None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)
        wait = delay
        while not self.stopping:
            started = time.monotonic()
            self.child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "django",
                    "job_worker",
                    "--queue-name",
                    queue_name,
                    "--no-reload",
                    "--verbosity",
                    str(options["verbosity"]),
                ],
                cwd=settings.BASE_DIR,
            )
            if self.stopping:  # the signal came while the child was being started
                self.child.terminate()
            code = self.child.wait()
            if self.stopping:
                break
            lived = time.monotonic() - started
            wait = delay if lived > QUICK_EXIT_SECONDS else min(wait * 2, MAX_DELAY_SECONDS)
            self.stderr.write(
                f"job worker (pid {self.child.pid}) exited with {code} after {lived:.0f} s; "
                f"starting it again in {wait:.0f} s"
            )
            deadline = time.monotonic() + wait
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.2)

    def stop(self, signum, frame):
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
