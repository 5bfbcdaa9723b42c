"""Progress of long computations: a bar on a terminal, log lines anywhere else.

One reporter serves the engine (forward passes of a Sobol' design), the WAM
(images), the studies (images) and the command line, so that a run looks the
same in a terminal, under ``nohup`` and in a workflow job's log:

* **on a terminal** (the stream's ``isatty()``): a :mod:`tqdm` bar with the
  elapsed time, the rate and the estimated time left, erased when the task
  ends;
* **elsewhere** (a file, a pipe, a Snakemake log): lines that start with the
  wall-clock time; one when the task starts, then one each time another
  tenth of the work is done or
  :data:`INTERVAL_S` seconds have passed since the last line, whichever comes
  first, so a log shows that a long job is alive and how long it has left;
* **in both**: after the first step of a task of several steps, one line
  with the time it took and the estimated time of the whole task (the first
  batch includes warm-up, so the estimate errs on the long side); when the
  task ends, one final line that stays (``... done: 6,288 forward passes in
  1 min 25 s``).

Whether anything is shown is the caller's ``show``: ``False`` nothing,
``True`` a bar on a terminal and lines elsewhere, ``None`` (the library's
default) a bar on a terminal and nothing elsewhere, so that a library call in
a script stays quiet unless asked.

Labels: :func:`task` names what the enclosed work belongs to (``"image 2 of
5 (cat.jpg)"``); every line written inside it starts with the labels of the
enclosing tasks, outermost first. The labels live in a
:class:`contextvars.ContextVar`, so threads do not mix them up.

This module imports nothing from the package (it is one of its lowest
layers) and imports :mod:`tqdm` only when a bar is drawn.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from typing import Callable, Iterable, Iterator, TextIO

__all__ = ["INTERVAL_S", "FRACTION", "Progress", "task", "current_label", "mode", "track",
           "format_duration"]

#: Longest time between two log lines when the stream is not a terminal (seconds).
INTERVAL_S = 30.0
#: A log line is also written each time this share of the work has been done.
FRACTION = 0.1

_LABELS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "spectral_attribution_progress_labels", default=())


@contextlib.contextmanager
def task(label: str) -> Iterator[None]:
    """Prefix every progress line written inside the block with ``label``.

    Nested tasks join their labels with ``", "``, outermost first::

        with task("image 2 of 5 (cat.jpg)"):
            explainer(x)   # "image 2 of 5 (cat.jpg): wcam: 6,288 forward passes in 1 min 25 s"
    """
    token = _LABELS.set(_LABELS.get() + (str(label),))
    try:
        yield
    finally:
        _LABELS.reset(token)


def current_label() -> str:
    """The labels of the enclosing :func:`task` blocks, joined with ``", "`` (``""`` outside any)."""
    return ", ".join(_LABELS.get())


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def mode(show: bool | None, stream: TextIO | None = None) -> str | None:
    """How progress is shown: ``"bar"``, ``"lines"`` or ``None`` (nothing).

    ``show=False``: ``None``. ``show=None``: ``"bar"`` when ``stream``
    (default ``sys.stderr``) is a terminal, else ``None``. ``show=True``:
    ``"bar"`` on a terminal, else ``"lines"``.
    """
    if show is False:
        return None
    tty = _isatty(stream if stream is not None else sys.stderr)
    if tty:
        return "bar"
    return "lines" if show else None


def format_duration(seconds: float) -> str:
    """``"0.84 s"``, ``"42 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``: a duration for people."""
    if seconds != seconds or seconds < 0:  # NaN or negative: unknown
        return "?"
    if seconds < 10:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m} min {s:02d} s"
    h, m = divmod(int(round(seconds / 60)), 60)
    return f"{h} h {m:02d} min"


