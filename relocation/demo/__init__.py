"""Demo data, assembled from the steps that apps declare.

Each app that has demo data declares one step in ``<app>/demo.py``::

    register(DemoStep("employment", build=build_step, remove=remove_step,
                      order=20, after=("communities",)))

``manage.py load_demo`` finds those modules the way ``django.contrib.admin``
finds ``admin.py``, builds the steps in ``order`` (each ``after`` step must come
earlier), prints each step's report lines as it finishes, and on ``--reset``
removes the steps in reverse order first.  This package knows no app.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules


class WorkerLost(RuntimeError):
    """A process making a step's rows ended without its task (killed: out of memory?)."""


@dataclass(frozen=True)
class DemoStep:
    """``build(context)`` returns report lines; ``remove()`` deletes what it built."""

    key: str
    build: Callable
    remove: Callable | None = None
    order: int = 100
    after: tuple = ()


@dataclass
class DemoContext:
    """What ``load_demo`` was asked for, and what earlier steps did."""

    seed: int
    #: None: the step's own default (5,000 households; 2,400,000 with ``national``)
    households: int | None = None
    settlements: int | None = None
    reset: bool = False
    #: the country's scale over many provinces (``load_demo --national``)
    national: bool = False
    #: store a year of past dashboard periods besides the running ones
    history: bool = True
    #: processes that make a step's rows, for the steps that can (the same rows for any number)
    workers: int = 1
    stdout: object = None
    style: object = None
    #: seconds ``--reset`` took to remove the old demo (None without it)
    reset_seconds: float | None = None
    #: keys of the steps that created new data in this run
    created: set = field(default_factory=set)
    #: lines printed after every step's report (e.g. the demo logins)
    closing: list = field(default_factory=list)


_STEPS = {}
_discovered = False


def register(step):
    known = _STEPS.get(step.key)
    if known is not None and known.build.__qualname__ != step.build.__qualname__:
        raise ImproperlyConfigured(f"demo step {step.key!r} declared twice")
    _STEPS[step.key] = step
    return step


def discover():
    """Import every installed app's ``demo`` module."""
    global _discovered
    _discovered = True
    autodiscover_modules("demo")


def steps():
    """The registered steps in build order (raises if a dependency is missing or late)."""
    if not _discovered:
        discover()
    ordered = sorted(_STEPS.values(), key=lambda step: (step.order, step.key))
    seen = set()
    for step in ordered:
        missing = [key for key in step.after if key not in seen]
        if missing:
            raise ImproperlyConfigured(
                f"demo step {step.key!r} needs {missing} to be registered with a lower order"
            )
        seen.add(step.key)
    return ordered


def select(keys):
    """The steps ``keys`` name and the steps they build on, in build order.

    Raises ``KeyError`` naming an unknown key.
    """
    ordered = steps()
    by_key = {step.key: step for step in ordered}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise KeyError(", ".join(unknown))
    wanted = set(keys)
    for step in reversed(ordered):
        if step.key in wanted:
            wanted.update(step.after)
    return [step for step in ordered if step.key in wanted]


def remove_all():
    """Remove every step's data, last step first."""
    for step in reversed(steps()):
        if step.remove is not None:
            step.remove()


def remove_dependents(key):
    """Remove the data of the steps that build on ``key`` (directly or not), last first."""
    ordered = steps()
    doomed = {key}
    for step in ordered:
        if doomed.intersection(step.after):
            doomed.add(step.key)
    for step in reversed(ordered):
        if step.key != key and step.key in doomed and step.remove is not None:
            step.remove()
