"""A progress bar on standard error while large inputs are read.

The bar is for a person watching a terminal: it is drawn only when standard error is a terminal,
the report is the text format and goes to the terminal or to a file (:func:`wanted`), and only
when the inputs add up to at least ``MIN_BYTES`` (a small log is read before a bar would be worth
drawing). Machine formats (JSON, SARIF, GitHub annotations, Markdown, HTML), a report piped to
another program, piped or redirected standard error, ``TERM=dumb`` and CI logs never get one, so
that nothing but the report is ever written to a pipe.

Usage (the engine reports bytes as it reads records)::

    with progress(paths, enabled=wanted(fmt, to_file=output is not None)) as tracker:
        for path in files:
            for record in sources.read(path, diagnostics):
                tracker(record.size)
                ...
            tracker.file_done(path)

``tracker(n)`` adds ``n`` bytes read; ``tracker.file_done(path)`` moves the bar to the end of
that file, whatever the records' sizes added up to (malformed lines, whitespace, a cassette's YAML
around the bodies, or a file that could not be read). The total is the files' sizes on disk,
a gzip file counted at its uncompressed size (the gzip trailer's ``ISIZE``), so that it matches
the bytes of the records read from it. Standard input has no known size: it adds to the count,
not to the total. When disabled, the tracker does nothing and nothing is written.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported only when a bar is drawn
    from rich.console import Console

__all__ = ["MIN_BYTES", "Tracker", "input_size", "progress", "wanted"]

MIN_BYTES = 16 * 1024 * 1024
_FLUSH_BYTES = 1024 * 1024  # hand bytes to rich in batches: a million small records stay cheap
_FLUSH_SECONDS = 0.1
_STDIN = "-"


def wanted(
    fmt: str,
    *,
    to_file: bool = False,
    stderr: IO[Any] | None = None,
    stdout: IO[Any] | None = None,
) -> bool:
    """True when a bar may be drawn on ``stderr`` while the report is produced.

    Only for the text format, with standard error a terminal (not a dumb one, not CI), and the
    report going to a terminal too or to a file (``to_file``: ``--output FILE``): a report piped
    into a pager or another program gets no bar scribbled over it.
    """
    if fmt != "text":
        return False
    if not _is_tty(stderr if stderr is not None else sys.stderr):
        return False
    if not to_file and not _is_tty(stdout if stdout is not None else sys.stdout):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return not (os.environ.get("CI") or os.environ.get("GITHUB_ACTIONS"))


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def input_size(path: str) -> int:
    """Bytes the records of ``path`` are read from: a gzip file's uncompressed size, 0 if unknown."""
    if path == _STDIN:
        return 0
    try:
        size = os.path.getsize(path)
    except OSError:
        return 0
    if not path.endswith(".gz") or size < 18:  # smaller than a gzip header and trailer
        return size
    try:
        with open(path, "rb") as handle:
            handle.seek(-4, os.SEEK_END)
            isize = int.from_bytes(handle.read(4), "little")
    except OSError:
        return size
    # ISIZE is the size modulo 2**32 (and of the last member only): below the compressed size it
    # has wrapped or lies, and the compressed size is the better guess.
    return max(isize, size)


def _expand(paths: Iterable[str]) -> list[str]:
    """The files the run will read: directories expanded as the sources stage does."""
    from prefixlint import sources
    from prefixlint.model import InputError

    files: list[str] = []
    for given in paths:
        try:
            files.extend(sources.discover([given]))
        except InputError:
            continue  # reported by the run itself
    return files


class Tracker:
    """Callable ``tracker(nbytes)``; ``tracker.file_done(path)`` snaps the bar to the file's end."""

    def __init__(self, bar: Any = None, task: Any = None, sizes: dict[str, int] | None = None) -> None:
        self._bar = bar
        self._task = task
        self._sizes = sizes or {}
        self._done = 0  # bytes of the files finished
        self._current = 0  # bytes counted in the file being read
        self._pending = 0  # counted but not yet handed to the bar
        self._last = time.monotonic()

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    @property
    def completed(self) -> int:
        """Bytes counted so far (finished files at their full size)."""
        return self._done + self._current

    def __call__(self, nbytes: int) -> None:
        if self._bar is None or nbytes <= 0:
            return
        self._current += nbytes
        self._pending += nbytes
        if self._pending >= _FLUSH_BYTES or time.monotonic() - self._last >= _FLUSH_SECONDS:
            self._flush()

    def file_done(self, path: str) -> None:
        if self._bar is None:
            return
        size = self._sizes.get(path)
        self._done += size if size is not None and path != _STDIN else self._current
        self._current = 0
        self._flush()

    def _flush(self) -> None:
        self._pending = 0
        self._last = time.monotonic()
        self._bar.update(self._task, completed=self.completed)


@contextmanager
def progress(
    paths: list[str],
    enabled: bool,
    *,
    console: Console | None = None,
    min_bytes: int = MIN_BYTES,
) -> Iterator[Tracker]:
    """Draw a bar on stderr for reading ``paths`` (files or directories) while the block runs.

    Yields a :class:`Tracker`. Nothing is drawn (and rich is not imported) when ``enabled`` is
    false or the inputs total less than ``min_bytes``. ``console`` replaces the stderr console
    (tests pass one writing to a buffer with ``force_terminal=True``). The bar is transient: it is
    erased when the block ends, leaving the terminal as the report left it.
    """
    if not enabled:
        yield Tracker()
        return
    files = _expand(paths)
    sizes = {path: input_size(path) for path in files}
    total = sum(sizes.values())
    if total < min_bytes:
        yield Tracker()
        return

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = console if console is not None else Console(stderr=True)
    label = f"Reading {len(files)} file{'s' if len(files) != 1 else ''}"
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield Tracker(bar, task, sizes)
