"""Running the demo steps: one after another, or side by side on PostgreSQL.

A step that names the steps it builds on (``after``) starts as soon as those are
done; a step that names none (the communities demo, the dashboards) runs alone,
after every step before it and before every step after it.  On PostgreSQL, with
more than one ``--workers``, the steps that may start together run side by side,
each in a forked process with its own connection and transaction, at most
``workers`` at a time: at the 2-million-people demo one step kept the database
busy while the machine's other core waited, and the next step's Python waited
for it.  Their loads lock only their own tables
(``relocation.rows.empty_tables_loaded_whole`` keeps the keys to other tables in
place, their triggers off, when the session may turn them off); where it may
not, or on SQLite, or inside a transaction (a test's), the steps run one after
another in this process, as before.  A step's rows are the same either way:
each step writes its own tables, with ids from its own tables' sequences.
"""

import multiprocessing
import multiprocessing.connection
import sys
import time
import traceback

from django.db import connection, connections

from relocation import rows

from . import WorkerLost


class StepFailed(Exception):
    """A step run in a process of its own failed: ``key``, and what it said (its traceback)."""

    def __init__(self, key, message, lost=False):
        super().__init__(message)
        self.key = key
        self.lost = lost


def side_by_side(workers):
    """Whether ``load_demo`` may run steps side by side here (see the module's text)."""
    if workers < 2 or not sys.platform.startswith("linux"):  # macOS: fork is unsafe
        return False
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        return rows.may_skip_key_triggers(cursor)


def ready(ordered, done, running):
    """The steps of ``ordered`` (build order) that may start now, in that order.

    ``done`` and ``running``: keys.  A step with ``after`` waits for those steps and
    for every earlier step without ``after``; a step without it waits for every
    earlier step, and keeps every later one waiting.
    """
    found = []
    for index, step in enumerate(ordered):
        if step.key in done or step.key in running:
            continue
        earlier = ordered[:index]
        if not step.after:
            if all(s.key in done for s in earlier):
                found.append(step)
            break  # nothing later starts before it is done
        barriers = [s.key for s in earlier if not s.after]
        if all(key in done for key in (*step.after, *barriers)):
            found.append(step)
    return found


class _Relay:
    """A forked step's ``stdout``: each line goes to ``load_demo``'s process, which prints it."""

    def __init__(self, pipe):
        self.pipe = pipe

    def write(self, msg="", style_func=None, ending=None):
        self.pipe.send(("say", msg, ending))

    def flush(self):
        pass


def _build(step, context):
    """``step``'s report lines; a lost worker process raises ``StepFailed``."""
    try:
        return list(step.build(context))
    except WorkerLost:
        raise StepFailed(step.key, traceback.format_exc(), lost=True) from None


def _child(step, context, pipe):
    """In the forked process: build ``step``, send its report, what it created and the
    closing lines it added, or what went wrong."""
    context.stdout = _Relay(pipe)
    created, closing = set(context.created), len(context.closing)
    try:
        lines = _build(step, context)
        message = ("done", lines, sorted(context.created - created), context.closing[closing:])
    except StepFailed as exc:
        message = ("lost", str(exc))
    except BaseException:
        message = ("failed", traceback.format_exc())
    # Closed before the word goes: the server counts the step's writes as its session
    # ends (``load_demo``'s ANALYZE looks for them).
    connections.close_all()
    pipe.send(message)
    pipe.close()


class Runner:
    """Runs ``ordered`` steps for ``load_demo``: ``run(started, finished)`` calls
    ``started(step)`` as each starts (in this process, before it starts: the
    step's table sizes are taken there), ``finished(step, lines, seconds)`` as
    each ends, and writes the forked steps' own lines to ``context.stdout`` as
    they come."""

    def __init__(self, ordered, context, slots):
        self.ordered = ordered
        self.context = context
        self.slots = slots

    def run(self, started, finished):
        if self.slots < 2:
            for step in self.ordered:
                started(step)
                began = time.monotonic()
                lines = _build(step, self.context)
                finished(step, lines, time.monotonic() - began)
            return
        self._side_by_side(started, finished)

    def _start(self, step, started, running):
        started(step)
        connections.close_all()  # the child opens its own
        forked = multiprocessing.get_context("fork")
        receive, send = forked.Pipe(duplex=False)
        process = forked.Process(
            target=_child, args=(step, self.context, send), name=f"demo-{step.key}"
        )
        process.start()
        send.close()
        running[receive] = (step, process, time.monotonic())

    def _side_by_side(self, started, finished):
        done, running, failure = set(), {}, None  # running: {pipe: (step, process, began)}
        while True:
            busy = {step.key for step, _process, _began in running.values()}
            waiting = ready(self.ordered, done, busy) if failure is None else []
            for step in waiting[: self.slots - len(running)]:
                self._start(step, started, running)
            if not running:
                break
            for pipe in multiprocessing.connection.wait(list(running)):
                step, process, began = running[pipe]
                try:
                    message = pipe.recv()
                except EOFError:
                    message = ("lost", f"the process of step {step.key} ended without a word")
                if message[0] == "say":
                    self.context.stdout.write(message[1], ending=message[2])
                    continue
                process.join()
                pipe.close()
                del running[pipe]
                if message[0] == "done":
                    _kind, lines, created, closing = message
                    self.context.created.update(created)
                    self.context.closing.extend(closing)
                    done.add(step.key)
                    finished(step, lines, time.monotonic() - began)
                elif failure is None:  # the first failure; the others running finish
                    failure = StepFailed(step.key, message[1], lost=message[0] == "lost")
        if failure is not None:
            raise failure
