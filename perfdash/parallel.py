"""Spread independent per-file / per-service work over the machine's cores.

Loading and generating are pure functions of one file or one service, so large
fleets are split into chunks handled by forked worker processes. Small inputs, one
core, or ``PERFDASH_JOBS=1`` run in-process (same results, easier debugging).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items the cost of starting workers outweighs the gain.
MIN_PARALLEL_ITEMS = 64
# Generation allocates millions of short-lived dicts and lists and few reference cycles:
# collecting the youngest generation every 50,000 allocations instead of Python's 700
# saves about a tenth of a large build's CPU time.
BATCH_GC_THRESHOLD = 50_000


@contextmanager
def batch_gc() -> Iterator[None]:
    """Fewer garbage collections while generating. Objects alive on entry (the loaded
    fleet) are frozen: never scanned again, and forked workers don't touch their pages."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(BATCH_GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


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
    function: Callable[[Sequence[T]], R], items: Sequence[T], *, jobs: int | None = None
) -> Iterator[R]:
    """``function`` over consecutive chunks of ``items``, each chunk's result yielded in
    input order as soon as it (and those before it) are done, so the caller can consume
    them while the workers go on."""
    workers = jobs or default_jobs()
    if not forks(len(items), jobs=workers):
        with batch_gc():
            result = function(items)
        yield result
        return
    size = -(-len(items) // (workers * 4))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    with batch_gc():  # set before the fork, so the workers inherit it
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        results = pool.map(function, chunks)
    with pool:
        yield from results
