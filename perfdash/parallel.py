"""Spread independent per-file / per-service work over the machine's cores.

Loading and generating are pure functions of one file or one service, so large
fleets are split into chunks handled by forked worker processes. Small inputs, one
core, or ``PERFDASH_JOBS=1`` run in-process (same results, easier debugging). When
the caller stops early (an error, Ctrl-C, SIGTERM), the workers are terminated:
nothing is left running.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1  # prctl(2)
# Below this many items the cost of starting workers outweighs the gain.
MIN_PARALLEL_ITEMS = 64


def default_jobs() -> int:
    configured = os.environ.get("PERFDASH_JOBS")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )


def forks(items: int, *, jobs: int | None = None) -> bool:
    """Whether ``imap_chunks`` over this many items spreads them over worker processes."""
    return (
        (jobs or default_jobs()) > 1
        and items >= MIN_PARALLEL_ITEMS
        and "fork" in multiprocessing.get_all_start_methods()
    )


def map_chunks(
    function: Callable[[Sequence[T]], R], items: Sequence[T], *, jobs: int | None = None
) -> list[R]:
    """``function`` over consecutive chunks of ``items``, results in input order."""
    return list(imap_chunks(function, items, jobs=jobs))


def imap_chunks(
    function: Callable[[Sequence[T]], R],
    items: Sequence[T],
    *,
    jobs: int | None = None,
    chunks_per_worker: int = 4,
) -> Generator[R, None, None]:
    """``function`` over consecutive chunks of ``items``, each chunk's result yielded in
    input order as soon as it (and those before it) are done, so the caller can consume
    them while the workers go on. More chunks per worker: less time with a worker idle
    at the end, waiting for the last chunk of another, for more round trips."""
    workers = jobs or default_jobs()
    if not forks(len(items), jobs=workers):
        yield function(items)
        return
    size = -(-len(items) // (workers * chunks_per_worker))
    token = next(_tokens)
    tasks = [(token, i, i + size) for i in range(0, len(items), size)]
    # The workers are forked after this: they inherit the function and the items, and
    # only chunk bounds and results cross the pipes (pickling a loaded fleet's services
    # for every chunk cost the parent more than the workers' gain on small machines).
    _INHERITED[token] = (function, items)
    try:
        # Leaving the block early (an exception, a generator closed by its caller)
        # terminates the workers; a normal end waits for them.
        with fork_pool(workers) as pool:
            yield from pool.imap(_inherited_chunk, tasks)
    finally:
        del _INHERITED[token]


_INHERITED: dict[int, tuple[Callable[[Sequence[Any]], Any], Sequence[Any]]] = {}
_tokens = itertools.count()


def _inherited_chunk(task: tuple[int, int, int]) -> Any:
    token, start, stop = task
    function, items = _INHERITED[token]
    return function(items[start:stop])


def fork_pool(workers: int) -> multiprocessing.pool.Pool:
    """A pool of forked workers that leave Ctrl-C and SIGTERM to the parent and die with
    it; use it as a context (leaving the block terminates them)."""
    return multiprocessing.get_context("fork").Pool(workers, initializer=_worker_signals)


def _worker_signals() -> None:
    # The parent handles Ctrl-C and SIGTERM and terminates the workers; a worker just
    # ends (no traceback of its own from the Ctrl-C the whole process group receives).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # And if the parent is killed outright (SIGKILL, a crash), Linux kills the worker too.
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