class Progress:
    """Report the progress of one task of ``total`` steps (see the module docstring).

    Parameters
    ----------
    total:
        Number of steps (forward passes, images); ``>= 0``.
    desc:
        What is counted, e.g. ``"wcam"``; written after the task labels.
    unit:
        Plural name of a step, e.g. ``"forward passes"`` or ``"images"``.
    show:
        ``False`` / ``None`` / ``True``, see :func:`mode`.
    stream:
        Where to write; default ``sys.stderr`` *at the time of writing* (so a
        redirection made after the reporter was created is followed).
    interval_s, fraction:
        Log-line spacing when the stream is not a terminal (default
        :data:`INTERVAL_S` seconds, :data:`FRACTION` of the work).
    estimate:
        Write the line with the estimated total time after the first step.
    clock:
        Monotonic clock in seconds (tests pass a fake one).
    timestamps:
        Start each log line (off a terminal) with the wall-clock time.

    Attributes
    ----------
    bar:
        The :mod:`tqdm` bar while one is drawn (on a terminal), else ``None``.

    Use it as a context manager, or call :meth:`close` at the end::

        with Progress(6288, "wcam", "forward passes", show=True) as p:
            for batch in batches:
                ...
                p.update(len(batch))
    """

    def __init__(self, total: int, desc: str, unit: str = "steps", show: bool | None = None,
                 stream: TextIO | None = None, interval_s: float = INTERVAL_S,
                 fraction: float = FRACTION, estimate: bool = True,
                 clock: Callable[[], float] = time.monotonic, timestamps: bool = True):
        self.total = max(int(total), 0)
        self.desc = str(desc)
        self.unit = str(unit)
        self._stream = stream
        self.mode = mode(show, self.stream)
        self.interval_s = float(interval_s)
        self.fraction = float(fraction)
        self.estimate = bool(estimate)
        self.clock = clock
        self.timestamps = bool(timestamps)
        self.prefix = current_label()
        self.done = 0
        self.closed = False
        self._start = clock()
        self._last_line = self._start
        self._last_step = 0  # index of the last fraction step reported
        self.bar = None
        if self.mode == "lines":
            self.write(f"{self.total:,} {self.unit}")
        elif self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self._name(), unit=self._short_unit(),
                             leave=False, file=self.stream, dynamic_ncols=True)

    @property
    def stream(self) -> TextIO:
        """The stream written to (``sys.stderr`` unless one was given)."""
        return self._stream if self._stream is not None else sys.stderr

    def _name(self) -> str:
        return f"{self.prefix}: {self.desc}" if self.prefix else self.desc

    def _short_unit(self) -> str:
        return {"forward passes": "pass", "images": "img"}.get(self.unit, self.unit.rstrip("s"))

    def write(self, message: str) -> None:
        """Write ``"<labels>: <desc>: message"`` as one line (above the bar on a terminal).

        Off a terminal the line starts with the wall-clock time
        (``[17:52:03] ``), so that a log shows when the job was last alive.
        """
        if self.mode is None:
            return
        line = f"{self._name()}: {message}"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            stamp = time.strftime("[%H:%M:%S] ") if self.timestamps else ""
            print(stamp + line, file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps done; writes the lines that are due."""
        if self.closed or self.mode is None:
            self.done += int(n)
            return
        first = self.done == 0
        self.done += int(n)
        now = self.clock()
        elapsed = now - self._start
        # integer arithmetic: 30 of 100 is the third tenth, not 2.999...
        steps = max(int(round(1 / self.fraction)), 1) if self.fraction > 0 else 0
        step = self.done * steps // self.total if self.total else 0
        estimated = False
        if first and self.estimate and 0 < self.done < self.total:
            total_time = elapsed * self.total / self.done
            self.write(f"first {self.done:,} of {self.total:,} {self.unit} in "
                       f"{format_duration(elapsed)}: about {format_duration(total_time)} in all")
            self._last_line, self._last_step, estimated = now, step, True
        if self.bar is not None:
            self.bar.update(int(n))
            return
        if self.done >= self.total or estimated:
            return  # the final line comes from close(); the estimate line says where we are
        if step > self._last_step or now - self._last_line >= self.interval_s:
            self._last_step = max(step, self._last_step)
            self._last_line = now
            left = elapsed * (self.total - self.done) / self.done if self.done else float("nan")
            self.write(f"{self.done:,} of {self.total:,} {self.unit} "
                       f"({100 * self.done / self.total:.0f} %), {format_duration(elapsed)} elapsed, "
                       f"about {format_duration(left)} left")

    def close(self) -> None:
        """End the task: erase the bar and write the final line (kept in every mode)."""
        if self.closed:
            return
        self.closed = True
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.mode is not None:
            what = (f"{self.done:,} {self.unit}" if self.done == self.total
                    else f"{self.done:,} of {self.total:,} {self.unit}")
            self.write(f"done: {what} in {format_duration(self.clock() - self._start)}")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:  # interrupted: erase the bar, no "done" line
            self.closed = True
            if self.bar is not None:
                self.bar.close()
                self.bar = None
        return False


def track(iterable: Iterable, show: bool | None, desc: str, total: int | None = None,
          unit: str = "images", label_items: bool = False) -> Iterator:
    """Yield the items of ``iterable`` while reporting them with :class:`Progress`.

    ``total`` defaults to ``len(iterable)``. With ``label_items``, the work
    done for item ``k`` runs inside ``task(f"{unit[:-1]} k of total")``
    (e.g. ``"image 2 of 5"``), so that nested reporters name it.
    """
    if total is None:
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, unit, show=show, estimate=True) as p:
        for k, item in enumerate(iterable, start=1):
            if label_items:
                with task(f"{unit[:-1] if unit.endswith('s') else unit} {k} of {total}"):
                    yield item
            else:
                yield item
            p.update(1)
